"""``Cauchy``: the ratio of two independent standard normals, shifted and scaled (no mean)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_params
from glassgrad.distributions.distribution import Distribution
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = ["Cauchy"]


class Cauchy(Distribution):
    r"""The Cauchy (Lorentz) distribution, as ``torch.distributions.Cauchy``::

        log p(x) = −log π − log γ − log(1 + ((x − x₀) / γ)²)
        cdf(x)   = atan((x − x₀) / γ) / π + ½,   icdf(p) = x₀ + γ tan(π (p − ½))
        H        = log(4π γ);  mean NaN, variance ∞ (undefined), mode x₀
        rsample  = x₀ + γ c,   c ~ Cauchy(0, 1)

    Args:
        loc: x₀ (real).
        scale: γ > 0.
        validate_args: check γ > 0 now and that log_prob's values are real.

    Shape:
        ``batch_shape`` = broadcast(loc, scale); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = utils.broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Cauchy:
        return expand_params(self, Cauchy, batch_shape, ("loc", "scale"), _instance)

    @property
    def mean(self) -> Tensor:
        return gg.full(tuple(self._extended_shape()), math.nan, dtype=self.loc.dtype)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return gg.full(tuple(self._extended_shape()), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        c = get_generator().standard_cauchy(shape).astype(self.loc._data.dtype, copy=False)
        return self.loc + gg.tensor(c) * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z**2).log1p()

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value: Tensor) -> Tensor:
        return gg.tan(math.pi * (value - 0.5)) * self.scale + self.loc  # a float: TypeError, as PyTorch

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()
