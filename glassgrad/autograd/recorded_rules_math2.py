"""Recorded VJP rules (``autograd/recorded.py``) of the rest of the math ops: trig, hyperbolic and
special functions, binary math (hypot, logaddexp, xlogy, copysign, fmax/fmin), the running
product and log-sum-exp, and the NaN-ignoring reductions. Helpers: ``recorded_rules_math.py``."""

from __future__ import annotations

import math

import numpy as np

import glassgrad as gg
from glassgrad.autograd.recorded import constant, operand, output, rule, saved
from glassgrad.autograd.recorded_rules_math import _kept, _safe, _sel

__all__: list[str] = []

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ------------------------------------------------------------------ trig, hyperbolic, special
@rule("tan")
def _tan(ctx, g):
    """g (1 + z^2)."""
    (y,) = saved(ctx)
    z = output(ctx, y)
    return g * (1 + z * z)


@rule("sinh")
def _sinh(ctx, g):
    """g cosh a."""
    (a,) = saved(ctx)
    return g * gg.cosh(operand(ctx, 0, a))


@rule("cosh")
def _cosh(ctx, g):
    """g sinh a."""
    (a,) = saved(ctx)
    return g * gg.sinh(operand(ctx, 0, a))


@rule("asin")
def _asin(ctx, g):
    """g / sqrt(1 - a^2)."""
    (a,) = saved(ctx)
    x = operand(ctx, 0, a)
    return g / gg.sqrt(1 - x * x)


@rule("acos")
def _acos(ctx, g):
    """-g / sqrt(1 - a^2)."""
    (a,) = saved(ctx)
    x = operand(ctx, 0, a)
    return -g / gg.sqrt(1 - x * x)


@rule("atan")
def _atan(ctx, g):
    """g / (1 + a^2)."""
    (a,) = saved(ctx)
    x = operand(ctx, 0, a)
    return g / (1 + x * x)


@rule("atan2")
def _atan2(ctx, g):
    """(g b / r^2, -g a / r^2), r^2 = a^2 + b^2, 0 where r^2 is 0."""
    a, b = saved(ctx)
    at, bt = operand(ctx, 0, a), operand(ctx, 1, b)
    r2 = at * at + bt * bt
    r2 = _sel(r2._data == 0, math.inf, r2)
    return (g * bt) / r2, (-g * at) / r2


@rule("erf")
def _erf(ctx, g):
    """g 2/sqrt(pi) e^(-a^2)."""
    (a,) = saved(ctx)
    x = operand(ctx, 0, a)
    return g * (_TWO_OVER_SQRT_PI * gg.exp(-x * x))


@rule("erfc")
def _erfc(ctx, g):
    """-g 2/sqrt(pi) e^(-a^2)."""
    (a,) = saved(ctx)
    x = operand(ctx, 0, a)
    return g * (-_TWO_OVER_SQRT_PI * gg.exp(-x * x))


@rule("asinh")
def _asinh(ctx, g):
    """g / sqrt(a^2 + 1)."""
    (a,) = saved(ctx)
    x = operand(ctx, 0, a)
    return g / gg.sqrt(x * x + 1)


@rule("acosh")
def _acosh(ctx, g):
    """g / sqrt(a^2 - 1)."""
    (a,) = saved(ctx)
    x = operand(ctx, 0, a)
    return g / gg.sqrt(x * x - 1)


@rule("atanh")
def _atanh(ctx, g):
    """g / (1 - a^2)."""
    (a,) = saved(ctx)
    x = operand(ctx, 0, a)
    return g / (1 - x * x)


@rule("sinc")
def _sinc(ctx, g):
    """g (pi a cos(pi a) - sin(pi a)) / (pi a^2), 0 where pi a^2 is 0."""
    (a,) = saved(ctx)
    x = operand(ctx, 0, a)
    y = math.pi * x
    y2 = y * x
    small = y2._data == 0
    d = (y * gg.cos(y) - gg.sin(y)) / _safe(small, y2)
    # where pi a^2 is 0 the slope is 0, and its own slope is sinc''(0) = -pi^2/3 (sinc'(a) ~ -pi^2 a / 3)
    return g * _sel(small, (-(math.pi**2) / 3) * x, d)


