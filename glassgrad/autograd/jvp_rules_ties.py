"""JVP rules where PyTorch's forward formula settles a tie or a pole on its own, not as the
transposed VJP would: ``clamp`` with tensor bounds, ``fmax``/``fmin`` and ``atan2``. Forward mode
(``forward_ad``, ``torch.func.jvp``, ``jacfwd``, ``hessian``) gives PyTorch's tangents there, also
where they disagree with its reverse mode. See ``jvp_rules`` for the rule contract.
"""

from __future__ import annotations

import numpy as np

from glassgrad.autograd.jvp_rules import rule, zero

__all__: list[str] = []


@rule("clamp_bounds")
def _clamp_bounds(ts, xs, z, attrs):
    """z = min(max(a, lo), hi), tensor bounds, as PyTorch's clamp_jvp: t_hi where lo > hi, t_lo
    where a < lo, t_hi where a > hi, else t_a (a NaN a or bound takes t_a). One bound alone: t_a
    where a > lo (a < hi), else the bound's tangent, so a tie takes the bound's; ``single``
    (``clamp_min``/``clamp_max``, PyTorch's ``clamp_min.Tensor``): a tie takes t_a."""
    a, lo, hi = xs
    ta = zero(ts, xs, 0)
    single = attrs.get("single", False)
    if hi is None:
        return np.where((a >= lo) if single else (a > lo), ta, zero(ts, xs, 1))
    if lo is None:
        return np.where((a <= hi) if single else (a < hi), ta, zero(ts, xs, 2))
    tlo, thi = zero(ts, xs, 1), zero(ts, xs, 2)
    return np.where(lo > hi, thi, np.where(a < lo, tlo, np.where(a > hi, thi, ta)))


def _nan_or(pick, ts, xs):
    """t_b + (pick or b is NaN) (t_a - t_b): PyTorch's fmax/fmin tangent (t_a also where both are
    NaN), in its arithmetic, so an infinite tangent not picked still gives NaN as there."""
    ta, tb = zero(ts, xs, 0), zero(ts, xs, 1)
    with np.errstate(invalid="ignore"):
        return tb + (pick | np.isnan(xs[1])) * (ta - tb)


@rule("fmax")
def _fmax(ts, xs, z, attrs):
    """z = fmax(a, b):  t_a where a > b or b is NaN, else t_b (a tie takes t_b, where the VJP
    gives a the gradient: PyTorch's forward formula)."""
    return _nan_or(xs[0] > xs[1], ts, xs)


@rule("fmin")
def _fmin(ts, xs, z, attrs):
    """z = fmin(a, b):  t_a where a <= b or b is NaN, else t_b (a tie takes t_a)."""
    return _nan_or(xs[0] <= xs[1], ts, xs)


@rule("atan2")
def _atan2(ts, xs, z, attrs):
    """z = atan2(y, x):  t_z = (x t_y - y t_x) / (x^2 + y^2), PyTorch's formula: NaN at
    y = x = 0 (the VJP there gives 0)."""
    y, x = xs
    ty, tx = zero(ts, xs, 0), zero(ts, xs, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (-y * tx + x * ty) / (y**2 + x**2)
