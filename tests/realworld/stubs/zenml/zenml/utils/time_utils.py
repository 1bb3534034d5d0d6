import datetime as _dt


def utc_now(tz_aware=False):
    now = _dt.datetime.now(_dt.timezone.utc)
    return now if tz_aware else now.replace(tzinfo=None)
