"""Stub of dagster._core.instance."""


class DagsterInstance:
    """What the migrations ask of the instance being upgraded: no scheduler."""

    scheduler = None
