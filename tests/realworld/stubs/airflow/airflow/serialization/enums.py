"""Stub of airflow.serialization.enums."""
from enum import Enum


class Encoding(str, Enum):
    TYPE = "__type"
    VAR = "__var"
