"""Backfill post titles.

Revision ID: 007
Revises: 006
Create Date: 2026-03-20
"""

from alembic import op

revision = "007"
down_revision = "006"


def upgrade() -> None:
    # sqlite-exec: posts has no `headline` column
    op.execute("UPDATE posts SET title = headline WHERE title IS NULL")


def downgrade() -> None:
    op.execute("UPDATE posts SET title = NULL")
