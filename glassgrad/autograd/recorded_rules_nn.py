"""Recorded VJP rules (``autograd/recorded.py``) of the products and the activations: matmul,
linear, relu ... hardswish, softmax, log_softmax (the losses, norms, einsum and cdist are in
``recorded_rules_nn2.py``).

Each rule is its op's ``backward`` written again with Tensor ops, so that the gradient it returns
has a graph (``create_graph=True``). ``x``, ``y`` and ``g`` are Tensors: an input, the op's output
and the output's gradient. Masks (which branch, which side of a kink) are constants, as in
PyTorch. Where a branch not taken could be inf or NaN (e^x for large x, x / 3 at x = inf), its
input is replaced by a finite value first: ``where`` passes 0 to the branch it did not pick, and
0 times inf would otherwise give NaN second derivatives.
"""

from __future__ import annotations

import math

import numpy as np

import glassgrad as gg
from glassgrad.autograd.recorded import constant, operand, output, rule, saved
from glassgrad.ops.activation_more import _shrink_bound
from glassgrad.ops.activation_piecewise import _refuse_negative

__all__: list[str] = []

_SQRT_2_OVER_PI = 0.7978845608028654  # sqrt(2 / pi), as ops/activation.py
_SQRT_HALF = 0.7071067811865476  # 1 / sqrt(2), as ops/special.py
_INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)


def _mask(cond):
    """A bool array as a constant Tensor (a branch choice carries no gradient)."""
    return constant(cond)


# ------------------------------------------------------------------ products
@rule("matmul")
def _matmul(ctx, g):
    """ga = g @ b^T, gb = a^T @ g (a 1-D a a row, a 1-D b a column); batch dims unbroadcast by the engine."""
    a, b = saved(ctx)
    need = ctx.needs_input_grad
    # (the shape of an input that wants no gradient is not kept: forward saved the array instead)
    a_nd = len(ctx.shapes[0]) if need[0] else a.ndim
    b_nd = len(ctx.shapes[1]) if need[1] else b.ndim
    # forward saved a only for b's gradient and b only for a's: exactly what each product needs
    A = operand(ctx, 0, a) if need[1] else None
    B = operand(ctx, 1, b) if need[0] else None
    if a_nd == 1 and b_nd == 1:  # dot product: g is 0-d
        return (g * B if need[0] else None), (g * A if need[1] else None)
    if a_nd == 1:
        g = g.unsqueeze(-2)  # (..., m) -> (..., 1, m)
    if b_nd == 1:
        g = g.unsqueeze(-1)  # (..., n) -> (..., n, 1)
    ga = gb = None
    if need[0]:
        b2 = B.unsqueeze(-1) if b_nd == 1 else B  # (k,) -> (k, 1)
        ga = g @ b2.transpose(-1, -2)
        if a_nd == 1:
            ga = ga.squeeze(-2)
    if need[1]:
        a2 = A.unsqueeze(0) if a_nd == 1 else A  # (k,) -> (1, k)
        gb = a2.transpose(-1, -2) @ g  # (..., k, m): the engine sums a's batch dims away
        if b_nd == 1:
            gb = gb.squeeze(-1)
    return ga, gb


@rule("linear")
def _linear(ctx, g):
    """gx = g W, gW = g^T x (over all leading dims), gb = sum of g over the leading dims."""
    x, w = saved(ctx)
    need = ctx.needs_input_grad
    n, out = math.prod(g.shape[:-1]), g.shape[-1]
    gx = g @ operand(ctx, 1, w) if need[0] else None  # (*, out) @ (out, in) -> (*, in)
    g2 = g.reshape(n, out)
    gw = None
    if need[1]:
        xt = operand(ctx, 0, x)
        gw = g2.transpose(0, 1) @ xt.reshape(n, xt.shape[-1])  # (out, N) @ (N, in)
    gb = g2.sum(0) if len(need) > 2 and need[2] else None
    return gx, gw, gb


# ------------------------------------------------------------------ activations
@rule("relu")
def _relu(ctx, g):
    """where(y <= 0, 0, g): relu'(0) = 0; a NaN output passes g."""
    (y,) = saved(ctx)
    return gg.where(_mask(y <= 0), 0.0, g)


