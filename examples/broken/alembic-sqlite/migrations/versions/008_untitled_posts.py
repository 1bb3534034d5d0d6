"""Name untitled posts.

Revision ID: 008
Revises: 007
Create Date: 2026-03-21
"""

import enum

from alembic import op
import sqlalchemy as sa
from sqlalchemy import orm

revision = "008"
down_revision = "007"

Base = orm.declarative_base()


class Post(Base):
    """`posts` as this revision knows it."""

    class State(enum.Enum):
        DRAFT = 1
        PUBLISHED = 2

    __tablename__ = "posts"
    id = sa.Column(sa.Integer, primary_key=True)
    title = sa.Column(sa.String)
    state = sa.Column(sa.Enum(State))


def upgrade() -> None:
    op.execute(sa.update(Post.__table__).where(Post.title.is_(None)).values(title="Untitled"))


def downgrade() -> None:
    # undefined-attribute: the copied model calls its enum `State`
    op.execute(sa.update(Post.__table__).where(Post.state == Post.Status.DRAFT).values(title=None))
