"""Statistics over dims: variance and standard deviation (with Bessel's ``correction``), the
stable ``logsumexp``, and vector p-norms.

They take ``dim`` as every reduction does (checked by ``reduce.normalize_dims``) and put the reduced
axes back in backward with ``reduce._unsqueeze``. Non-differentiable points follow PyTorch: the
gradient of ``std`` and of ``norm`` is 0 where the result is 0; ``norm(p=inf)`` splits it evenly
among tied maxima.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, c_layout, dense
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.meta_array import MetaArray
from glassgrad.operand_errors import number_arg
from glassgrad.ops.cascade_sum import sum_over
from glassgrad.ops.elementwise import floating
from glassgrad.ops.reduce import _count, _floating_only, _nonempty, _unsqueeze, normalize_dims, scan_acc_dtype
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["var", "std", "logsumexp", "norm"]


# ------------------------------------------------------------------ primitives
def _centered(x, axis, correction):
    """(x - mean over axis, the same about the corrected mean, N - correction): what var and std
    share. The forward sums the squares of the second and divides by max(0, N - correction); the
    backward takes the first (PyTorch's var_backward: x - x.mean()) and divides by N - correction
    itself (see :func:`_var_vjp`).

    The corrected two-pass mean adds the deviations' mean back: sum / n may sit an ulp off a
    constant slice's value, which gave it a var of 1e-32 and std a gradient of O(1) noise, where
    PyTorch's forward (Welford) gives an exact 0 (and std's backward then 0)."""
    n = _count(x.shape, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sum_over(x, axis, keepdims=True) / n
        d = x - mean
        exact = x - (mean + sum_over(d, axis, keepdims=True) / n)
    return d, exact, float(n - correction)


def _wide(x: Any) -> Any:
    """float16 in float32 and float32 in float64 for the statistics, as PyTorch's CPU var/std
    accumulate (squares of 300 overflow float16; a float32 mean and sum of squares land an ulp off
    the once-rounded result about half the time, which a LayerNorm built on ``std`` then carries)."""
    acc = scan_acc_dtype(x)
    return x if acc is None else x.astype(acc)


def _squares(d: Any) -> Any:
    """|d|^2, real for complex d: var/std of a complex input are real, as PyTorch's."""
    return d.real * d.real + d.imag * d.imag if d.dtype.kind == "c" else d * d


def _real_dtype(dtype: Any) -> Any:
    return np.finfo(dtype).dtype  # complex64 -> float32; a float dtype stays itself


def _float_or_complex(op: str, x: Tensor) -> None:
    if x._data.dtype.kind not in "fc":
        raise DTypeError(f"{op}: expected a floating dtype, got {x._data.dtype} (or a complex one)")


def _var_vjp(gv: Any, d: Any, a: dict) -> Any:
    """The VJP of var for an incoming ``gv`` (reduced shape), as PyTorch's ``var_backward``.

    Over some dims it is gv * 2 d / (N - correction), so a correction above N gives finite
    gradients and N = correction inf (nan where d = 0). Over every element (dim None, or a 0-d
    input) with N - correction <= 0, PyTorch instead gives gv * (nan where d = 0, else +inf),
    whatever the sign of d; std inherits both through gv = g / (2 std).
    """
    xp = array_module(d)
    gv = _unsqueeze(gv, a["axis"], a["keepdims"])
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if a["dof"] <= 0 and (a["axis"] is None or d.ndim == 0):
            return gv * xp.where(d == 0, math.nan, math.inf).astype(d.dtype, copy=False)
        scale = 2 / a["dof"] if a["dof"] else math.inf
        return gv * scale * d


