"""``HalfNormal``: |Y| for Y ~ N(0, σ²), built as ``TransformedDistribution(Normal, AbsTransform)``."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints
from glassgrad.distributions._continuous import check_properties
from glassgrad.distributions.normal import Normal
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.transforms_more import AbsTransform
from glassgrad.tensor import Tensor

__all__ = ["HalfNormal"]


class HalfNormal(TransformedDistribution):
    r"""The half-normal distribution, as ``torch.distributions.HalfNormal``::

        log p(x) = log 2 + log N(x; 0, σ²)  (x >= 0, −∞ below)
        cdf(x)   = 2 Φ(x / σ) − 1,   icdf(p) = Φ⁻¹((p + 1) / 2) σ
        H        = ½ log(π σ² / 2) + ½;   mean = σ √(2/π),  variance = σ² (1 − 2/π),  mode = 0
        rsample  = |σ ε|,   ε ~ N(0, 1)

    Args:
        scale: σ > 0.
        validate_args: check σ > 0 now and that log_prob's values are >= 0.

    Shape:
        ``batch_shape`` = ``scale.shape``; ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        base = Normal(0, scale, validate_args=False)
        super().__init__(base, AbsTransform(), validate_args=validate_args)
        check_properties(self, ("scale",))

    def expand(self, batch_shape: tuple, _instance: Any = None) -> HalfNormal:
        shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        new = _instance if _instance is not None else HalfNormal.__new__(HalfNormal)
        base = Normal(self.base_dist.loc.expand(shape), self.scale.expand(shape), validate_args=False)
        TransformedDistribution.__init__(new, base, self.transforms, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self) -> Tensor:
        return gg.zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        lp = self.base_dist.log_prob(value) + math.log(2)
        return gg.where(value >= 0, lp, -math.inf)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob: Tensor) -> Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)
