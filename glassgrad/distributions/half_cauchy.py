"""``HalfCauchy``: |Y| for Y ~ Cauchy(0, γ), built as ``TransformedDistribution(Cauchy, AbsTransform)``."""

from __future__ import annotations

import math

import glassgrad as gg
from glassgrad.distributions._folded import Folded
from glassgrad.distributions.cauchy import Cauchy
from glassgrad.tensor import Tensor

__all__ = ["HalfCauchy"]


class HalfCauchy(Folded):
    r"""The half-Cauchy distribution, as ``torch.distributions.HalfCauchy``::

        log p(x) = log 2 + log Cauchy(x; 0, γ)  (x >= 0, −∞ below)
        cdf(x)   = 2 C(x) − 1,   icdf(p) = C⁻¹((p + 1) / 2)   (C: the Cauchy(0, γ) cdf)
        H        = log(2π γ);   mean = ∞,  variance = ∞,  mode = 0
        rsample  = |γ c|,   c ~ Cauchy(0, 1)

    Args:
        scale: γ > 0.
        validate_args: check γ > 0 now and that log_prob's values are >= 0.

    Shape:
        ``batch_shape`` = ``scale.shape``; ``event_shape`` = ().
    """

    _base = Cauchy
    _value_to_scale_dtype = True

    @property
    def mean(self) -> Tensor:
        return gg.full(tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self) -> Tensor:
        return gg.full(tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype)
