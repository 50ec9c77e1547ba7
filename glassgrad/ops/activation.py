"""Activations: sigmoid, relu, leaky_relu, elu, gelu, silu, softplus, hardtanh, the perceptron
step, and the fused, numerically stable softmax and log_softmax.

Each works elementwise (softmax/log_softmax along one dim) and keeps its input's shape and
floating dtype; integer inputs are promoted to the default float dtype (``floating``) except in
``relu`` and ``step``, which keep them as PyTorch does. Non-differentiable points take PyTorch's
one-sided choice: relu'(0) = 0, leaky_relu'(0) = negative_slope, hardtanh' = 0 at its bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.function import Function
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError
from glassgrad.ops import elementwise as _E
from glassgrad.ops.elementwise import floating
from glassgrad.ops.reduce import normalize_dims
from glassgrad.tensor import Tensor

__all__ = [
    "sigmoid", "relu", "leaky_relu", "elu", "gelu", "silu", "softplus", "hardtanh", "heaviside",
    "step", "softmax", "log_softmax", "erf_array",
]  # fmt: skip


# ------------------------------------------------------------------ helpers on raw arrays
def _sigmoid(x):
    """1 / (1 + e^-x) without overflow: e^-|x| never exceeds 1."""
    xp = array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969),
# as in his SPECFUN routine CALERF: relative error below 1e-16 on each of three ranges of |x|.
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)  # fmt: skip
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)  # fmt: skip
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)  # fmt: skip
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)  # fmt: skip
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)  # fmt: skip
_INV_SQRT_PI = 5.6418958354775628695e-1


def _ratio(t, num: tuple, den: tuple):
    """Cody's nested evaluation: (((n_last t + n_0) t + n_1) t ...) / (((t + d_0) t + d_1) t ...)."""
    n, d = num[-1] * t, t
    for a, b in zip(num[: len(den) - 1], den[:-1]):
        n, d = (n + a) * t, (d + b) * t
    return (n + num[len(den) - 1]) / (d + den[-1])


def erf_array(x):
    """The error function of a float array, elementwise, in the array's dtype.

    NumPy has no erf and ``math.erf`` takes one number, so this evaluates Cody's three rational
    approximations on the whole array (each on its range, clipped so the others cannot
    overflow) and picks per element: |x| <= 0.46875: x R1(x^2); |x| <= 4: 1 - e^-x^2 R2(|x|);
    else 1 - e^-x^2 (1/sqrt(pi) - R3(1/x^2)/x^2) / |x|. e^-x^2 is split as e^-s^2 e^-(|x|-s)(|x|+s)
    with s = |x| rounded down to 1/16, which keeps it accurate for large |x|.
    """
    xp = array_module(x)
    y = xp.abs(x)
    small = xp.minimum(y, 0.46875)
    near = xp.clip(y, 0.46875, 4.0)
    far = xp.clip(y, 4.0, 27.0)  # erfc(27) is below the smallest double: erf is 1 from there on
    r_small = x * _ratio(small * small, _A, _B)
    erfc_near = _ratio(near, _C, _D)
    erfc_far = (_INV_SQRT_PI - _ratio(1 / (far * far), _P, _Q) / (far * far)) / far
    z = xp.where(y <= 4.0, near, far)
    s = xp.trunc(z * 16) / 16
    erfc = xp.exp(-s * s) * xp.exp(-(z - s) * (z + s)) * xp.where(y <= 4.0, erfc_near, erfc_far)
    return xp.where(y <= 0.46875, r_small, xp.sign(x) * (1 - erfc))


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
        return g * out * (1 - out)


