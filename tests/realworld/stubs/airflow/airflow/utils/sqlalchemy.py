"""Stub of airflow.utils.sqlalchemy: the column types, with airflow's impl
types (the value conversions are left out: the suite's tables are empty)."""
from sqlalchemy import PickleType, Text
from sqlalchemy.types import TIMESTAMP, TypeDecorator


class UtcDateTime(TypeDecorator):
    impl = TIMESTAMP(timezone=True)
    cache_ok = True


class ExtendedJSON(TypeDecorator):
    impl = Text
    cache_ok = True


class ExecutorConfigType(PickleType):
    cache_ok = True
