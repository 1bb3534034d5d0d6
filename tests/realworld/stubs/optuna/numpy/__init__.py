"""Stub of the few numpy names optuna's v3.0.0.c/d migrations use (module-level
np.finfo(np.float32).max/min; the rest only on existing rows)."""
import math
import sys

float32 = "float32"


class finfo:
    def __init__(self, dtype):
        self.max = 3.4028234663852886e38
        self.min = -3.4028234663852886e38


isnan = math.isnan
isclose = math.isclose


def isposinf(x):
    return x == math.inf


def isneginf(x):
    return x == -math.inf