class Var(Function):
    """v = sum(|x - mean|^2) / max(0, N - correction).   VJP: g * 2 (x - mean) / (N - correction).

    A complex x gives a real v; the same VJP is then PyTorch's dL/dRe + i dL/dIm."""

    complex_ok = True

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        d, exact, dof = _centered(_wide(dense(x)), axis, correction)
        ctx.save_for_backward(d.astype(x.dtype, copy=False))
        ctx.attrs["dof"] = dof
        with np.errstate(invalid="ignore", divide="ignore"):
            out = sum_over(_squares(exact), axis, keepdims) / max(0.0, dof)
        return out.astype(_real_dtype(x.dtype), copy=False)

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved
        return _var_vjp(g, d, ctx.attrs)


class Std(Function):
    """s = sqrt(var(x)).   VJP: g (x - mean) / ((N - correction) s), taken as 0 where s = 0 (as PyTorch);
    complex x as in :class:`Var`."""

    complex_ok = True

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        xp = array_module(x)
        d, exact, dof = _centered(_wide(dense(x)), axis, correction)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = xp.sqrt(sum_over(_squares(exact), axis, keepdims) / max(0.0, dof)).astype(
                _real_dtype(x.dtype), copy=False
            )
        ctx.save_for_backward(d.astype(x.dtype, copy=False), out)
        ctx.attrs["dof"] = dof
        return out

    @staticmethod
    def backward(ctx, g):
        d, out = ctx.saved
        with np.errstate(invalid="ignore", divide="ignore"):
            gv = array_module(g).where(out == 0, 0, g / (2 * out))
        return _var_vjp(gv, d, ctx.attrs)


class LogSumExp(Function):
    """z = m + log(sum(exp(x - m))) with m = max of x (0 where not finite), so nothing overflows.

    VJP: g * exp(x - z) (the softmax of x along ``axis``).
    """

    node_name = "LogsumexpBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        xp = array_module(x)
        # complex x (the twin): shifted by the largest real part, as PyTorch; the log's branch is
        # the principal one, which a real shift leaves alone
        m = xp.max(x.real if x.dtype.kind == "c" else x, axis=axis, keepdims=True, initial=-xp.inf)
        m = xp.where(xp.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):
            out = xp.log(sum_over(xp.exp(x - m), axis, keepdims=True)) + m
        out = c_layout(out)  # row-major whatever x's layout, as PyTorch allocates a reduction's result
        ctx.save_for_backward(x, out)
        if keepdims:
            return out
        return out.reshape(()) if axis is None else out.squeeze(axis)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        with np.errstate(invalid="ignore"):
            return _unsqueeze(g, ctx.attrs["axis"], ctx.attrs["keepdims"]) * array_module(x).exp(x - out)


class Norm(Function):
    """Vector p-norm over ``axis``: z = (sum |x|^p)^(1/p); p = inf: max |x|; p = -inf: min |x|;
    p = 0: number of non-zeros.

    VJP: g * sign(x) |x|^(p-1) / z^(p-1) (p = 2: g x / z), taken as 0 where z = 0 so the norm of
    zeros has gradient 0, not nan; p = ±inf: g * sign(x) split evenly among the extremes;
    p = 1: g * sign(x), sign(NaN) taken as 0 as PyTorch's sgn (for ±inf too, whose NaN slices
    then send back 0); p = 0: none (no gradient reaches x, as PyTorch's: x.grad stays None).
    """

    node_name = "LinalgVectorNormBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, x, p=2.0, axis=None, keepdims=False):
        xp = array_module(x)
        # half precision accumulates in float32, as PyTorch's: |x|^2 of 3e4 would overflow float16
        w = x.astype(xp.float32) if x.dtype == xp.float16 else x
        out = vector_norm_array(w, p, axis, keepdims)
        out = c_layout(xp.asarray(out).astype(x.dtype, copy=False))  # row-major, as PyTorch's
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        if ctx.attrs["p"] == 0:  # the count of non-zeros: PyTorch's backward gives no gradient
            return None
        x, out = ctx.saved
        if x.dtype != array_module(x).float16:
            return _norm_vjp(ctx, g, x, out)
        wide = (a.astype("float32") for a in (g, x, out))  # in float32 too: g / z underflows float16
        return _norm_vjp(ctx, *wide).astype(x.dtype)