@rule("frac")
def _frac(ctx, g):
    """g."""
    return g


@rule("frexp")
def _frexp(ctx, g):
    """g / exp2(e), exp2 of the int exponent in the default float dtype (as the first order)."""
    (exponent,) = saved(ctx)
    scale = np.exp2(exponent.astype(gg.get_default_dtype().np))
    return (g / constant(scale)).to(g.dtype)


@rule("zeta")
def _zeta(ctx, g):
    """(not implemented, -g x zeta(x + 1, q)): q's slope recorded, so its own is x (x + 1) zeta(x + 2, q)."""
    x, q = saved(ctx)
    if ctx.needs_input_grad[0]:
        raise NotImplementedError(
            "the derivative for 'zeta' with respect to its first argument (x) is not implemented"
        )
    xc = constant(x)
    return None, -g * xc * gg.special.zeta(xc + 1, operand(ctx, 1, q))


@rule("zero_slope")
def _zero_slope(ctx, g):
    """0: the step functions (floor, ceil, round, trunc, sign) are flat where differentiable. A
    constant, as PyTorch's ``zeros_like(grad)``: outside the graph (a second backward through it
    alone is refused, as there) and 0 for an inf or NaN ``g`` (``g * 0`` would be NaN)."""
    return constant(np.zeros(tuple(g.shape), dtype=g._data.dtype))


@rule("flat_pair")
def _flat_pair(ctx, g):
    """(g where a != b for nextafter's input, else 0; 0): zeros constants, as ``zero_slope``'s."""
    need = ctx.needs_input_grad
    zero = constant(np.zeros(tuple(g.shape), dtype=g._data.dtype))
    ga = None
    if need[0]:
        ga = _sel(np.not_equal(*saved(ctx)), g) if ctx.attrs.get("op") == "nextafter" else zero
    return ga, zero if need[1] else None


@rule("renorm")
def _renorm(ctx, g):
    """PyTorch's renorm_backward (``ops/renorm.py``) in Tensor ops: norm and slice sums in the
    accumulation dtype, then where(N > maxnorm, (maxnorm / (N + 1e-7)) (g - nb / (N + 1e-7)), g).
    Its masks select after the division or power, unguarded, so that a second backward gives
    PyTorch's NaN at x = 0 for p < 1 (0 times the inf slope of |x|^(p-1))."""
    (x,) = saved(ctx)
    p, axes, maxnorm = ctx.attrs["p"], ctx.attrs["axes"], ctx.attrs["maxnorm"]
    xt = operand(ctx, 0, x)
    acc = {np.dtype(np.float16): gg.float32, np.dtype(np.float32): gg.float64}.get(x.dtype)
    n = (xt if acc is None else xt.to(acc)).norm(p, dim=axes, keepdim=True)
    s = (xt * g if acc is None else (xt * g).to(acc)).sum(dim=axes, keepdim=True)
    nd, zero = n._data, n._data == 0
    sgn = constant(np.where(np.isnan(x), 0, np.sign(x)))
    if p == 1:
        nb = sgn * s
    elif p == 2:
        nb = s * _sel(~zero, xt / n)
    elif math.isinf(p):
        mask = (np.abs(x) == nd) | np.isnan(x)
        nb = sgn * ((s / constant(mask.sum(axis=axes, keepdims=True))) * constant(mask.astype(x.dtype)))
    elif p < 1:
        nb = sgn * _sel(x != 0, gg.abs(xt) ** (p - 1)) * s * n ** (1 - p)
    else:
        scaled = sgn * gg.abs(xt) ** (p - 1) if p < 2 else xt * gg.abs(xt) ** (p - 2)
        nb = scaled * _sel(~zero, s / n ** (p - 1))
    inv = 1 / (n + 1e-7)
    return _sel(nd > maxnorm, ((maxnorm * inv) * (g - inv * nb)).to(g.dtype), g)


# ------------------------------------------------------------------ binary math
@rule("hypot")
def _hypot(ctx, g):
    """(g a / z, g b / z)."""
    a, b, out = saved(ctx)
    z = output(ctx, out)
    return tuple(None if x is None else (g * operand(ctx, i, x)) / z for i, x in enumerate((a, b)))


