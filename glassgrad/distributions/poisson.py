"""``Poisson``: counts of events at a given ``rate``."""

from __future__ import annotations

from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.backend import array_module, to_numpy
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_params
from glassgrad.distributions.exp_family import ExponentialFamily
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = ["Poisson"]


class Poisson(ExponentialFamily):
    r"""The Poisson distribution, as ``torch.distributions.Poisson``::

        log p(k) = k log λ − λ − log k!

    ``sample`` returns counts as floats of the rate's dtype (as ``torch.poisson``). PyTorch has no
    closed-form entropy for it, and neither does this class.

    Args:
        rate: λ >= 0 (a number or a tensor).
        validate_args: check the rate now and that log_prob's values are non-negative integers.

    Shape:
        ``batch_shape`` = the rate's shape; ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = utils.broadcast_all(rate)
        super().__init__(tuple(self.rate.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Poisson:
        return expand_params(self, Poisson, batch_shape, ("rate",), _instance)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with gg.no_grad():
            xp = array_module(self.rate._data)
            lam = to_numpy(self.rate.expand(*shape)._data)
            draws = get_generator().poisson(lam)  # vectorised over λ, on the host
            return Tensor(xp.asarray(draws, dtype=lam.dtype).reshape(shape), _wrap=True)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        rate, value = utils.broadcast_all(self.rate, value)
        return value.xlogy(rate) - rate - (value + 1).lgamma()

    # ------------------------------------------------------------ exponential family: θ = log λ, F = e^θ
    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.rate.log(),)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return x.exp()
