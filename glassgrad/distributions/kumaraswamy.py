"""``Kumaraswamy``: a beta-like distribution on [0, 1] with a closed-form CDF."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.transforms import AffineTransform, PowerTransform
from glassgrad.distributions.uniform import Uniform
from glassgrad.tensor import Tensor

__all__ = ["Kumaraswamy"]

_EULER = 0.57721566490153286060


def _moment(a: Tensor, b: Tensor, n: int) -> Tensor:
    """E[Xⁿ] = b · B(1 + n/a, b)."""
    first = 1 + n / a
    return b * (gg.lgamma(first) + gg.lgamma(b) - gg.lgamma(first + b)).exp()


class Kumaraswamy(TransformedDistribution):
    r"""The Kumaraswamy distribution with concentrations a (``concentration1``) and b
    (``concentration0``), as ``torch.distributions.Kumaraswamy``: X = (1 − U^{1/b})^{1/a} for
    U ~ Uniform(0, 1), i.e. a ``TransformedDistribution`` of U through ``PowerTransform(1/b)``,
    ``AffineTransform(1, −1)`` and ``PowerTransform(1/a)``::

        log p(x) = log a + log b + (a − 1) log x + (b − 1) log(1 − xᵃ)
        E[Xⁿ] = b B(1 + n/a, b),   H = (1 − 1/b) + (1 − 1/a)(ψ(b + 1) + γ) − log a − log b

    ``mode`` is NaN, as PyTorch's (its expression is NaN for every valid a, b); the true mode,
    ((a − 1)/(ab − 1))^{1/a} for a, b >= 1 (not both 1), is not what it returns.

    Args:
        concentration1: a > 0.
        concentration0: b > 0.
        validate_args: check both > 0 now and that log_prob's values lie in [0, 1].

    Shape:
        ``batch_shape`` = broadcast(concentration1, concentration0); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = utils.broadcast_all(concentration1, concentration0)
        c0 = self.concentration0
        base = Uniform(gg.zeros_like(c0), gg.ones_like(c0), validate_args=validate_args)
        transforms = [
            PowerTransform(exponent=c0.reciprocal()),
            AffineTransform(loc=1.0, scale=-1.0),
            PowerTransform(exponent=self.concentration1.reciprocal()),
        ]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Kumaraswamy:
        shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        new = self._get_checked_instance(Kumaraswamy, _instance)
        c1, c0 = self.concentration1.expand(shape), self.concentration0.expand(shape)
        Kumaraswamy.__init__(new, c1, c0, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return _moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> Tensor:
        # PyTorch evaluates log((a − 1)/(ab − 1))/a as log1p(−b)/b − log1p(−ab), which is NaN for
        # b > 1 (and −∞ − (−∞) at b = 1) and masks a < 1 or b < 1 to NaN: NaN for every valid
        # (a, b). Kept, so that ported programs see the same values (see the class docstring).
        return gg.full_like(self.concentration1, math.nan)

    @property
    def variance(self) -> Tensor:
        return _moment(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        harmonic = gg.digamma(b + 1) + _EULER
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic - a.log() - b.log()
