"""Recorded VJP rules (``autograd/recorded.py``) of the math ops: arithmetic, unary functions,
clamps, casts and the reductions (products, extremes, statistics, norms, running sums).

Each rule is its op's ``backward`` written again with Tensor ops. Masks, signs and counts are
constants (no gradient), as in PyTorch. Where a branch is selected away by ``where``, its operand is
made harmless first (``_safe``): ``where``'s backward sends 0 to the branch not taken, and 0 times
the inf of ``1 / 0`` or ``log 0`` in that branch's own backward would leak a NaN.
``recorded_rules_math2.py`` has the rest (trig, hyperbolic, special, binary math, scans, nan-reductions).
"""

from __future__ import annotations

import math

import numpy as np

import glassgrad as gg
from glassgrad.autograd.recorded import constant, operand, output, rule, saved
from glassgrad.autograd.recorded_rules import _kept_shape
from glassgrad.ops.extremes import extreme_mask
from glassgrad.ops.unary import slope_sign

__all__: list[str] = []

_NUMBERS = (float, int, bool)


def _sel(mask, a, b=0.0):
    """``a`` where the constant ``mask``, else ``b`` (selected, so a NaN in the other stays out)."""
    return gg.where(np.asarray(mask, dtype=bool), a, b)


def _safe(mask, t, fill=1.0):
    """``t`` with ``fill`` where ``mask``: the operand of a branch that ``where`` will drop there."""
    return _sel(mask, fill, t)


def _kept(ctx, g):
    """``g`` reshaped with the reduced axes as size 1 (it broadcasts against the input)."""
    a = ctx.attrs
    return g.reshape(_kept_shape(ctx.shapes[0], a.get("axis"), a.get("keepdims", False)))


def _data(t):
    return t._data if isinstance(t, gg.Tensor) else t


# ------------------------------------------------------------------ arithmetic
@rule("neg")
def _neg(ctx, g):
    """-g."""
    return -g


@rule("div")
def _div(ctx, g):
    """(g / b, -g ((a / b) / b)), in PyTorch's order."""
    a, b = saved(ctx)
    need = ctx.needs_input_grad
    bt = operand(ctx, 1, b)
    ga = g / bt if need[0] else None
    gb = -g * ((operand(ctx, 0, a) / bt) / bt) if need[1] else None
    return ga, gb


@rule("pow")
def _pow(ctx, g):
    """(g b a^(b-1), 0 where b == 0; g z ln a, 0 where a == 0 and b >= 0), as PyTorch."""
    a, b, out = saved(ctx)
    need = ctx.needs_input_grad
    at, bt = operand(ctx, 0, a), operand(ctx, 1, b)
    ga = gb = None
    if need[0]:
        if b.__class__ in _NUMBERS:
            ga = g * (b * at ** (b - 1)) if b != 0 else constant(np.zeros(g.shape, dtype=g._data.dtype))
        else:
            zero = b == 0
            # b = 1 where b == 0: a^(b-1) there would be 0^-1 = inf, 0 * inf a NaN in b's gradient
            bs = _safe(zero, bt)
            ga = _sel(~zero, g * (bs * at ** (bs - 1)))
    if need[1]:
        z = output(ctx, out)
        if a.__class__ in _NUMBERS:
            if a == 0:
                # PyTorch's g * where(b >= 0, 0, z ln 0): in the graph through z (a second
                # derivative NaN where b >= 0, as there: where's 0 times ln 0; +-inf where b < 0)
                with np.errstate(invalid="ignore"):  # (NaN b: z ln 0 is NaN, as the op's backward)
                    keep = np.asarray(b >= 0)
                gb = g * gg.where(constant(keep), 0.0, z * -math.inf)
            else:
                gb = g * z * (math.log(a) if a > 0 else math.nan)
        else:
            edge = (a == 0) & (b >= 0)
            if at.dtype != z.dtype:  # ln a in the result's dtype, as the op's backward
                at = at.to(z.dtype)
            gb = g * _sel(~edge, z * gg.log(_safe(edge, at)))
    return ga, gb


# ------------------------------------------------------------------ unary
@rule("exp")
def _exp(ctx, g):
    """g e^a = g z."""
    (y,) = saved(ctx)
    return g * output(ctx, y)


@rule("expm1")
def _expm1(ctx, g):
    """g (z + 1)."""
    (y,) = saved(ctx)
    return g * (output(ctx, y) + 1)


@rule("log")
def _log(ctx, g):
    """g / a."""
    (a,) = saved(ctx)
    return g / operand(ctx, 0, a)


@rule("log1p")
def _log1p(ctx, g):
    """g / (1 + a)."""
    (a,) = saved(ctx)
    return g / (1 + operand(ctx, 0, a))


@rule("sqrt")
def _sqrt(ctx, g):
    """g / (2 z)."""
    (y,) = saved(ctx)
    return g / (2 * output(ctx, y))


