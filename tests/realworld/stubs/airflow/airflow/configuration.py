"""Stub of airflow.configuration: every option at its fallback."""


class _Conf:
    def get(self, section, key, fallback=None, **kwargs):
        return fallback

    def getint(self, section, key, fallback=1000, **kwargs):
        return fallback

    def getboolean(self, section, key, fallback=False, **kwargs):
        return fallback


conf = _Conf()
