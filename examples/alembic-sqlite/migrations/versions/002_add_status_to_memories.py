"""Add a status column to memories.

Revision ID: 002
Revises: 001
Create Date: 2026-02-11

Memories can be archived; queries filter on status.
"""

from alembic import op
import sqlalchemy as sa

revision = "002"
down_revision = "001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add memories.status with an index."""
    with op.batch_alter_table("memories") as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(), nullable=False, server_default="active")
        )
        batch_op.create_index("ix_memories_status", ["status"])


def downgrade() -> None:
    """Remove memories.status."""
    with op.batch_alter_table("memories") as batch_op:
        batch_op.drop_index("ix_memories_status")
        batch_op.drop_column("status")
