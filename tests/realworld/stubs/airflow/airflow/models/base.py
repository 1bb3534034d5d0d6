"""Stub of airflow.models.base: the names the migrations import, as in
airflow-core 3.3.2 on SQLite (no collation)."""
from sqlalchemy import String

ID_LEN = 250
COLLATION_ARGS = {}

naming_convention = {
    "ix": "idx_%(column_0_N_label)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_uq",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


def StringID(*, length=ID_LEN, **kwargs):
    return String(length=length, **kwargs, **COLLATION_ARGS)
