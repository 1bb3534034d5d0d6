"""Create posts.

Revision ID: 003
Revises: 001
Create Date: 2026-02-02
"""

from alembic import op
import sqlalchemy as sa

revision = "003"
# revision-chain: skips 002, which leaves two heads
down_revision = "001"


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("user_id", sa.String(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("posts")
