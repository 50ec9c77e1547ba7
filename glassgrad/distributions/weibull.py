"""``Weibull``: built as ``TransformedDistribution(Exponential(1), [PowerTransform(1/k),
AffineTransform(0, scale)])``."""

from __future__ import annotations

from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions.exponential import Exponential
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.transforms import AffineTransform
from glassgrad.distributions.transforms_more import PowerTransform
from glassgrad.tensor import Tensor

__all__ = ["Weibull"]

_EULER = 0.57721566490153286060


class Weibull(TransformedDistribution):
    r"""The two-parameter Weibull distribution with scale λ and shape k, as
    ``torch.distributions.Weibull`` (X = λ E^{1/k}, E ~ Exp(1); log_prob, cdf, icdf and rsample
    come from the transforms, so rsample is differentiable in both)::

        mean = λ Γ(1 + 1/k),   variance = λ² (Γ(1 + 2/k) − Γ(1 + 1/k)²),   mode = λ ((k − 1)/k)^{1/k}
        H    = γ (1 − 1/k) + log(λ / k) + 1   (γ: Euler's constant)

    Args:
        scale: λ > 0.
        concentration: k > 0.
        validate_args: check both > 0 now and that log_prob's values are > 0.

    Shape:
        ``batch_shape`` = broadcast(scale, concentration); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "scale": constraints.positive,
        "concentration": constraints.positive,
    }
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.scale, self.concentration = utils.broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(gg.ones_like(self.scale), validate_args=validate_args)
        transforms = [
            PowerTransform(exponent=self.concentration_reciprocal),
            AffineTransform(loc=0, scale=self.scale),
        ]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Weibull:
        shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        new = self._get_checked_instance(Weibull, _instance)
        Weibull.__init__(new, self.scale.expand(shape), self.concentration.expand(shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.scale * gg.lgamma(1 + self.concentration_reciprocal).exp()

    @property
    def mode(self) -> Tensor:
        k = self.concentration
        return self.scale * ((k - 1) / k).pow(k.reciprocal())

    @property
    def variance(self) -> Tensor:
        r = self.concentration_reciprocal
        return self.scale.pow(2) * (gg.lgamma(1 + 2 * r).exp() - gg.lgamma(1 + r).exp().pow(2))

    def entropy(self) -> Tensor:
        r = self.concentration_reciprocal
        return _EULER * (1 - r) + (self.scale * r).log() + 1
