from . import sqltypes  # noqa: F401