class Relu(Function):
    """z = max(x, 0).   VJP: g where x > 0, else 0 (relu'(0) = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x > 0)
        return array_module(x).maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved
        return g * mask


class LeakyRelu(Function):
    """z = x if x > 0 else slope x.   VJP: g if x > 0 else slope g (slope at 0, as PyTorch)."""

    name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, slope=0.01):
        mask = x > 0
        ctx.save_for_backward(mask)
        return array_module(x).where(mask, x, x * slope)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved
        return array_module(g).where(mask, g, g * ctx.attrs["slope"])


class Elu(Function):
    """z = x if x > 0 else alpha (e^x - 1).   VJP: g if x > 0 else g alpha e^x."""

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        xp = array_module(x)
        neg = alpha * xp.expm1(xp.minimum(x, 0))  # minimum: no overflow in the branch not taken
        ctx.save_for_backward(x, neg)
        return xp.where(x > 0, x, neg)

    @staticmethod
    def backward(ctx, g):
        x, neg = ctx.saved
        return array_module(g).where(x > 0, g, g * (neg + ctx.attrs["alpha"]))


_SQRT_HALF = 0.7071067811865476  # 1 / sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)
_SQRT_2_OVER_PI = 0.7978845608028654  # sqrt(2 / pi)


class Gelu(Function):
    """approximate="none": z = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2.
    VJP: g (Phi(x) + x phi(x)), phi(x) = e^(-x^2/2) / sqrt(2 pi).

    approximate="tanh": z = x (1 + t) / 2, t = tanh(sqrt(2/pi) (x + 0.044715 x^3)).
    VJP: g ((1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2).
    """

    @staticmethod
    def forward(ctx, x, approximate="none"):
        xp = array_module(x)
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            ctx.save_for_backward(x, t)
            return 0.5 * x * (1 + t)
        cdf = 0.5 * (1 + erf_array(x * _SQRT_HALF))
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, g):
        x, t_or_cdf = ctx.saved
        xp = array_module(x)
        if ctx.attrs["approximate"] == "tanh":
            t = t_or_cdf
            inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner)
        return g * (t_or_cdf + x * _INV_SQRT_2PI * xp.exp(-0.5 * x * x))


class Silu(Function):
    """z = x sigmoid(x).   VJP: g s (1 + x (1 - s)), s = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        s = _sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved
        return g * s * (1 + x * (1 - s))


class Softplus(Function):
    """z = log(1 + e^(beta x)) / beta, or x where beta x > threshold (as PyTorch).

    VJP: g sigmoid(beta x), or g where beta x > threshold.
    """

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        xp = array_module(x)
        bx = x * beta
        linear = bx > threshold
        ctx.save_for_backward(bx, linear)
        # minimum: e^(beta x) is only taken where it cannot overflow
        return xp.where(linear, x, xp.log1p(xp.exp(xp.minimum(bx, threshold))) / beta)

    @staticmethod
    def backward(ctx, g):
        bx, linear = ctx.saved
        return array_module(g).where(linear, g, g * _sigmoid(bx))


class Hardtanh(Function):
    """z = clip(x, lo, hi).   VJP: g where lo < x < hi, else 0 (0 at the bounds, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, lo=-1.0, hi=1.0):
        ctx.save_for_backward((x > lo) & (x < hi))
        return array_module(x).clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (inside,) = ctx.saved
        return g * inside


def _shifted(x, axis):
    """x minus its max along ``axis`` (0 where that max is not finite): exp of it cannot overflow."""
    xp = array_module(x)
    m = xp.max(x, axis=axis, keepdims=True, initial=-xp.inf)  # initial: an empty dim is fine
    return x - xp.where(xp.isfinite(m), m, 0)


class Softmax(Function):
    """z = e^(x - m) / sum(e^(x - m)) along ``axis`` (m = max, which cancels; it only prevents overflow).

    VJP: z (g - sum(g z)), the sum along ``axis``.
    """

    @staticmethod
    def forward(ctx, x, axis=(-1,)):
        xp = array_module(x)
        e = xp.exp(_shifted(x, axis))
        with np.errstate(invalid="ignore"):  # a row of -inf gives nan, as in PyTorch
            out = e / xp.sum(e, axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        return out * (g - array_module(g).sum(g * out, axis=ctx.attrs["axis"], keepdims=True))


class LogSoftmax(Function):
    """z = (x - m) - log(sum(e^(x - m))) along ``axis`` (m = max): never overflows or takes log 0
    of a non-empty row.

    VJP: g - e^z sum(g), the sum along ``axis`` (e^z is the softmax).
    """

    name = "log_softmax"

    @staticmethod
    def forward(ctx, x, axis=(-1,)):
        xp = array_module(x)
        shifted = _shifted(x, axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        xp = array_module(g)
        return g - xp.exp(out) * xp.sum(g, axis=ctx.attrs["axis"], keepdims=True)


# ------------------------------------------------------------------ tensor-level functions
def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x), elementwise, without overflow at any magnitude.

    Shape:
        Any shape; the output has the input's shape.

    >>> import glassgrad as gg
    >>> gg.tensor([0.0, 1000.0, -1000.0]).sigmoid()
    tensor([0.5, 1. , 0. ])
    """
    return Sigmoid.apply(floating(x))


def relu(x: Tensor) -> Tensor:
    """max(x, 0), elementwise; relu'(0) = 0. Integer inputs stay integer (as PyTorch).

    Shape:
        Any shape; the output has the input's shape.
    """
    return Relu.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else ``negative_slope`` x.

    Shape:
        Any shape; the output has the input's shape.
    """
    return LeakyRelu.apply(floating(x), slope=negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha (e^x - 1).

    Shape:
        Any shape; the output has the input's shape.
    """
    return Elu.apply(floating(x), alpha=alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF (exact, via erf), or its tanh approximation.

    Args:
        approximate: ``"none"`` (exact) or ``"tanh"``.

    Shape:
        Any shape; the output has the input's shape.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: expected approximate 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(floating(x), approximate=approximate)


def silu(x: Tensor) -> Tensor:
    """x sigmoid(x) (also called swish).

    Shape:
        Any shape; the output has the input's shape.
    """
    return Silu.apply(floating(x))


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (as PyTorch).

    Shape:
        Any shape; the output has the input's shape.
    """
    return Softplus.apply(floating(x), beta=beta, threshold=threshold)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient is 0 at and beyond the bounds (as PyTorch).

    Shape:
        Any shape; the output has the input's shape.
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: expected min_val <= max_val, got {min_val} > {max_val}")
    return Hardtanh.apply(floating(x), lo=min_val, hi=max_val)


def heaviside(x: Tensor, values: Any) -> Tensor:
    """``torch.heaviside``: 0 where x < 0, ``values`` where x == 0, 1 where x > 0 (nan gives 0).

    A step has derivative 0 almost everywhere, so the result is a constant (no gradient).

    Shape:
        ``x`` and ``values`` broadcast together.
    """
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    vals = values.data if isinstance(values, Tensor) else values
    xp = array_module(data)
    return Tensor(xp.asarray(xp.where(data == 0, vals, data > 0).astype(data.dtype, copy=False)), _wrap=True)


def step(x: Tensor) -> Tensor:
    """The perceptron's step: 1 where x >= 0, else 0, in x's dtype.

    Its derivative is 0 wherever it exists, so the result is a constant tensor that carries no
    gradient (a perceptron learns by its own rule, not by backpropagation through the step).

    Shape:
        Any shape; the output has the input's shape.

    >>> import glassgrad as gg
    >>> y = step(gg.tensor([-0.5, 0.0, 2.0], requires_grad=True))
    >>> y, y.requires_grad
    (tensor([0., 1., 1.]), False)
    """
    data = x.data
    return Tensor(array_module(data).asarray((data >= 0).astype(data.dtype)), _wrap=True)


def _softmax_input(op: str, x: Tensor, dim: Any, dtype: Any) -> tuple[Tensor, tuple]:
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise DTypeError(f"{op}: expected dim to be an int, got {dim!r}")
    if dtype is not None and dtypes.to_np_dtype(dtype) != x.data.dtype:
        x = _E.cast(x, dtypes.to_np_dtype(dtype))
    axis = normalize_dims(op, x.data.ndim, dim)
    return floating(x), axis


def softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """e^x / sum(e^x) along ``dim``, fused and stable at any magnitude.

    Args:
        dim: the dim that sums to 1.
        dtype: cast the input to this dtype first (as PyTorch's ``dtype=``).

    Shape:
        Any shape; the output has the input's shape.

    >>> import glassgrad as gg
    >>> gg.tensor([1e4, -1e4, 1e4]).softmax(0)
    tensor([0.5, 0. , 0.5])
    """
    x, axis = _softmax_input("softmax", x, dim, dtype)
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, fused: x - max - log(sum(e^(x - max))).

    Shape:
        Any shape; the output has the input's shape.
    """
    x, axis = _softmax_input("log_softmax", x, dim, dtype)
    return LogSoftmax.apply(x, axis=axis)