def _logaddexp(ctx, g, power):
    a, b = saved(ctx)
    at, bt = operand(ctx, 0, a), operand(ctx, 1, b)
    return g / (1 + power(bt - at)), g / (1 + power(at - bt))


@rule("logaddexp")
def _logaddexp_e(ctx, g):
    """(g / (1 + e^(b-a)), g / (1 + e^(a-b)))."""
    return _logaddexp(ctx, g, gg.exp)


@rule("logaddexp2")
def _logaddexp_2(ctx, g):
    """(g / (1 + 2^(b-a)), g / (1 + 2^(a-b)))."""
    return _logaddexp(ctx, g, lambda t: gg.pow(2.0, t))


@rule("xlogy")
def _xlogy(ctx, g):
    """(xlogy(g, b), 0 where a == 0 and b <= 0; g a / b)."""
    return xlog_shifted(ctx, g, 0, gg.xlogy)


def xlog_shifted(ctx, g, shift: int, fn) -> tuple:
    """The rule of a * log(b + shift) (``fn``: xlogy for 0, xlog1py for 1): (fn(g, b), 0 where
    a == 0 and b + shift <= 0; g a / (b + shift))."""
    a, b = saved(ctx)
    need = ctx.needs_input_grad
    bt = operand(ctx, 1, b)
    ga = gb = None
    if need[0]:
        edge = (a == 0) & (b + shift <= 0)
        ga = _sel(~edge, fn(g, _safe(edge, bt)))
    if need[1]:
        gb = (g * operand(ctx, 0, a)) / (bt + shift if shift else bt)
    return ga, gb


@rule("copysign")
def _copysign(ctx, g):
    """(g z / a, 0 where a == 0; 0)."""
    a, out = saved(ctx)
    gb = constant(np.zeros(g.shape, dtype=g._data.dtype)) if ctx.needs_input_grad[1] else None
    if a is None:  # (saved only when a wants a gradient)
        return None, gb
    zero = a == 0
    return g * _sel(~zero, output(ctx, out) / _safe(zero, operand(ctx, 0, a))), gb


@rule("fmax", "fmin")
def _fmax(ctx, g):
    """(g where a wins or b is NaN, the rest to b): a tie goes wholly to a."""
    a, b = saved(ctx)
    to_a = ctx.fn.keeps_a(a, b) | np.isnan(b)
    return _sel(to_a, g), _sel(~to_a, g)


# ------------------------------------------------------------------ scans
def _rsum(t, axis):
    """sum over i >= j along axis."""
    return t.flip(axis).cumsum(axis).flip(axis)


@rule("cumprod")
def _cumprod(ctx, g):
    """dx_j = sum_{i >= j} g_i z_i / x_j; with zeros, each prod_{k <= i, k != j} x_k formed."""
    x, out = saved(ctx)
    axis = ctx.attrs["axis"]
    if x.shape[axis] == 1:  # z = x: g itself (NaN and inf included), as the op's backward
        return g
    xt = operand(ctx, 0, x)
    if np.isfinite(x).all() and not (x == 0).any():
        return _rsum(output(ctx, out) * g, axis) / xt
    # exact with zeros: row j is x with x_j replaced by 1, its running product prod_{k <= i, k != j} x_k
    n = x.shape[axis]
    xm, gm = xt.movedim(axis, -1), g.movedim(axis, -1)
    square = xm.unsqueeze(-2).expand(tuple(xm.shape[:-1]) + (n, n))
    runs = gg.cumprod(_sel(np.eye(n, dtype=bool), 1.0, square), -1)  # [..., j, i]
    upper = np.triu(np.ones((n, n), dtype=bool))  # i >= j
    gx = _sel(upper, gm.unsqueeze(-2) * runs).sum(-1)
    return gx.movedim(-1, axis)


