"""Stub of uuid6: uuid7() is only used to fill rows."""
import uuid


def uuid7():
    return uuid.uuid4()
