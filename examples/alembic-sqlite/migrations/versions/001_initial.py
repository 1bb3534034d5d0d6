"""Create the memories table.

Revision ID: 001
Revises:
Create Date: 2026-01-05

The first table of the app: memories the assistant keeps.
"""

from alembic import op
import sqlalchemy as sa

revision = "001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create memories."""
    op.create_table(
        "memories",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_memories_created_at", "memories", ["created_at"])


def downgrade() -> None:
    """Drop memories."""
    op.drop_index("ix_memories_created_at", table_name="memories")
    op.drop_table("memories")
