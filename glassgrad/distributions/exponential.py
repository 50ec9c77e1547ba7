"""``Exponential``: the waiting time of a Poisson process with rate λ."""

from __future__ import annotations

from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_params
from glassgrad.distributions.exp_family import ExponentialFamily
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    r"""The exponential distribution Exp(λ), as ``torch.distributions.Exponential``::

        log p(x) = log λ − λ x   (x >= 0)
        cdf(x)   = 1 − exp(−λ x),   icdf(p) = −log(1 − p) / λ
        H        = 1 − log λ
        rsample  = e / λ,   e ~ Exp(1)      (so d sample / dλ = −sample / λ)

    Args:
        rate: λ > 0 (a Tensor or a number).
        validate_args: check λ > 0 now and that log_prob's values are >= 0.

    Shape:
        ``batch_shape`` = ``rate.shape``; ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {"rate": constraints.positive}
    support = constraints.nonnegative
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = utils.broadcast_all(rate)
        super().__init__(tuple(self.rate.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Exponential:
        return expand_params(self, Exponential, batch_shape, ("rate",), _instance)

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return gg.zeros_like(self.rate)

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate.pow(-2)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        e = get_generator().standard_exponential(shape).astype(self.rate._data.dtype, copy=False)
        return gg.tensor(e) / self.rate

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value: Tensor) -> Tensor:
        return -gg.log1p(-value) / self.rate  # a float: TypeError, as PyTorch

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()

    # ------------------------------------------------------------ exponential family: θ = −λ, F = −log(−θ)
    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (-self.rate,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return -(-x).log()
