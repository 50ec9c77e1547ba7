"""``VonMises``: the circular normal distribution on angles."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_params
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["VonMises"]

# Abramowitz & Stegun 9.8.1-9.8.4: polynomial approximations of I₀ and I₁ (relative error < 2e-7),
# in t = (x/3.75)² below 3.75 and in 3.75/x above (times eˣ/√x there). PyTorch uses the same ones,
# so log_prob and variance agree to rounding.
_SMALL = (
    (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2),
    (0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3),
)
_LARGE = (
    (0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2, -0.2057706e-1, 0.2635537e-1,
     -0.1647633e-1, 0.392377e-2),
    (0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1, 0.2282967e-1, -0.2895312e-1,
     0.1787654e-1, -0.420059e-2),
)  # fmt: skip


def _horner(y: Tensor, coef: tuple) -> Tensor:
    result: Any = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def _log_bessel_i(x: Tensor, order: int) -> Tensor:
    """log I_order(x) for x > 0 and order 0 or 1 (the A&S approximations above)."""
    if order not in (0, 1):
        raise ValueError(f"VonMises: expected a Bessel order of 0 or 1, got {order}")
    small = _horner((x / 3.75).pow(2), _SMALL[order])
    if order == 1:
        small = x.abs() * small
    large = x - 0.5 * x.log() + _horner(3.75 / x, _LARGE[order]).log()
    return gg.where(x < 3.75, small.log(), large)


class VonMises(Distribution):
    r"""The von Mises distribution on the circle with mean direction μ and concentration κ, as
    ``torch.distributions.VonMises`` (``loc`` and values are any reals, read modulo 2π)::

        log p(x) = κ cos(x − μ) − log(2π) − log I₀(κ)
        mean = mode = μ (circular),   variance = 1 − I₁(κ)/I₀(κ) (circular)

    ``sample`` is Best and Fisher's (1979) rejection sampler, in float64 whatever the dtype (small
    κ would stall in float32), each round vectorised over the draws still pending; samples lie in
    [−π, π). No ``rsample``, cdf or entropy (as PyTorch).

    Args:
        loc: μ (radians).
        concentration: κ > 0.
        validate_args: check κ > 0 now.

    Shape:
        ``batch_shape`` = broadcast(loc, concentration); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real,
        "concentration": constraints.positive,
    }
    support = constraints.real
    has_rsample = False

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = utils.broadcast_all(loc, concentration)
        super().__init__(tuple(self.loc.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> VonMises:
        return expand_params(self, VonMises, batch_shape, ("loc", "concentration"), _instance)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        kappa = self.concentration
        return kappa * (value - self.loc).cos() - math.log(2 * math.pi) - _log_bessel_i(kappa, 0)

    @property
    def mean(self) -> Tensor:
        """The circular mean."""
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """The circular variance."""
        kappa = self.concentration
        return 1 - (_log_bessel_i(kappa, 1) - _log_bessel_i(kappa, 0)).exp()

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        with gg.no_grad():
            shape = self._extended_shape(sample_shape)
            loc = self.loc.to(gg.float64).expand(shape)
            kappa = self.concentration.to(gg.float64).expand(shape)
            tau = 1 + (1 + 4 * kappa.pow(2)).sqrt()
            rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
            # the wrapped-Cauchy envelope's r; its series 1/κ + κ where the closed form cancels
            r = gg.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho.pow(2)) / (2 * rho))
            x = gg.zeros(shape, dtype=gg.float64)
            done = gg.zeros(shape, dtype=gg.bool)
            while not bool(done.all()):
                u1, u2, u3 = utils.standard_uniform((3,) + tuple(shape), gg.float64).unbind(0)
                z = (math.pi * u1).cos()
                f = (1 + r * z) / (r + z)
                c = kappa * (r - f)
                accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
                x = gg.where(accept & ~done, (u3 - 0.5).sign() * f.acos(), x)
                done = done | accept
            return ((x + math.pi + loc) % (2 * math.pi) - math.pi).to(self.loc.dtype)
