"""``Gamma``: the distribution of a sum of α exponential waiting times of rate β (α may be real)."""

from __future__ import annotations

from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import (
    expand_params,
    standard_gamma,
    tiny,
)
from glassgrad.distributions.exp_family import ExponentialFamily
from glassgrad.ops.special_gamma import Gammainc
from glassgrad.tensor import Tensor

__all__ = ["Gamma"]


class Gamma(ExponentialFamily):
    r"""The gamma distribution Γ(α, β) (shape α, rate β), as ``torch.distributions.Gamma``::

        log p(x) = α log β + (α − 1) log x − β x − lgamma(α)
        H        = α − log β + lgamma(α) + (1 − α) ψ(α)
        cdf(x)   = P(α, β x)   (the regularized lower incomplete gamma function)
        mean = α / β,  mode = max((α − 1) / β, 0),  variance = α / β²
        rsample  = g / β,   g ~ Γ(α, 1) (NumPy's generator), floored at the dtype's tiny

    ``rsample`` is differentiable in β, and in α by implicit reparameterisation: with u the draw's
    place in its CDF held fixed, dg/dα = −(∂P(α, g)/∂α) / p(g), computed to rounding
    (``ops/gamma_reparam.py``; PyTorch approximates it to about 1e-3).

    Args:
        concentration: α > 0.
        rate: β > 0.
        validate_args: check α, β > 0 now and that log_prob's values are >= 0.

    Shape:
        ``batch_shape`` = broadcast(concentration, rate); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "concentration": constraints.positive,
        "rate": constraints.positive,
    }
    support = constraints.nonnegative
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = utils.broadcast_all(concentration, rate)
        super().__init__(tuple(self.concentration.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Gamma:
        return expand_params(self, Gamma, batch_shape, ("concentration", "rate"), _instance)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        with gg.no_grad():
            return self._draw(sample_shape)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        return self._draw(sample_shape)

    def _draw(self, sample_shape: tuple) -> Tensor:
        value = standard_gamma(self.concentration, self._extended_shape(sample_shape)) / self.rate
        # the floor moves the value only; the gradient stays that of g / β, as PyTorch's
        return value + (value.detach().clamp(min=tiny(value)) - value.detach())

    def log_prob(self, value: Tensor) -> Tensor:
        # as PyTorch's (``torch.as_tensor(value, dtype=rate.dtype)``): a number is taken, and a
        # float64 value on float32 parameters gives float32 (the cast is recorded)
        value = gg.as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        conc, rate = self.concentration, self.rate
        return gg.xlogy(conc, rate) + gg.xlogy(conc - 1, value) - rate * value - gg.lgamma(conc)

    def cdf(self, value: Tensor) -> Tensor:
        """P(α, β x), the regularized lower incomplete gamma function: differentiable in β and
        value; a gradient in α raises NotImplementedError at backward (PyTorch has none either)."""
        if self._validate_args:
            self._validate_sample(value)
        return Gammainc.apply(*utils.broadcast_all(self.concentration, self.rate * value))

    def entropy(self) -> Tensor:
        conc = self.concentration
        return conc - self.rate.log() + gg.lgamma(conc) + (1.0 - conc) * gg.digamma(conc)

    # ------------------------------------------------------------ exponential family: θ = (α − 1, −β),
    # F = lgamma(θ₁ + 1) + (θ₁ + 1) log(−1/θ₂)
    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return gg.lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()