@rule("rsqrt")
def _rsqrt(ctx, g):
    """-g z^3 / 2."""
    (y,) = saved(ctx)
    z = output(ctx, y)
    return -0.5 * g * z * z * z


@rule("reciprocal")
def _reciprocal(ctx, g):
    """-g z^2, z differentiated through the op: 2 g z^3 (+-inf at +-0, 0 at +-inf), as PyTorch's."""
    (y,) = saved(ctx)
    z = output(ctx, y)
    return -g * (z * z)


@rule("abs")
def _abs(ctx, g):
    """g sign(a), sign(0) = sign(NaN) = 0."""
    (a,) = saved(ctx)
    return g * constant(slope_sign(a))


@rule("sin")
def _sin(ctx, g):
    """g cos a."""
    (a,) = saved(ctx)
    return g * gg.cos(operand(ctx, 0, a))


@rule("cos")
def _cos(ctx, g):
    """-g sin a."""
    (a,) = saved(ctx)
    return -g * gg.sin(operand(ctx, 0, a))


@rule("clone")
def _clone(ctx, g):
    """g."""
    return g


@rule("cast")
def _cast(ctx, g):
    """g converted back to the input's dtype."""
    src = ctx.attrs["from_dtype"]
    if src.kind not in "fc":
        raise NotImplementedError(f"cast: create_graph=True back to a {src} input is not supported")
    if g._data.dtype.kind == "c" and src.kind != "c":  # a real input promoted to complex: its part
        g = g.real
    return g.to(src) if g._data.dtype != src else g


# ------------------------------------------------------------------ selections
def _pick(g, a, b):
    """max(a, b)'s (g to a unless a < b, to b unless a > b, g/2 each at a tie)."""
    g = gg.where(np.asarray(a == b), 0.5 * g, g)
    return _sel(~(a < b), g), _sel(~(a > b), g)


@rule("maximum")
def _maximum(ctx, g):
    """(g where a >= b, g where b >= a), halved at ties."""
    a, b = saved(ctx)
    return _pick(g, a, b)


@rule("minimum")
def _minimum(ctx, g):
    """(g where a <= b, g where b <= a), halved at ties."""
    a, b = saved(ctx)
    return _pick(g, b, a)


@rule("where")
def _where(ctx, g):
    """(None, g where cond, g where not cond)."""
    (cond,) = saved(ctx)
    need = ctx.needs_input_grad
    return None, (_sel(cond, g) if need[1] else None), (_sel(~cond, g) if need[2] else None)


@rule("clamp")
def _clamp(ctx, g):
    """g where lo <= a <= hi, else 0."""
    (a,) = saved(ctx)
    lo, hi = ctx.attrs["lo"], ctx.attrs["hi"]
    mask = np.ones(a.shape, dtype=bool) if lo is None else a >= lo
    if hi is not None:
        mask = mask & (a <= hi)
    return _sel(mask, g)


@rule("clamp_bounds")
def _clamp_bounds(ctx, g):
    """(g where lo <= a <= hi; g where a < lo < hi; g where a > hi or lo > hi): PyTorch's."""
    a, lo, hi = saved(ctx)
    need = ctx.needs_input_grad
    inside = True if lo is None else a >= lo
    if hi is not None:
        inside = inside & (a <= hi)
    ga = _sel(inside, g) if need[0] else None
    glo = _sel((a < lo) & (True if hi is None else lo < hi), g) if need[1] else None
    ghi = _sel((a > hi) | (False if lo is None else lo > hi), g) if need[2] else None
    return ga, glo, ghi


# ------------------------------------------------------------------ reductions
@rule("prod")
def _prod(ctx, g):
    """g * (product of the other elements): prod(x) / x without zeros, else each product formed
    (with grad mode on, PyTorch forms them even for two zeros of a full product)."""
    (x,) = saved(ctx)
    axis = ctx.attrs["axis"]
    xt = operand(ctx, 0, x)
    dims = tuple(range(x.ndim)) if axis is None else tuple(axis)
    if not dims:
        return g
    if not (x == 0).any():  # PyTorch's z / x even with an inf or nan factor (nan there), as first order
        others = gg.prod(xt, dim=dims, keepdim=True) / xt
    else:
        # exact with zeros (and infs): row i of a (R, R) matrix is x with x_i replaced by 1, then its product
        front = [i for i in range(x.ndim) if i not in dims]
        moved = xt.permute(*(front + list(dims)))
        r = math.prod(x.shape[d] for d in dims)
        flat = moved.reshape(tuple(moved.shape[: len(front)]) + (r,))
        square = flat.unsqueeze(-2).expand(tuple(flat.shape[:-1]) + (r, r))
        others = gg.prod(_sel(np.eye(r, dtype=bool), 1.0, square), dim=-1)
        others = others.reshape(tuple(moved.shape)).permute(*np.argsort(front + list(dims)).tolist())
    return _kept(ctx, g) * others


