"""Stub of optuna.study._study_direction, where optuna's models import
StudyDirection from."""
from optuna.study import StudyDirection

__all__ = ["StudyDirection"]
