"""Stub of lazy_object_proxy: a Proxy that builds its object on first use
(airflow/migrations/db_types.py wraps StringID and TIMESTAMP in one)."""


class Proxy:
    def __init__(self, factory):
        object.__setattr__(self, "_factory", factory)
        object.__setattr__(self, "_target", None)

    def _wrapped(self):
        if self._target is None:
            object.__setattr__(self, "_target", self._factory())
        return self._target

    def __call__(self, *args, **kwargs):
        return self._wrapped()(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._wrapped(), name)
