"""Stub of dagster._core.storage.sql: the names the migrations import,
copied from dagster 1.13.29 (MySQL precision rules left out: SQLite only)."""
import sqlalchemy as db
from sqlalchemy.ext.compiler import compiles


class get_sql_current_timestamp(db.sql.expression.FunctionElement):
    """Like CURRENT_TIMESTAMP, but has the same semantics on MySQL, Postgres, and Sqlite."""

    type = db.types.DateTime()
    inherit_cache = True


@compiles(get_sql_current_timestamp)
def compiles_get_sql_current_timestamp_default(_element, _compiler, **_kw):
    return "CURRENT_TIMESTAMP"


class LongText(db.Text):
    pass


class MySQLCompatabilityTypes:
    UniqueText = db.String(512)
    LongText = LongText
