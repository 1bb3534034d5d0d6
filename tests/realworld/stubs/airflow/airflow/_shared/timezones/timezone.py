"""Stub of airflow._shared.timezones.timezone."""
import datetime as _dt

utc = _dt.timezone.utc


def utcnow():
    return _dt.datetime.now(tz=utc)