def vector_norm_array(w: Any, p: float, axis: Any, keepdims: bool) -> Any:
    """The p-norm of the array ``w`` over ``axis`` in ``w``'s dtype (``Norm``'s values)."""
    xp = array_module(w)
    ax = xp.abs(w)
    with np.errstate(divide="ignore", over="ignore"):
        if p == math.inf:
            return xp.max(ax, axis=axis, keepdims=keepdims)
        if p == -math.inf:
            return xp.min(ax, axis=axis, keepdims=keepdims)
        if p == 0:
            return xp.sum(w != 0, axis=axis, keepdims=keepdims)
        if p == 1:
            return xp.sum(ax, axis=axis, keepdims=keepdims)
        if p == 2:
            return xp.sqrt(xp.sum(w * w, axis=axis, keepdims=keepdims))
        return xp.sum(ax**p, axis=axis, keepdims=keepdims) ** (1.0 / p)


def _norm_vjp(ctx, g, x, out):
    """Norm's VJP (see ``Norm``) in the arrays' own dtype."""
    xp, p, axis, keep = array_module(x), ctx.attrs["p"], ctx.attrs["axis"], ctx.attrs["keepdims"]
    sgn = xp.where(xp.isnan(x), 0, xp.sign(x))  # PyTorch's sgn: 0 at NaN (a NaN sends back 0)
    if p in (math.inf, -math.inf):
        # PyTorch's mask: the extremes, or the NaNs (which hold a NaN norm); a NaN slice gives 0
        ax = xp.abs(x)
        mask = (ax == _unsqueeze(out, axis, keep)) | xp.isnan(ax)
        count = mask.sum(axis=axis, keepdims=True, dtype=g.dtype)
        return _unsqueeze(g, axis, keep) * mask / count * sgn
    g = _unsqueeze(g, axis, keep)
    if p == 1:
        return g * sgn
    z = _unsqueeze(out, axis, keep)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ax = xp.abs(x)
        scale = x if p == 2 else xp.sign(x) * xp.where(ax == 0, 0, ax ** (p - 1))
        return xp.where(z == 0, 0, g / z ** (p - 1)) * scale


