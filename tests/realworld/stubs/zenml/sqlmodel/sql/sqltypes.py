"""Stub of sqlmodel.sql.sqltypes.AutoString, as sqlmodel defines it: a
String that is VARCHAR without length (MySQL gets 255)."""
from sqlalchemy import types


class AutoString(types.TypeDecorator):
    impl = types.String
    cache_ok = True
    mysql_default_length = 255

    def load_dialect_impl(self, dialect):
        impl = self.impl
        if impl.length is None and dialect.name == "mysql":
            return dialect.type_descriptor(types.String(self.mysql_default_length))
        return super().load_dialect_impl(dialect)
