"""Stub of buildbot.util.sautils: Table() as buildbot defines it."""
import sqlalchemy as sa


def Table(*args, **kwargs):
    kwargs["mysql_character_set"] = "utf8"
    return sa.Table(*args, **kwargs)
