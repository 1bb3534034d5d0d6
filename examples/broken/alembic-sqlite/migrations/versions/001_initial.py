"""Create the users table.

Revision ID: 001
Revises:
Create Date: 2026-01-05
"""

from alembic import op
import sqlalchemy as sa

revision = "001"
down_revision = None


def upgrade() -> None:
    # timestamp-columns: no updated_at
    op.create_table(
        "users",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("users")
