"""``Normal``: the Gaussian N(loc, scale²), with a reparameterised sample."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions.exp_family import ExponentialFamily
from glassgrad.tensor import Tensor

__all__ = ["Normal"]


class Normal(ExponentialFamily):
    r"""The normal distribution N(μ, σ²), as ``torch.distributions.Normal``.

    ::

        log p(x) = −(x − μ)² / (2σ²) − log σ − ½ log 2π
        H        = ½ + ½ log 2π + log σ
        rsample  = μ + σ ε,   ε ~ N(0, 1)      (so d sample / dμ = 1, d sample / dσ = ε)

    Args:
        loc: μ (a Tensor or a number); broadcast with scale to the batch shape.
        scale: σ > 0.
        validate_args: check σ > 0 now and that log_prob's values are real.

    Shape:
        ``batch_shape`` = broadcast(loc, scale); ``event_shape`` = ().

    Example:
        >>> import glassgrad as gg
        >>> d = Normal(gg.tensor([0.0, 1.0]), gg.tensor([1.0, 2.0]))
        >>> d.log_prob(gg.tensor([0.0, 1.0]))
        tensor([-0.9189, -1.6121])
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = utils.broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Normal:
        from glassgrad.distributions._continuous import expand_params  # (it imports the package)

        return expand_params(self, Normal, batch_shape, ("loc", "scale"), _instance)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale**2

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        eps = utils.standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale**2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value) = ½ (1 + erf((value − μ) / (σ √2))), differentiable in all three."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value: Tensor) -> Tensor:
        """The quantile: μ + σ √2 erfinv(2 value − 1), for value in [0, 1]. A float value is a
        ``TypeError`` from ``erfinv``, as in PyTorch (which does not validate icdf's argument)."""
        return self.loc + self.scale * gg.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    # ------------------------------------------------------------ exponential family: θ = (μ/σ², −1/(2σ²)),
    # F = −θ₁²/(4θ₂) + ½ log(−π/θ₂)
    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return -0.25 * x.pow(2) / y + 0.5 * (-math.pi / y).log()
