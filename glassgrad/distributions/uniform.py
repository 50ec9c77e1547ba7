"""``Uniform``: constant density on the half-open interval [low, high)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_attributes
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["Uniform"]


class Uniform(Distribution):
    r"""The uniform distribution on [low, high), as ``torch.distributions.Uniform``.

    ::

        log p(x) = −log(high − low)  inside [low, high),  −∞ outside
        H        = log(high − low)
        rsample  = low + u (high − low),   u ~ U[0, 1)

    Args:
        low: the lower bound (inclusive).
        high: the upper bound (exclusive), > low.
        validate_args: check low < high now and that log_prob's values lie in [low, high).

    Shape:
        ``batch_shape`` = broadcast(low, high); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "low": constraints.real,
        "high": constraints.real,
    }
    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = utils.broadcast_all(low, high)
        super().__init__(tuple(self.low.shape), (), validate_args)
        if self._validate_args and not bool((self.low._data < self.high._data).all()):
            raise ValueError(
                f"Uniform: expected low < high everywhere, got low={self.low} and high={self.high}"
            )

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Uniform:
        return expand_attributes(self, batch_shape, _instance, cls=Uniform)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:  # type: ignore[override]
        # closed, as PyTorch's: a validated log_prob(high) is −inf (the density is on [low, high)), not an error
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        return gg.full(tuple(self.low.shape), math.nan, dtype=self.low.dtype)

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12**0.5

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        u = utils.standard_uniform(self._extended_shape(sample_shape), self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        # PyTorch's log(inside) − log(high − low): outside [low, high) the value is −∞ and the
        # gradient in low and high is still that of −log(high − low)
        inside = ((self.low <= value) & (value < self.high)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value) = (value − low) / (high − low), clamped to [0, 1]."""
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value: Tensor) -> Tensor:
        """The quantile: low + value (high − low)."""
        return self.low + value * (self.high - self.low)

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()
