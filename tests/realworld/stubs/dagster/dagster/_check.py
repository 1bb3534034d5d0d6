"""Stub of dagster._check: the one check migration/utils.py uses."""


class CheckError(Exception):
    pass


def invariant(condition, desc=None):
    if not condition:
        raise CheckError(desc or "invariant failed")
    return True
