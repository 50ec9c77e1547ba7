"""``InverseGamma``: the distribution of 1/X for X ~ Gamma(α, β)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints
from glassgrad.distributions.gamma import Gamma
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.transforms import PowerTransform
from glassgrad.tensor import Tensor

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    r"""The inverse-gamma distribution with shape α and rate β, as ``torch.distributions.InverseGamma``:
    ``TransformedDistribution(Gamma(α, β), PowerTransform(−1))`` (log_prob and rsample from it)::

        log p(y) = α log β − lgamma(α) − (α + 1) log y − β / y
        mean = β/(α − 1) (∞ for α <= 1),  mode = β/(α + 1),  variance = β²/((α − 1)²(α − 2)) (∞ for α <= 2)
        H = α + log β + lgamma(α) − (1 + α) ψ(α)

    Args:
        concentration: α > 0.
        rate: β > 0.
        validate_args: check both > 0 now and that log_prob's values are > 0.

    Shape:
        ``batch_shape`` = broadcast(concentration, rate); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "concentration": constraints.positive,
        "rate": constraints.positive,
    }
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        base = Gamma(concentration, rate, validate_args=validate_args)
        minus_one = gg.full((), -1.0, dtype=base.rate.dtype)
        super().__init__(base, PowerTransform(minus_one), validate_args=validate_args)

    @property
    def concentration(self) -> Tensor:
        return self.base_dist.concentration

    @property
    def rate(self) -> Tensor:
        return self.base_dist.rate

    @property
    def mean(self) -> Tensor:
        return gg.where(self.concentration > 1, self.rate / (self.concentration - 1), math.inf)

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        a = self.concentration
        return gg.where(a > 2, self.rate.pow(2) / ((a - 1).pow(2) * (a - 2)), math.inf)

    def entropy(self) -> Tensor:
        a = self.concentration
        return a + self.rate.log() + gg.lgamma(a) - (1 + a) * gg.digamma(a)
