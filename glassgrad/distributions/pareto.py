"""``Pareto``: the power-law distribution on [scale, ∞), built as
``TransformedDistribution(Exponential(alpha), [ExpTransform(), AffineTransform(0, scale)])``."""

from __future__ import annotations

from typing import Any, ClassVar

from glassgrad.distributions import constraints, utils
from glassgrad.distributions.exponential import Exponential
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.transforms import AffineTransform, ExpTransform
from glassgrad.tensor import Tensor

__all__ = ["Pareto"]


class Pareto(TransformedDistribution):
    r"""The Pareto type-I distribution with scale x_m and shape α, as ``torch.distributions.Pareto``
    (X = x_m exp(E), E ~ Exp(α); log_prob, cdf, icdf and rsample come from the transforms)::

        log p(x) = log α + α log x_m − (α + 1) log x   (x >= x_m)
        mean = α x_m / (α − 1) (∞ for α <= 1),  variance = x_m² α / ((α − 1)² (α − 2)) (∞ for α <= 2)
        H    = log(x_m / α) + 1/α + 1

    Args:
        scale: x_m > 0.
        alpha: α > 0.
        validate_args: check both > 0 now and that log_prob's values are >= x_m.

    Shape:
        ``batch_shape`` = broadcast(scale, alpha); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "alpha": constraints.positive,
        "scale": constraints.positive,
    }
    has_rsample = True

    def __init__(self, scale: Any, alpha: Any, validate_args: bool | None = None) -> None:
        self.scale, self.alpha = utils.broadcast_all(scale, alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        transforms = [ExpTransform(), AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Pareto:
        shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        new = self._get_checked_instance(Pareto, _instance)
        Pareto.__init__(new, self.scale.expand(shape), self.alpha.expand(shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self) -> Tensor:
        a = self.alpha.clamp(min=1)  # α <= 1: a / 0 = ∞, as PyTorch
        return a * self.scale / (a - 1)

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    def entropy(self) -> Tensor:
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())
