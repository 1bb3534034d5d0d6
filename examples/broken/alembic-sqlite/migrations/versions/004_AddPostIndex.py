"""Index posts by user (sequential-numbering: the name is not snake_case).

Revision ID: 004
Revises: 003
Create Date: 2026-02-10
"""

from alembic import op

revision = "004"
down_revision = "003"


def upgrade() -> None:
    op.create_index("ix_posts_user_id", "posts", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_posts_user_id", table_name="posts")
