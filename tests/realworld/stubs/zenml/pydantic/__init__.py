"""Stub of pydantic: BaseModel, only subclassed at import time."""


class BaseModel:
    def __init__(self, **data):
        self.__dict__.update(data)
