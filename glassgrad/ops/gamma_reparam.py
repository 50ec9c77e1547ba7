"""Gradients of gamma draws with respect to their concentration (implicit reparameterisation),
behind ``Gamma``/``Chi2``/``Beta``/``StudentT``/``Dirichlet.rsample`` and ``torch._standard_gamma``.

A draw x ~ Gamma(α, 1) is x = F⁻¹(α, u) for a uniform u held fixed, F(α, x) = P(α, x) the
regularized lower incomplete gamma function, so

    dx/dα = −(∂P/∂α) / p(x),   p(x) = x^(α−1) e^−x / Γ(α)   (the density).

Both factors carry x^α e^−x / Γ(α), which is divided out analytically, so the ratio stays finite
where each underflows (a draw of 1e-300 at α = 1e-3):

- below α + 1, from P's series P = x^α e^−x Σ_n x^n / Γ(α + n + 1):
  dx/dα = −Σ_n t_n (ln x − ψ(α + n + 1)),  t_0 = x / α,  t_n = t_(n−1) x / (α + n);
- elsewhere, from Q = 1 − P = (x^α e^−x / Γ(α)) h, h the continued fraction of
  ``special_gamma._continued_fraction``, differentiated through its recurrence in forward mode:
  dx/dα = x (h (ln x − ψ(α)) + ∂h/∂α).

Exact to rounding (about 1e-13 relative against the CDF's finite differences), where PyTorch
uses approximations (its ``_standard_gamma_grad``: about 1e-3 relative in places); from α = 1e6
on, Wilson–Hilferty's normal approximation differentiated (4e-10 there, less beyond). The draws
themselves are NumPy's (``Generator.standard_gamma``), not PyTorch's.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive
from glassgrad.backend import array_module, quietly
from glassgrad.ops.special_gamma import _max_terms
from glassgrad.ops.special_series import digamma_array

__all__ = ["standard_gamma_grad_array", "StandardGamma"]

_EPS = 2.0**-53
_TINY = 1e-300


def _series_grad(xp, a, x):
    """dx/dα below α + 1: −Σ_n t_n (ln x − ψ(α + n + 1))."""
    log_x = xp.log(x)
    t = x / a
    psi = digamma_array(a + 1)
    total = -t * (log_x - psi)
    for n in range(1, _max_terms(xp, a)):
        t = t * x / (a + n)
        psi = psi + 1 / (a + n)  # ψ(α + n + 1) = ψ(α + n) + 1 / (α + n)
        term = -t * (log_x - psi)
        total = total + term
        if not xp.any(xp.abs(term) > _EPS * xp.abs(total)):
            break
    return total


def _fraction_grad(xp, a, x):
    """dx/dα from α + 1 on: Lentz's recurrence for h and, alongside, its derivative in α
    (b_i = x + 1 − α + 2i, a_i = −i (i − α): ∂b_i/∂α = −1, ∂a_i/∂α = i)."""
    b = x + 1 - a
    d = 1 / b
    dd = d * d  # ∂(1 / b)/∂α = 1 / b²
    c = xp.full_like(x, 1 / _TINY)
    dc = xp.zeros_like(x)
    h, dh = d, dd
    done = xp.zeros(x.shape, dtype=bool)
    for i in range(1, _max_terms(xp, a)):
        an = -i * (i - a)
        b = b + 2
        big_d = an * d + b
        dbig_d = i * d + an * dd - 1
        big_d = xp.where(xp.abs(big_d) < _TINY, _TINY, big_d)
        d = 1 / big_d
        dd = -dbig_d * d * d
        dc = -1 + i / c - an * dc / c / c  # (c * c would overflow at the first step)
        c = b + an / c
        c = xp.where(xp.abs(c) < _TINY, _TINY, c)
        delta = d * c
        ddelta = dd * c + d * dc
        # converged elements are frozen (see special_gamma._continued_fraction)
        h, dh = xp.where(done, h, h * delta), xp.where(done, dh, dh * delta + h * ddelta)
        done |= (xp.abs(delta - 1) <= 2 * _EPS) & (xp.abs(h * ddelta) <= 2 * _EPS * xp.abs(dh))
        if done.all():
            break
    return x * (h * (xp.log(x) - digamma_array(a)) + dh)


_LARGE = 1e6  # from here on the Wilson–Hilferty form below (the expansions need about √α terms)


def _wilson_hilferty_grad(xp, a, x):
    """dx/dα for large α from Wilson–Hilferty's P ≈ Φ(z), z = 3√α ((x/α)^(1/3) − 1 + 1/(9α)):
    dx/dα = −(∂z/∂α)/(∂z/∂x). Its error falls as α^(−3/2): 4e-10 relative at α = 1e6 against the
    exact expansions, where those would take 10⁴ terms and more."""
    u, s = xp.cbrt(x / a), xp.sqrt(a)
    dz_dx = 1 / (u * u * s)
    dz_da = 1.5 / s * (u - 1 + 1 / (9 * a)) - s * (u / a + 1 / (3 * a * a))
    return -dz_da / dz_dx


def standard_gamma_grad_array(alpha, x):
    """dx/dα of Gamma(α, 1) draws x (float64 arrays, broadcast), as ``torch._standard_gamma_grad``.
    0 where x is 0 (a draw that underflowed), NaN where α <= 0 or x < 0."""
    xp = array_module(alpha, x)
    a, x = xp.broadcast_arrays(xp.asarray(alpha, dtype=xp.float64), xp.asarray(x, dtype=xp.float64))
    out = xp.full(a.shape, xp.nan)
    ok = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
    large = ok & (a >= _LARGE)
    below = ok & ~large & (x < a + 1)
    above = ok & ~large & ~below
    if xp.any(large):
        out[large] = _wilson_hilferty_grad(xp, a[large], x[large])
    if xp.any(below):
        out[below] = _series_grad(xp, a[below], x[below])
    if xp.any(above):
        out[above] = _fraction_grad(xp, a[above], x[above])
    return xp.where((x == 0) & (a > 0), 0.0, out)


class StandardGamma(Primitive):
    """Gamma(α, 1) draws of α's shape, PyTorch's ``_standard_gamma``. The draws come in as the
    second operand (made by the caller from the global generator), so that the op itself is a
    function; VJP: g dx/dα (``standard_gamma_grad_array``), none for the draws.

    Not in the registry's finite-difference check (the draws do not move when α does); the
    derivative is tested against the CDF's (tests/distributions/test_gamma_reparam.py)."""

    name = "standard_gamma"
    register = False

    @staticmethod
    def forward(ctx, alpha, draws):
        ctx.save_for_backward(alpha, draws)
        ctx.attrs["node_name"] = "StandardGammaBackward0"  # PyTorch's
        return draws

    @staticmethod
    def backward(ctx, g):
        alpha, draws = ctx.saved
        grad = quietly(standard_gamma_grad_array, alpha, draws)
        return (g * grad).astype(g.dtype, copy=False), None


