"""What ``HalfNormal`` and ``HalfCauchy`` share: |Y| for Y of a location-0 family with a scale,
built as ``TransformedDistribution(base(0, scale), AbsTransform)``, as PyTorch builds them.

The density folds the base's onto x >= 0: log p(x) = log 2 + log p_Y(x) (−∞ below 0);
cdf(x) = 2 F_Y(x) − 1, icdf(p) = F_Y⁻¹((p + 1) / 2); H = H_Y − log 2; the mode is 0.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints
from glassgrad.distributions._continuous import check_properties
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.transforms_more import AbsTransform
from glassgrad.tensor import Tensor

__all__: list[str] = []


class Folded(TransformedDistribution):
    """The folded ``_base`` family (a class taking ``(loc, scale, validate_args=)``)."""

    _base: ClassVar[type]
    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {"scale": constraints.positive}
    # PyTorch's HalfCauchy (not its HalfNormal) casts log_prob's value to the scale's dtype after the
    # check: a float64 value on float32 parameters gives float32
    _value_to_scale_dtype: ClassVar[bool] = False
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        base = self._base(0, scale, validate_args=False)
        super().__init__(base, AbsTransform(), validate_args=validate_args)
        check_properties(self, ("scale",))

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Folded:
        shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        cls = type(self)
        new = _instance if _instance is not None else cls.__new__(cls)
        base = self._base(self.base_dist.loc.expand(shape), self.scale.expand(shape), validate_args=False)
        TransformedDistribution.__init__(new, base, self.transforms, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mode(self) -> Tensor:
        return gg.zeros_like(self.scale)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        if self._value_to_scale_dtype:
            value = gg.as_tensor(value, dtype=self.scale.dtype)
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
