"""Stub of optuna.distributions: names the v3.0.0.a data migration imports.
They only run on existing rows, never on the suite's empty database."""


class BaseDistribution:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class FloatDistribution(BaseDistribution): pass
class IntDistribution(BaseDistribution): pass
class UniformDistribution(BaseDistribution): pass
class LogUniformDistribution(BaseDistribution): pass
class DiscreteUniformDistribution(BaseDistribution): pass
class IntUniformDistribution(BaseDistribution): pass
class IntLogUniformDistribution(BaseDistribution): pass


def _unreachable(*args, **kwargs):
    raise NotImplementedError("stub: optuna distributions are only used on existing rows")


json_to_distribution = distribution_to_json = _convert_old_distribution_to_new_distribution = _unreachable