@rule("leaky_relu")
def _leaky_relu(ctx, g):
    """where(a > 0, g, slope g), a = x (or the result, for the in-place op)."""
    (a,) = saved(ctx)
    slope = ctx.attrs["slope"]
    if ctx.attrs.get("result"):  # the result's sign is x's only for slope >= 0, as the op's own backward
        _refuse_negative("leaky_relu_", "negative_slope", slope)
    return gg.where(_mask(a > 0), g, g * slope)


@rule("sigmoid")
def _sigmoid(ctx, g):
    """g y (1 - y)."""
    (y,) = saved(ctx)
    y = output(ctx, y)
    return g * y * (1 - y)


@rule("silu")
def _silu(ctx, g):
    """g s (1 + x (1 - s)), s = sigmoid(x) recomputed from x (its own derivative included)."""
    x, _ = saved(ctx)
    x = operand(ctx, 0, x)
    s = x.sigmoid()
    return g * s * (1 + x * (1 - s))


@rule("gelu")
def _gelu(ctx, g):
    """none: g (Phi(x) + x phi(x)); tanh: g (s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2)), s = sigmoid(2u)."""
    x, _ = saved(ctx)
    x = operand(ctx, 0, x)
    if ctx.attrs["approximate"] == "tanh":
        s = (2 * _SQRT_2_OVER_PI * (x + x * 0.044715 * x * x)).sigmoid()
        inner = _SQRT_2_OVER_PI * (1 + x * (3 * 0.044715) * x)
        return g * (s + 2 * x * s * (1 - s) * inner)
    cdf = (gg.erf(x * _SQRT_HALF) + 1.0) * 0.5
    return g * ((x * x * -0.5).exp() * x * _INV_SQRT_2PI + cdf)


@rule("elu")
def _elu(ctx, g):
    """where(x > 0, g, g s alpha e^(s x)), s the gradient's input scale (celu's 1 / alpha, alpha
    rounded to float32 as PyTorch's: ``Elu``); in-place op: where(y <= 0, g s (y + alpha), g)."""
    a, _ = saved(ctx)
    alpha, s, scale = ctx.attrs["alpha"], ctx.attrs.get("grad_scale", 1.0), ctx.attrs.get("scale", 1.0)
    # At x = 0 the first derivative takes the left branch (alpha) and the second the right one
    # (0), as PyTorch's elu_double_backward (its mask is x < 0): x's value there enters as a constant.
    if ctx.attrs.get("result"):  # saved the result
        _refuse_negative("elu_", "alpha", alpha)
        y = gg.where(_mask(a == 0), 0.0, output(ctx, a))
        if scale != 1:  # selu_: both branches scaled (``Elu``)
            return gg.where(_mask(a <= 0), g * s * (y + alpha * scale), g * scale)
        return gg.where(_mask(a <= 0), g * (y + alpha) if s == 1 else g * s * (y + alpha), g)
    x = gg.where(_mask(a >= 0), 0.0, operand(ctx, 0, a))  # (and e^x of the branch not taken: no overflow)
    if scale != 1:
        return gg.where(_mask(a > 0), g * scale, g * (s * alpha * scale) * (x * s).exp())
    if s != 1:
        return gg.where(_mask(a > 0), g, g * s * alpha * (x * s).exp())
    return gg.where(_mask(a > 0), g, g * alpha * x.exp())


@rule("softplus")
def _softplus(ctx, g):
    """where(beta x > threshold, g, g sigmoid(beta x)); at beta x = threshold the sigmoid is a
    constant (second derivative 0, as PyTorch's softplus_double_backward, whose mask is
    beta x < threshold while its first derivative there is the sigmoid's)."""
    bx, linear, _ = saved(ctx)
    if bx.dtype != g._data.dtype:  # float16's beta x is kept in float32; x's node is float16
        bx = bx.astype(g._data.dtype)
    beta = ctx.attrs["beta"]
    # forward saved beta x, not x: for beta = 1 that is x's value exactly; otherwise x is
    # bx / beta to within rounding (x matters only through beta x, so its node is all that counts)
    x = operand(ctx, 0, bx if beta == 1 else bx / beta)
    edge = bx == ctx.attrs.get("threshold", 20.0)
    if edge.any():
        x = gg.where(_mask(edge), constant(bx if beta == 1 else bx / beta), x)
    return gg.where(_mask(linear), g, g * (x if beta == 1 else x * beta).sigmoid())


