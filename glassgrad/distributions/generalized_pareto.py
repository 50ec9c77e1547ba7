"""``GeneralizedPareto``: the limit law of exceedances over a high threshold."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_params
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    r"""The generalized Pareto distribution GPD(μ, σ, ξ), as ``torch.distributions.GeneralizedPareto``.
    With z = (x − μ)/σ::

        log p(x)  = −log σ − (1/ξ + 1) log(1 + ξz)        (ξ ≠ 0);   −log σ − z  (ξ = 0)
        log S(x)  = −log(1 + ξz)/ξ                          (ξ ≠ 0);   −z          (ξ = 0)
        icdf(u)   = μ + σ/ξ · expm1(−ξ log(1 − u))          (ξ ≠ 0);   μ − σ log(1 − u)
        support   = [μ, μ − σ/ξ] for ξ < 0, [μ, ∞) otherwise
        mean = μ + σ/(1 − ξ) (NaN for ξ >= 1),  variance = σ²/((1 − ξ)²(1 − 2ξ)) (NaN for ξ >= ½)
        mode = μ,  H = log σ + ξ + 1

    ξ counts as 0 where |ξ| <= 1e-8 (PyTorch's ``isclose`` to 0). ``rsample`` is ``icdf`` of a
    uniform draw, differentiable in all three parameters. Special cases: Exponential (μ = ξ = 0),
    Pareto (ξ > 0, μ = σ/ξ), Uniform (ξ = −1).

    Args:
        loc: μ.
        scale: σ > 0.
        concentration: ξ (real).
        validate_args: check σ > 0 now and that log_prob's values lie in the support.

    Shape:
        ``batch_shape`` = broadcast(loc, scale, concentration); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = utils.broadcast_all(loc, scale, concentration)
        super().__init__(tuple(self.loc.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> GeneralizedPareto:
        names = ("loc", "scale", "concentration")
        return expand_params(self, GeneralizedPareto, batch_shape, names, _instance)

    def _zero_and_safe(self) -> tuple[Tensor, Tensor]:
        """Where ξ counts as 0, and ξ with those entries replaced by 1 (kept off the 1/ξ branch)."""
        conc = self.concentration
        zero = conc.abs() <= 1e-8
        return zero, gg.where(zero, gg.ones_like(conc), conc)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        upper = gg.where(self.concentration < 0, self.loc - self.scale / self.concentration, math.inf)
        return constraints.interval(self.loc, upper)

    @property
    def mean(self) -> Tensor:
        ok = self.concentration < 1
        safe = gg.where(ok, self.concentration, 0.5)
        return gg.where(ok, self.loc + self.scale / (1 - safe), math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        ok = self.concentration < 0.5
        safe = gg.where(ok, self.concentration, 0.25)
        return gg.where(ok, self.scale.pow(2) / ((1 - safe).pow(2) * (1 - 2 * safe)), math.nan)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        with gg.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        u = utils.standard_uniform(self._extended_shape(sample_shape), self.loc.dtype)
        return self.icdf(u)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        zero, safe = self._zero_and_safe()
        power = 1 / safe + gg.ones_like(z)
        # ξ = −1 (uniform): power 0 times log1p(−z) must stay 0 at the upper end
        nonzero = gg.where(power == 0, power, power * gg.log1p(safe * z))
        return -self.scale.log() - gg.where(zero, z, nonzero)

    def log_survival_function(self, value: Tensor) -> Tensor:
        """log P(X > value)."""
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        zero, safe = self._zero_and_safe()
        return gg.where(zero, -z, -gg.log1p(safe * z) / safe)

    def log_cdf(self, value: Tensor) -> Tensor:
        """log P(X <= value)."""
        return gg.log1p(-self.log_survival_function(value).exp())

    def cdf(self, value: Tensor) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value: Tensor) -> Tensor:
        zero, safe = self._zero_and_safe()
        log_u = gg.log1p(-value)
        nonzero = self.loc + self.scale / safe * gg.expm1(-safe * log_u)
        return gg.where(zero, self.loc - self.scale * log_u, nonzero)

    def entropy(self) -> Tensor:
        return (self.scale.log() + self.concentration + 1).expand(tuple(self.batch_shape))
