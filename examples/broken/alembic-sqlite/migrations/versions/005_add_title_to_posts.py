"""Add posts.title.

Revision ID: 005
Revises: 004
Create Date: 2026-03-01
"""

from alembic import op
import sqlalchemy as sa

revision = "005"
down_revision = "004"


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(), nullable=True))


def downgrade() -> None:
    # rollback-required: a downgrade that does nothing
    pass