@rule("logcumsumexp")
def _logcumsumexp(ctx, g):
    """dx_j = sum_{i >= j} g_i exp(x_j - z_i), summed in log space apart for g > 0 and g < 0."""
    x, out = saved(ctx)
    axis = ctx.attrs["axis"]
    xt, z = operand(ctx, 0, x), output(ctx, out)
    if g.requires_grad and not g._data.all():
        # the sign split below has no derivative in g where g is 0 (the double-backward trick's
        # dummy cotangent is all 0: jvp of a grad, jacfwd of a jacrev); the weights, linear in g
        return _logcumsumexp_weighted(xt, z, g, axis)
    lowest = float(np.finfo(g._data.dtype).min)

    def part(mask):
        log_g = _sel(mask, gg.log(gg.abs(_safe(~mask, g))), lowest) - z
        rev = log_g.flip(axis).logcumsumexp(axis).flip(axis)
        return gg.exp(rev + xt)

    return part(g._data > 0) - part(g._data < 0)


def _logcumsumexp_weighted(xt, z, g, axis):
    """dx_j = sum_{i >= j} g_i w_ji, w_ji = exp(x_j - z_i) <= 1 (z is non-decreasing), formed as an
    (..., n, n) matrix: linear in g, so differentiable in it at 0 as well. NaN where a leading run
    of -inf meets itself (-inf - -inf), as the split's and PyTorch's."""
    n = xt.shape[axis]
    xm, zm, gm = xt.movedim(axis, -1), z.movedim(axis, -1), g.movedim(axis, -1)
    upper = np.triu(np.ones((n, n), dtype=bool))  # i >= j; below it x_j - z_i may overflow exp
    diff = xm.unsqueeze(-1) - zm.unsqueeze(-2)  # [..., j, i]
    w = _sel(upper, gg.exp(_safe(~upper, diff, 0.0)))
    return (w * gm.unsqueeze(-2)).sum(-1).movedim(-1, axis)


# ------------------------------------------------------------------ NaN-ignoring reductions
@rule("nansum")
def _nansum(ctx, g):
    """g broadcast back, 0 at the NaNs."""
    (keep,) = saved(ctx)
    return _kept(ctx, g).expand(ctx.shapes[0]) * constant(keep.astype(g._data.dtype))


@rule("nanmean")
def _nanmean(ctx, g):
    """g / count at the non-NaN x, 0 at the NaNs."""
    keep, count = saved(ctx)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _kept(ctx, g) / constant(count) * constant(keep.astype(g._data.dtype))


@rule("dist")
def _dist(ctx, g):
    """PyTorch's norm_backward of d = x - y (``ops/dist.py``), op by op: x gets it, y minus it.
    Its masked_fill is a ``where`` over the unmasked quotient as is, so that a second derivative
    at z = 0 (and at d = 0 for p < 1) is NaN, as PyTorch's (its division's backward takes 0 / 0);
    sgn(d) is tied to d with a zero derivative, as PyTorch's sgn node."""
    x, y, out = saved(ctx)
    p, dt = ctx.attrs["p"], ctx.attrs.get("dtype")
    if p == 0:
        return None, None
    xt, yt = operand(ctx, 0, x), operand(ctx, 1, y)
    if dt is not None:
        xt, yt = xt.to(gg.dtypes.from_np_dtype(dt)), yt.to(gg.dtypes.from_np_dtype(dt))
    d = xt - yt
    dd, z = d._data, output(ctx, out)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if p == 2:
            gd = g * gg.where(constant(out == 0), 0.0, d / z)
        else:
            sgn = gg.where(
                constant(np.zeros(dd.shape, dtype=bool)), d, constant(np.where(np.isnan(dd), 0, np.sign(dd)))
            )
            ad = d.abs()
            if p == 1:
                gd = sgn * g
            elif p in (math.inf, -math.inf):
                mask = (np.abs(dd) == out) | np.isnan(dd)
                gd = sgn * ((g / constant(mask.sum(dtype=dd.dtype))) * constant(mask.astype(dd.dtype)))
            elif p < 1:
                gd = sgn * gg.where(constant(dd == 0), 0.0, ad ** (p - 1)) * g * z ** (1 - p)
            else:
                scale = gg.where(constant(out == 0), 0.0, g / z ** (p - 1))
                gd = (sgn * ad ** (p - 1) if p < 2 else d * ad ** (p - 2)) * scale
    need = ctx.needs_input_grad
    return (gd if need[0] else None), (-gd if need[1] else None)
