"""Activations: sigmoid, relu, leaky_relu, elu, gelu, silu, softplus, hardtanh, the perceptron
step (the fused, numerically stable softmax and log_softmax are in ``softmax.py``).

Each works elementwise (softmax/log_softmax along one dim) and keeps its input's shape and
floating dtype; integer inputs are promoted to the default float dtype (``floating``) by sigmoid,
kept by ``relu``, ``hardtanh`` and ``step``, and refused by the rest (``float_kernel``), as PyTorch does. Non-differentiable points take
PyTorch's one-sided choice: relu'(0) = 0, leaky_relu'(0) = negative_slope, hardtanh' = 0 at its
bounds. At NaN, relu passes g and leaky_relu gives slope g, as PyTorch always does; hardtanh gives
0 and elu NaN, as PyTorch's vectorised kernels (its scalar path, for tensors under one SIMD width,
passes g: PyTorch has no single rule there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.errors import ArgumentError, DTypeError, GraphError
from glassgrad.operand_errors import number_arg
from glassgrad.ops.activation_steps import heaviside, step
from glassgrad.ops.bit_select import select, zero_where
from glassgrad.ops.elementwise import floating
from glassgrad.ops.operands import float_kernel
from glassgrad.ops.special import gelu_exact, gelu_exact_grad
from glassgrad.tensor import Tensor

__all__ = [
    "sigmoid", "relu", "leaky_relu", "elu", "gelu", "silu", "softplus", "hardtanh", "heaviside",
    "step",
]  # fmt: skip


# ------------------------------------------------------------------ helpers on raw arrays
def _sigmoid(x):
    """1 / (1 + e^-x), PyTorch's formula. Below about -88 (float32) e^-x overflows to inf and the
    result is 0, as PyTorch's; that costs nothing in precision (the division keeps the tiny true
    value above it) and is 7 times faster than a two-branch form. float16 is computed in float32
    and rounded once, as PyTorch's Half kernel (in float16, e^-x would overflow from x = -11,
    and each step would round: a third of the results one ulp off)."""
    xp = array_module(x)
    if x.dtype == np.float16:
        return _sigmoid(x.astype(np.float32)).astype(np.float16)
    if x.dtype.itemsize >= 4:
        with np.errstate(over="ignore"):
            e = xp.exp(-x)
        e += 1  # (a 0-d x gives a NumPy scalar: += makes a new one)
        return 1 / e
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


# ------------------------------------------------------------------ primitives
class Sigmoid(Function):
    """z = 1 / (1 + e^-x).   VJP: g z (1 - z)."""

    @staticmethod
    def forward(ctx, x):
        out = _sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        # PyTorch's order, (g (1 - z)) z, rounded at each step in every dtype (float16 too)
        return g * (1 - out) * out


class Relu(Function):
    """z = max(x, 0).   VJP: 0 where z <= 0, else g: relu'(0) = 0, and a NaN input passes g on.

    As PyTorch's backward, which tests the output (0 where z <= 0; ``x > 0`` would drop the
    gradient at NaN). Saves z itself, as PyTorch, so that an in-place change of z before backward
    is caught, and a change PyTorch does not see (through ``.data``) gives PyTorch's gradient.
    """

    @staticmethod
    def forward(ctx, x):
        out = array_module(x).maximum(0, x)  # NaN stays NaN; 0 first: -0.0 stays -0.0, as PyTorch's
        if ctx.needs_input_grad[0]:  # nothing saved when no gradient is wanted (eval, integer input)
            ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        return zero_where(out <= 0, g)


def _refuse_negative(op: str, name: str, value: float) -> None:
    """PyTorch's backward of an in-place leaky_relu_/elu_ with a negative slope or alpha, whose
    sign the result no longer tells."""
    if value < 0:
        raise GraphError(
            f"{op}: expected {name} >= 0 for the backward of the in-place op (inplace=True), got "
            f"{value} (PyTorch refuses it too); call the out-of-place version"
        )


class LeakyRelu(Function):
    """z = x if x > 0 else slope x.   VJP: g if x > 0 else slope g (slope at 0 and at NaN, as
    PyTorch).

    ``result=True`` (``leaky_relu(x, inplace=True)``) saves z instead of x and tests z > 0, as
    PyTorch's ``leaky_relu_``: a later in-place change of the result is then caught at backward,
    and a change through ``.data`` gives PyTorch's gradient."""

    name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, slope=0.01, result=False):
        out = select(x > 0, x, x * slope)  # (bit masks: ``bit_select.py``)
        ctx.save_for_backward(out if result else x)  # an array, not a mask: the version check sees it
        return out

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        slope = ctx.attrs["slope"]
        if ctx.attrs.get("result"):
            _refuse_negative("leaky_relu_", "negative_slope", slope)
        return select(a > 0, g, g * slope)


