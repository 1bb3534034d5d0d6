"""Stub of mlflow.exceptions."""


class MlflowException(Exception):
    @classmethod
    def invalid_parameter_value(cls, message, *args, **kwargs):
        return cls(message)
