"""``HalfNormal``: |Y| for Y ~ N(0, σ²), built as ``TransformedDistribution(Normal, AbsTransform)``."""

from __future__ import annotations

import math

from glassgrad.distributions._folded import Folded
from glassgrad.distributions.normal import Normal
from glassgrad.tensor import Tensor

__all__ = ["HalfNormal"]


class HalfNormal(Folded):
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

    _base = Normal

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)