class Elu(Function):
    """z = x if x > 0 else alpha (e^(s x) - 1), s = ``input_scale`` (celu's 1 / alpha).   VJP: g if
    x > 0 else g s alpha e^(s x), as PyTorch's (z / alpha + 1 would cancel); NaN at NaN, as its
    vectorised kernel (its scalar tail of under one SIMD width passes g). ``result=True`` (``elu_``)
    saves z alone, as PyTorch's: VJP g where z > 0 (or NaN), else g s (z + alpha). The VJP's s is
    ``grad_scale`` when given: celu's derivative in PyTorch takes 1 / alpha with alpha rounded to
    float32 (``1.0/alpha.toFloat()``), its forward the exact 1 / alpha. ``scale`` multiplies both
    branches (selu's, so that ``selu_`` is one node saving its result, as PyTorch's elu_): VJP
    g scale where x > 0, else scale times the above; from the result, g s (z + scale alpha)."""

    @staticmethod
    def forward(ctx, x, alpha=1.0, result=False, input_scale=1.0, grad_scale=1.0, scale=1.0):
        xp = array_module(x)
        xn = zero_where(x > 0, x)  # no overflow in the branch not taken; elu(-0.0) = -0.0, as PyTorch
        neg = alpha * xp.expm1(xn * input_scale if input_scale != 1 else xn)
        out = select(x > 0, x, neg)
        if scale != 1:
            out = out * scale
        ctx.save_for_backward(out if result else x, None)
        return out

    @staticmethod
    def backward(ctx, g):
        a, _ = ctx.saved
        alpha, s, xp = ctx.attrs["alpha"], ctx.attrs.get("grad_scale", 1.0), array_module(g)
        scale = ctx.attrs.get("scale", 1.0)
        if scale != 1:  # selu_ (from its result) or selu: both branches scaled
            if ctx.attrs.get("result"):
                return select(a <= 0, g * s * (a + alpha * scale), g * scale)
            with np.errstate(over="ignore"):
                return select(a > 0, g * scale, g * (s * alpha * scale) * xp.exp(a * s))
        if ctx.attrs.get("result"):  # saved the result
            _refuse_negative("elu_", "alpha", alpha)
            return select(a <= 0, g * (a + alpha) if s == 1 else g * s * (a + alpha), g)
        with np.errstate(over="ignore"):  # (e^(s x) of the branch not taken)
            return select(a > 0, g, g * s * alpha * xp.exp(a * s) if s != 1 else g * alpha * xp.exp(a))


_SQRT_2_OVER_PI = 0.7978845608028654  # sqrt(2 / pi)


class Gelu(Function):
    """approximate="none": z = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2.
    VJP: g (Phi(x) + x phi(x)), phi(x) = e^(-x^2/2) / sqrt(2 pi).

    approximate="tanh": z = x (1 + t) / 2, t = tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3),
    computed as z = x s with s = (1 + t) / 2 = sigmoid(2u): for large negative x, 1 + t would
    cancel to float32 noise (~1e-6) while sigmoid keeps the tiny true value.
    VJP: g (s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2)), since 1 - t^2 = 4 s (1 - s).

    float16 is computed in float32 and rounded once (both ways), as PyTorch's Half kernels (the
    exact form's kernels in ops/special.py do the same): step by step in float16, a third of the
    tanh form's values and gradients were 1 to 3 ulps off.
    """

    @staticmethod
    def forward(ctx, x, approximate="none"):
        if approximate == "tanh":
            # (x itself is saved: the create_graph rule links it to x's node; s is float32 for float16)
            x32 = x.astype(np.float32) if x.dtype == np.float16 else x
            s = _sigmoid(2 * _SQRT_2_OVER_PI * (x32 + 0.044715 * x32 * x32 * x32))
            ctx.save_for_backward(x, s)
            return (x32 * s).astype(x.dtype, copy=False)
        # in cache-sized pieces (ops/special.py); quietly: -inf Phi(-inf) is nan, as in PyTorch
        y, cdf = quietly(gelu_exact, x)
        ctx.save_for_backward(x, cdf)
        return y

    @staticmethod
    def backward(ctx, g):
        x, s_or_cdf = ctx.saved
        if ctx.attrs["approximate"] == "tanh":
            s, dt = s_or_cdf, g.dtype
            if dt == np.float16:
                x, g = x.astype(np.float32), g.astype(np.float32)
            inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return (g * (s + 2 * x * s * (1 - s) * inner)).astype(dt, copy=False)
        return quietly(gelu_exact_grad, x, s_or_cdf, g)  # g (cdf + x phi(x)); nan at +-inf, silently