# ------------------------------------------------------------------ tensor-level functions
def _correction(op: str, unbiased: bool | None, correction: Any) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: expected unbiased or correction, got both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def warn_few_dof(op: str, x: Tensor, axis: tuple | None, correction: float) -> None:
    """PyTorch's warning when a var/std has no degrees of freedom left: the reduction factor
    (input numel / output numel, 0 for an empty input or output) minus ``correction`` is <= 0.
    The result is then nan or inf, as PyTorch's. Not for meta tensors (no values), as PyTorch."""
    if isinstance(x._data, MetaArray):
        return
    shape = x._data.shape
    n_in = math.prod(shape)
    n_out = 1 if axis is None else math.prod(n for i, n in enumerate(shape) if i not in axis)
    if n_in / max(n_out, 1) - correction <= 0:
        warnings.warn(
            f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
            "factor (input numel divided by output numel).",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def var(
    x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, correction: Any = None
) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` means 0).

    The denominator is max(0, N - correction), so too few elements give inf or nan (as PyTorch).

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    if isinstance(dim, bool):  # PyTorch's var(unbiased) overload
        dim, unbiased = None, dim
    _float_or_complex("var", x)
    axis = normalize_dims("var", x._data.ndim, dim)
    c = _correction("var", unbiased, correction)
    warn_few_dof("var", x, axis, c)
    return Var.apply(x, axis=axis, keepdims=keepdim, correction=c)


def std(
    x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, correction: Any = None
) -> Tensor:
    """Standard deviation: sqrt of :func:`var` (same arguments); its gradient is 0 where it is 0.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    _float_or_complex("std", x)
    axis = normalize_dims("std", x._data.ndim, dim)
    c = _correction("std", unbiased, correction)
    warn_few_dof("std", x, axis, c)
    return Std.apply(x, axis=axis, keepdims=keepdim, correction=c)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:  # noqa: A002
    """log(sum(exp(x))) over ``dim``, stable at any magnitude; integer inputs become float.
    ``dim`` is required, as PyTorch's (None is refused there too).

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).

    >>> import glassgrad as gg
    >>> round(gg.tensor([10000.0, 10000.0]).logsumexp(0).item(), 3)  # 1e4 + log 2, no overflow
    10000.693
    """
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' must be tuple of ints, not NoneType")
    axis = normalize_dims("logsumexp", input._data.ndim, dim)
    return LogSumExp.apply(floating(input), axis=axis, keepdims=keepdim)


def norm_cast(op: str, x: Tensor, dtype: Any) -> Tensor:
    """``x`` cast to a norm's ``dtype``, which may only widen within its kind, as PyTorch's: a float
    input takes a float dtype at least as wide, a complex input a complex one (so a float64 tensor
    with ``dtype=float32`` is an error, not a silent loss of precision)."""
    if dtype is None:
        return x
    src, dst = x._data.dtype, dtypes.to_np_dtype(dtype)
    if src.kind not in "fc" or dst.kind != src.kind or np.promote_types(src, dst) != dst:
        kind = "complex" if src.kind == "c" else "floating"
        raise DTypeError(
            f"{op}: dtype={dtypes.from_np_dtype(dst)} cannot hold the {x.dtype} input without narrowing; "
            f"expected a {kind} input and a {kind} dtype at least as wide"
        )
    return x.to(dtype)


def norm(x: Tensor, p: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (every dim by default): p a number, ``inf``, ``-inf`` or ``"fro"`` (2).
    ``dtype`` (widening only, see ``norm_cast``) casts the input first, as PyTorch's (fp16 weights
    measured in float32).

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    if p is None or p == "fro":
        p = 2
    if isinstance(p, str) and p == "nuc":  # the sum of singular values over a pair of dims
        return _nuclear(x, dim, keepdim, dtype)
    if (
        p.__class__ is Tensor and p._data.ndim == 0
    ):  # PyTorch's ord is a Scalar: a 0-d tensor reads as its value
        p = number_arg("norm", "p", p)
    if isinstance(p, str | bool) or not isinstance(p, int | float | np.number):
        raise ValueError(
            f"norm: expected p to be a number, inf, -inf or 'fro' (or 'nuc' over two dims), got {p!r}"
        )
    x = norm_cast("norm", x, dtype)
    if x._data.dtype.kind == "c":  # the norm of the moduli, real (PINO's HsLoss on Fourier coefficients)
        x = x.abs()
    _floating_only("norm", x)
    axis = normalize_dims("norm", x._data.ndim, dim)
    if p < 0 or p == math.inf:  # no identity: PyTorch refuses an empty reduction (1 / sum(|x|^p) = 1 / 0)
        _nonempty("norm", x, axis)
    return Norm.apply(x, p=float(p), axis=axis, keepdims=keepdim)


def _nuclear(x: Tensor, dim: Any, keepdim: bool, dtype: Any) -> Tensor:
    """``norm(p='nuc')``: the matrix nuclear norm over ``dim`` (a 2-D input's two dims by default)."""
    from glassgrad.linalg_more import matrix_norm  # (linalg builds on this module)

    dims = tuple(range(x.ndim)) if dim is None else dim
    if not isinstance(dims, tuple | list) or len(dims) != 2:
        raise ShapeError(
            f"norm: p='nuc' takes two dims (a matrix), got dim={dim} for input of shape {tuple(x.shape)}"
        )
    return matrix_norm(x, "nuc", dim=tuple(dims), keepdim=keepdim, dtype=dtype)
