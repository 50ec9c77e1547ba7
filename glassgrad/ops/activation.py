"""Activations: sigmoid, relu, leaky_relu, elu, gelu, silu, softplus, hardtanh, the perceptron
step (the fused, numerically stable softmax and log_softmax are in ``softmax.py``).

Each works elementwise (softmax/log_softmax along one dim) and keeps its input's shape and
floating dtype; integer inputs are promoted to the default float dtype (``floating``) by sigmoid,
kept by ``relu``, ``hardtanh`` and ``step``, and refused by the rest (``float_kernel``), as
PyTorch does. leaky_relu, elu and hardtanh live in ``activation_piecewise.py``, the steps in
``activation_steps.py``; both are re-exported here. Non-differentiable points take
PyTorch's one-sided choice: relu'(0) = 0, leaky_relu'(0) = negative_slope, hardtanh' = 0 at its
bounds. At NaN, relu passes g and leaky_relu gives slope g, as PyTorch always does; hardtanh gives
0 and elu NaN, as PyTorch's vectorised kernels (its scalar path, for tensors under one SIMD width,
passes g: PyTorch has no single rule there).
"""

from __future__ import annotations

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.errors import ArgumentError, DTypeError
from glassgrad.operand_errors import number_arg
from glassgrad.ops.activation_piecewise import Elu, Hardtanh, LeakyRelu, elu, hardtanh, leaky_relu  # noqa: F401
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