class Silu(Function):
    """z = x sigmoid(x).   VJP: g s (1 + x (1 - s)), s = sigmoid(x).

    float16 is computed in float32 and rounded once (both ways), as PyTorch's Half kernels: two
    float16 roundings put about a fifth of the results one ulp off."""

    @staticmethod
    def forward(ctx, x):
        # (x itself is saved: the create_graph rule links it to x's node; s is float32 for float16)
        x32 = x.astype(np.float32) if x.dtype == np.float16 else x
        s = _sigmoid(x32)
        ctx.save_for_backward(x, s)
        return (x32 * s).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved
        if g.dtype == np.float16:
            x = x.astype(np.float32)
            return (g.astype(np.float32) * s * (1 + x * (1 - s))).astype(np.float16)
        return g * s * (1 + x * (1 - s))


class Softplus(Function):
    """z = log(1 + e^(beta x)) / beta, or x where beta x > threshold (as PyTorch).

    VJP: g sigmoid(beta x), or g where beta x > threshold.
    """

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        xp = array_module(x)
        # float16 in float32, rounded once, as PyTorch's Half kernel: in float16, e^(beta x)
        # would overflow to inf from beta x = 11.1, below the default threshold of 20
        xc = x.astype(np.float32) if x.dtype == np.float16 else x
        bx = xc * beta
        linear = bx > threshold
        # (float32 for float16: its gradient rounds once); x kept too, unread: PyTorch's node
        # saves self, so a write into it before backward raises
        ctx.save_for_backward(bx, linear, x)
        # minimum: e^(beta x) is only taken where it cannot overflow
        out = select(linear, xc, xp.log1p(xp.exp(xp.minimum(bx, threshold))) / beta)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        bx, linear, _ = ctx.saved
        xp = array_module(g)
        if g.dtype == np.float16:
            g32 = g.astype(np.float32)
            return xp.where(linear, g32, g32 * _sigmoid(bx)).astype(np.float16)
        return select(linear, g, g * _sigmoid(bx))


