"""``LogNormal``: exp of a normal variable, built as ``TransformedDistribution(Normal, ExpTransform)``."""

from __future__ import annotations

from typing import Any, ClassVar

from glassgrad.distributions import constraints
from glassgrad.distributions.normal import Normal
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.transforms import ExpTransform
from glassgrad.tensor import Tensor

__all__ = ["LogNormal"]


class LogNormal(TransformedDistribution):
    r"""X = exp(Y), Y ~ N(μ, σ²), as ``torch.distributions.LogNormal`` (a ``TransformedDistribution``
    of ``Normal(loc, scale)`` through ``ExpTransform()``; log_prob, cdf, icdf and rsample come from it)::

        mean = exp(μ + σ²/2),   mode = exp(μ − σ²),   variance = (exp(σ²) − 1) exp(2μ + σ²)
        H    = H(N(μ, σ²)) + μ

    Args:
        loc: μ (real).
        scale: σ > 0.
        validate_args: check σ > 0 now and that log_prob's values are > 0.

    Shape:
        ``batch_shape`` = broadcast(loc, scale); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        base = Normal(loc, scale, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> LogNormal:
        shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        new = self._get_checked_instance(LogNormal, _instance)
        base = Normal(self.loc.expand(shape), self.scale.expand(shape), validate_args=False)
        TransformedDistribution.__init__(new, base, self.transforms, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def loc(self) -> Tensor:
        return self.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mean(self) -> Tensor:
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self) -> Tensor:
        return (self.loc - self.scale.pow(2)).exp()

    @property
    def variance(self) -> Tensor:
        scale2 = self.scale.pow(2)
        return scale2.expm1() * (2 * self.loc + scale2).exp()

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc
