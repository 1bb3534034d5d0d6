"""Add users.name.

Revision ID: 002
Revises: 001
Create Date: 2026-01-20
"""

from alembic import op
import sqlalchemy as sa

revision = "002"
down_revision = "001"


def upgrade() -> None:
    # batch-mode: SQLite needs batch_alter_table for this
    op.add_column("users", sa.Column("name", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("name")