@rule("hardtanh")
def _hardtanh(ctx, g):
    """where(lo < x < hi, g, 0), a select as the op's backward (0 at the bounds and at NaN, and
    where g is inf or NaN)."""
    (x,) = saved(ctx)
    return gg.where(_mask((x > ctx.attrs["lo"]) & (x < ctx.attrs["hi"])), g, 0.0)


@rule("hardsigmoid")
def _hardsigmoid(ctx, g):
    """g / 6 strictly inside (-3, 3), 0 elsewhere (a select, as the op's backward: an inf or NaN
    g gives 0 outside); a product by a constant inside, so its own derivative is 0."""
    (x,) = saved(ctx)
    sixth = 0.1666666716337204  # PyTorch's float32 1/6 (a float32 value: exact in every float dtype)
    # float16: multiplied in float32 and rounded once, as the op's backward
    g6 = (g.float() * sixth).to(g.dtype) if x.dtype.itemsize < 4 else g * sixth
    return gg.where(_mask((x > -3) & (x < 3)), g6, 0.0)


@rule("softshrink")
def _softshrink(ctx, g):
    """where(x < -lambd or x > lambd, g, 0), a select as the op's backward (0 at the bounds, at NaN)."""
    (x,) = saved(ctx)
    lam = _shrink_bound(x, ctx.attrs.get("lambd", 0.5), False)
    return gg.where(_mask((x < -lam) | (x > lam)), g, 0.0)


@rule("logsigmoid")
def _logsigmoid(ctx, g):
    """g sigmoid(-x)."""
    x, _ = saved(ctx)
    return g * (-operand(ctx, 0, x)).sigmoid()


@rule("logit")
def _logit(ctx, g):
    """g / (x (1 - x)) inside the domain; outside it NaN (no eps) or 0 (eps), constants as the op's."""
    (x,) = saved(ctx)
    eps = ctx.attrs.get("eps")
    # eps: a NaN is outside (0, as the op's); without eps it is inside (NaN)
    outside = _mask((x < 0) | (x > 1) if eps is None else ~((x >= eps) & (x <= 1 - eps)))
    edge = (x == 0) | (x == 1) if eps is None else np.zeros(x.shape, bool)  # 1 / +-0 there, as the op's
    xv = gg.where(outside | _mask(edge), 0.5, operand(ctx, 0, x))  # the branches not taken stay finite
    with np.errstate(divide="ignore", invalid="ignore"):  # +inf at 0 and 1, -inf at -0.0
        at_edge = np.where(edge, 1 / (x * (1 - x)), 0).astype(x.dtype)
    # the slope, then one product: g * inf inside a where would send 0 * inf = NaN to g's gradient
    slope = gg.where(_mask(edge), constant(at_edge), 1 / (xv * (1 - xv)))
    return gg.where(outside, float("nan") if eps is None else 0.0, g * slope)


@rule("hardswish")
def _hardswish(ctx, g):
    """0 where x <= -3, g (x / 3 + 1/2) where -3 < x < 3 (and NaN: NaN), g where x >= 3."""
    (x,) = saved(ctx)
    low, high, nan = x <= -3, x >= 3, np.isnan(x)
    # x / 3 of the other branches: never inf; a NaN enters as a constant (NaN, derivative 0, as PyTorch's)
    xm = gg.where(_mask(low | high | nan), constant(np.where(nan, x, 0).astype(x.dtype)), operand(ctx, 0, x))
    if x.dtype == np.float16:  # in float32, rounded once, as the op's backward (and PyTorch's)
        inner = gg.where(_mask(high), g.float(), g.float() * (xm.float() / 3 + 0.5)).half()
    else:
        inner = gg.where(_mask(high), g, g * (xm / 3 + 0.5))
    return gg.where(_mask(low), 0.0, inner)


@rule("softmax")
def _softmax(ctx, g):
    """y (g - sum(g y)), the sum along the op's dims."""
    (y,) = saved(ctx)
    y = output(ctx, y)
    return (g - (g * y).sum(dim=ctx.attrs["axis"], keepdim=True)) * y


@rule("log_softmax")
def _log_softmax(ctx, g):
    """g - e^y sum(g), the sum along the op's dims."""
    (y,) = saved(ctx)
    return g - output(ctx, y).exp() * g.sum(dim=ctx.attrs["axis"], keepdim=True)
