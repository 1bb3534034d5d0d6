from uuid6 import uuid7  # noqa: F401
