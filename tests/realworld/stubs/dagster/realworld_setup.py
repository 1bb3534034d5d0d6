"""Imported by run.py before dagster's chain: what DagsterInstance.upgrade()
does around Alembic (`with upgrading_instance(self): ...`), for a whole run."""
from dagster._core.instance import DagsterInstance
from dagster._core.storage.migration import utils

utils._UPGRADING_INSTANCE = DagsterInstance()