class Hardtanh(Function):
    """z = clip(x, lo, hi).   VJP: g where lo < x < hi, else 0 (0 at the bounds, as PyTorch; 0 at
    NaN too, as PyTorch's vectorised kernel: its scalar tail of under one SIMD width passes g).
    A select, not a product by the mask: an inf or NaN g (sqrt or log of a clipped 0 downstream)
    gives 0 outside, as PyTorch's ``hardtanh_backward``, where g * 0 would be NaN."""

    @staticmethod
    def forward(ctx, x, lo=-1.0, hi=1.0):
        ctx.save_for_backward(x)  # x, not a mask: the version check sees an in-place change of x
        return array_module(x).clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        xp = array_module(g)
        inside = (x > ctx.attrs["lo"]) & (x < ctx.attrs["hi"])
        return g * inside if xp.isfinite(g).all() else xp.where(inside, g, 0)  # (the product: ~8x faster)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x), elementwise, without overflow at any magnitude.

    Shape:
        Any shape; the output has the input's shape.

    >>> import glassgrad as gg
    >>> gg.tensor([0.0, 1000.0, -1000.0]).sigmoid()
    tensor([0.5000, 1.0000, 0.0000])
    """
    return Sigmoid.apply(floating(x))


def relu(x: Tensor) -> Tensor:
    """max(x, 0), elementwise; relu'(0) = 0 and relu'(NaN) = 1 (as PyTorch). Integer inputs stay
    integer; bool inputs raise (as PyTorch).

    Shape:
        Any shape; the output has the input's shape.
    """
    if x._data.dtype.kind == "b":
        raise DTypeError("relu: expected a numeric tensor, got bool (PyTorch: not supported)")
    return Relu.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01, result: bool = False) -> Tensor:
    """x where x > 0, else ``negative_slope`` x; ``result``: save the result for backward, as the
    in-place op does (``LeakyRelu``).

    Shape:
        Any shape; the output has the input's shape.
    """
    if negative_slope.__class__ is not float:
        negative_slope = number_arg("leaky_relu", "negative_slope", negative_slope, "Number")
    if result:
        return LeakyRelu.apply(
            float_kernel(x, "leaky_relu", "leaky_relu_cpu"), slope=negative_slope, result=True
        )
    return LeakyRelu.apply(float_kernel(x, "leaky_relu", "leaky_relu_cpu"), slope=negative_slope)


def elu(
    x: Tensor, alpha: float = 1.0, result: bool = False, input_scale: float = 1.0, grad_scale: Any = None
) -> Tensor:
    """x where x > 0, else alpha (e^(input_scale x) - 1); ``result``: save the result for
    backward, as the in-place op does (``Elu``); ``input_scale``: celu's 1 / alpha;
    ``grad_scale``: the one its gradient takes (default ``input_scale``; see ``Elu``).

    Shape:
        Any shape; the output has the input's shape.
    """
    if alpha.__class__ is not float:
        alpha = number_arg("elu", "alpha", alpha, "Number")
    grad_scale = input_scale if grad_scale is None else grad_scale
    scaled = {"input_scale": input_scale, "grad_scale": grad_scale} if input_scale != 1 else {}
    if result:
        return Elu.apply(float_kernel(x, "elu", "elu_cpu"), alpha=alpha, result=True, **scaled)
    return Elu.apply(float_kernel(x, "elu", "elu_cpu"), alpha=alpha, **scaled)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF (exact, via erf), or its tanh approximation.

    Args:
        approximate: ``"none"`` (exact) or ``"tanh"``.

    Shape:
        Any shape; the output has the input's shape.
    """
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: expected approximate 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(float_kernel(x, "gelu", "GeluKernelImpl"), approximate=approximate)


def silu(x: Tensor) -> Tensor:
    """x sigmoid(x) (also called swish).

    Shape:
        Any shape; the output has the input's shape.
    """
    return Silu.apply(float_kernel(x, "silu", "silu_cpu"))


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (as PyTorch).

    Shape:
        Any shape; the output has the input's shape.
    """
    if beta.__class__ is not float:
        beta = number_arg("softplus", "beta", beta, "Number")
    if threshold.__class__ is not float:
        threshold = number_arg("softplus", "threshold", threshold, "Number")
    return Softplus.apply(float_kernel(x, "softplus", "softplus_cpu"), beta=beta, threshold=threshold)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient is 0 at and beyond the bounds (as PyTorch).
    Integer inputs keep their dtype (bounds truncated toward zero) and bool inputs raise, as PyTorch.

    Shape:
        Any shape; the output has the input's shape.
    """
    if min_val.__class__ is not float:
        min_val = number_arg("hardtanh", "min_val", min_val, "Number", compared=True)
    if max_val.__class__ is not float:
        max_val = number_arg("hardtanh", "max_val", max_val, "Number", compared=True)
    if min_val > max_val:
        raise ValueError(f"hardtanh: expected min_val <= max_val, got {min_val} > {max_val}")
    kind = x._data.dtype.kind
    if kind == "b":
        raise DTypeError("hardtanh: expected a numeric tensor, got bool (PyTorch: not supported)")
    if kind in "iu":  # PyTorch keeps the integer dtype, its bounds truncated toward zero; no gradient
        if kind == "u" and min(min_val, max_val) < 0:
            raise ValueError(
                f"hardtanh: expected non-negative limits for {x.dtype}, got {min_val} and {max_val}"
            )
        clipped = array_module(x._data).clip(x._data, int(min_val), int(max_val))
        return Tensor(clipped.astype(x._data.dtype, copy=False), _wrap=True)
    return Hardtanh.apply(x, lo=min_val, hi=max_val)
