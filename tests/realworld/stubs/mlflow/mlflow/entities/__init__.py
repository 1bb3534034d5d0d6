"""Stub of mlflow.entities: RunStatus and ViewType as mlflow numbers them.

mlflow.entities is a regular package here (the wheel's own entities/ is not
unpacked), so its submodules live beside this file."""


class RunStatus:
    RUNNING, SCHEDULED, FINISHED, FAILED, KILLED = 1, 2, 3, 4, 5
    _NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}

    @classmethod
    def to_string(cls, status):
        return cls._NAMES[status]


class ViewType:
    ACTIVE_ONLY, DELETED_ONLY, ALL = 1, 2, 3
