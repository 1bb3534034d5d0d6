"""Stub of structlog: get_logger() as a standard-library logger."""
import logging


def get_logger(name=None, *args, **kwargs):
    return logging.getLogger(name)
