"""Stub of optuna.study: StudyDirection, as optuna defines it."""
import enum


class StudyDirection(enum.IntEnum):
    NOT_SET = 0
    MINIMIZE = 1
    MAXIMIZE = 2
