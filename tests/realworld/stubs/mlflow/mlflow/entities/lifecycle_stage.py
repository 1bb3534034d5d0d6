"""Stub of mlflow.entities.lifecycle_stage."""


class LifecycleStage:
    ACTIVE, DELETED = "active", "deleted"

    @classmethod
    def view_type_to_stages(cls, view_type):
        return {1: [cls.ACTIVE], 2: [cls.DELETED], 3: [cls.ACTIVE, cls.DELETED]}[view_type]