@rule("cumsum")
def _cumsum(ctx, g):
    """Reversed running sum of g along axis."""
    axis = ctx.attrs["axis"]
    return g.flip(axis).cumsum(axis).flip(axis)


@rule("amax", "amin")
def _amax(ctx, g):
    """g / (number of extremes) at each extreme, 0 elsewhere."""
    x, out = saved(ctx)
    axis, keep = ctx.attrs["axis"], ctx.attrs["keepdims"]
    mask = extreme_mask(x, out, axis, keep, ctx.attrs.get("full", False))
    count = mask.sum(axis=axis, keepdims=True, dtype=g._data.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        if ctx.attrs.get("full", False):  # max()/min(): a select, as the op's backward
            return _sel(mask, _kept(ctx, g) / constant(count))
        return _kept(ctx, g) * constant(mask.astype(g._data.dtype)) / constant(count)


@rule("maxmin_dim")
def _maxmin_dim(ctx, g):
    """(g placed at idx along axis, 0 elsewhere; None)."""
    (idx,) = saved(ctx)
    axis = ctx.attrs["axis"]
    hit = np.zeros(ctx.shapes[0], dtype=bool)
    np.put_along_axis(hit, idx, True, axis=axis)
    return _sel(hit, g if ctx.attrs["keepdims"] else g.unsqueeze(axis)), None


def _reduced_output(ctx, out):
    """The op's output (saved with its reduced axes kept as 1) as a Tensor of that kept shape."""
    a = ctx.attrs
    shape = _kept_shape(ctx.shapes[0], a["axis"], a["keepdims"])
    if not a["keepdims"]:
        shape_out = tuple(d for i, d in enumerate(shape) if a["axis"] is not None and i not in a["axis"])
        return output(ctx, out.reshape(shape_out)).reshape(shape)
    return output(ctx, out.reshape(shape))


@rule("logsumexp")
def _logsumexp(ctx, g):
    """g exp(x - z)."""
    x, out = saved(ctx)
    return _kept(ctx, g) * gg.exp(operand(ctx, 0, x) - _reduced_output(ctx, out))


def _centered(ctx, d):
    """d = x - mean(x) over axis, exactly forward's saved d, differentiable in x.

    Var and Std save d, not x: the input is linked into the graph carrying d as its value, which
    only the sub and mean below read (their gradients never depend on values); L - L.value is 0
    exactly, so the value stays forward's d and the gradient is the centring's."""
    xt = operand(ctx, 0, d)
    axis = ctx.attrs["axis"]
    lin = xt - xt.mean(dim=axis, keepdim=True)
    return constant(d) + (lin - constant(lin._data))


@rule("var")
def _var(ctx, g):
    """g 2 (x - mean) / (N - correction)."""
    (d,) = saved(ctx)
    dof = ctx.attrs["dof"]
    scale = 2 / dof if dof else math.inf
    return _kept(ctx, g) * scale * _centered(ctx, d)


@rule("std")
def _std(ctx, g):
    """g (x - mean) / ((N - correction) s), 0 where s = 0."""
    d, out = saved(ctx)
    s = _reduced_output(ctx, out)
    zero = s._data == 0
    return _sel(~zero, _kept(ctx, g) / _safe(zero, s)) * _centered(ctx, d) / ctx.attrs["dof"]


@rule("norm")
def _norm(ctx, g):
    """g sign(x) |x|^(p-1) / z^(p-1), 0 where z = 0; p = +-inf: g sign(x) split among the extremes."""
    x, out = saved(ctx)
    p, axis, keep = ctx.attrs["p"], ctx.attrs["axis"], ctx.attrs["keepdims"]
    kept = _kept_shape(x.shape, axis, keep)
    gk = _kept(ctx, g)
    sgn = np.where(np.isnan(x), 0, np.sign(x))  # PyTorch's sgn: 0 at NaN, as the op's backward
    if p in (math.inf, -math.inf):
        mask = (np.abs(x) == out.reshape(kept)) | np.isnan(x)  # a NaN holds a NaN norm
        count = mask.sum(axis=axis, keepdims=True, dtype=g._data.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            return gk * constant(mask.astype(g._data.dtype)) / constant(count) * constant(sgn)
    if p == 0:
        return None  # no gradient, as the op's backward
    if p == 1:
        return gk * constant(sgn)
    xt = operand(ctx, 0, x)
    z = output(ctx, out).reshape(kept)
    zero = out.reshape(kept) == 0
    if p == 2:
        return _sel(~zero, gk / _safe(zero, z)) * xt
    ax0 = x == 0
    scale = constant(np.sign(x)) * _sel(~ax0, gg.abs(_safe(ax0, xt)) ** (p - 1))
    return _sel(~zero, gk / _safe(zero, z) ** (p - 1)) * scale
