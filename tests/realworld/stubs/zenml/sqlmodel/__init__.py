"""Stub of sqlmodel: Session (SQLAlchemy's) and sql.sqltypes.AutoString."""
from sqlalchemy.orm import Session  # noqa: F401

from . import sql  # noqa: F401
