"""Models that drifted from the migrations."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(sa.String, primary_key=True)
    email: Mapped[str] = mapped_column(sa.String)
    name: Mapped[Optional[str]] = mapped_column(sa.String)
    created_at: Mapped[datetime] = mapped_column(server_default=sa.func.now())


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[str] = mapped_column(sa.String, primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # model-drift: NOT NULL here, nullable in 005_add_title_to_posts.py
    title: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=sa.func.now())


post_tags = sa.Table(
    "post_tags",
    Base.metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

tags = sa.Table(
    "tags",
    Base.metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)