def standard_gamma_grad(input: Any, output: Any) -> Any:  # noqa: A002 - PyTorch's names
    """``torch._standard_gamma_grad(input, output)``: dx/dα of Gamma(α = input, 1) draws x = output
    (no graph)."""
    import glassgrad as gg

    xp = array_module(input._data)
    grad = quietly(standard_gamma_grad_array, input._data, output._data)
    return gg.tensor(grad.astype(xp.result_type(input._data, output._data), copy=False))


def sample_standard_gamma(input: Any, generator: Any = None) -> Any:  # noqa: A002 - PyTorch's names
    """``torch._standard_gamma(input)``: one Gamma(α, 1) draw per element of α = ``input``, from
    ``generator`` or the global one, floored at the dtype's smallest normal number (a draw that underflows to 0 would
    give 0 / 0 in a Dirichlet); differentiable in α (``StandardGamma``)."""
    import glassgrad as gg
    from glassgrad.random import get_generator

    a = input.detach().numpy()
    xp = array_module(a)
    # a 0-d α draws a Python float, not an array: asarray keeps the dtype either way
    draws = xp.asarray(get_generator(generator).standard_gamma(a), dtype=a.dtype)
    draws = gg.tensor(xp.maximum(draws, xp.finfo(a.dtype).tiny))
    return StandardGamma.apply(input, draws) if input.requires_grad and gg.is_grad_enabled() else draws
