"""The fused, numerically stable softmax and log_softmax along one or more dims.

Both subtract the row's maximum first, so no exponential overflows and a non-empty row never takes
log 0; each backward is the closed form (softmax: z * (g - sum(g * z)); log_softmax:
g - e^z * sum(g)), the lesson of the softmax Jacobian. Integer and bool inputs are refused, as
PyTorch's kernels refuse them (``dtype=torch.float32`` casts one first); ``dtype=`` casts first, as
PyTorch's, and refuses a dtype that is not floating (cast and promoted, it would come back float32,
the dtype= silently ignored).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, dense
from glassgrad.errors import DTypeError, ShapeError, kernel_dtype_error
from glassgrad.operand_errors import size_int
from glassgrad.ops import conversion as _K
from glassgrad.ops.operands import float_kernel
from glassgrad.ops.reduce import acc_dtype, normalize_dims
from glassgrad.tensor import Tensor

__all__ = ["softmax", "log_softmax", "_softmax_backward_data", "_log_softmax_backward_data"]


def _row_sums(a, axis):
    """The sums of ``a`` along ``axis``, kept as size-1 dims. Along the last axis of a float32 or
    float64 array, a BLAS product with a column of ones: NumPy's reduction of many short rows
    (a GPT's attention rows of 64) runs about 4x slower (197 against 41 us at (16, 4, 64, 64))."""
    xp = array_module(a)
    n = a.shape[-1] if a.ndim else 0
    if axis == (a.ndim - 1,) and n and a.dtype.kind == "f" and a.dtype.itemsize >= 4 and a.flags.c_contiguous:
        return (a.reshape(-1, n) @ xp.ones((n, 1), a.dtype)).reshape(a.shape[:-1] + (1,))
    return xp.sum(a, axis=axis, keepdims=True, dtype=acc_dtype(a))


def _row_dots(g, z, axis):
    """sum(g * z) along ``axis``, kept; along the last axis one ``vecdot`` pass (NumPy 2), where
    the product and the reduction of short rows took 3x longer."""
    xp = array_module(g)
    vecdot = getattr(xp, "vecdot", None)
    if (
        vecdot is not None
        and axis == (g.ndim - 1,)
        and g.ndim
        and g.dtype == z.dtype
        and g.dtype.itemsize >= 4
    ):
        return vecdot(g, z)[..., None]
    return xp.sum(g * z, axis=axis, keepdims=True)


def _shifted(x, axis):
    """x minus its max along ``axis`` (0 where that max is -inf): exp of it cannot overflow."""
    xp = array_module(x)
    m = xp.max(x, axis=axis, keepdims=True, initial=-xp.inf)  # initial: an empty dim is fine
    with np.errstate(invalid="ignore"):  # a +inf max gives nan, as in PyTorch
        return x - xp.where(m == -xp.inf, 0, m)  # an all -inf (or empty) row: x - (-inf) would be nan


class Softmax(Function):
    """z = e^(x - m) / sum(e^(x - m)) along ``axis`` (m = max, which cancels; it only prevents overflow).

    VJP: z (g - sum(g z)), the sum along ``axis``.
    """

    @staticmethod
    def forward(ctx, x, axis=(-1,)):
        xp = array_module(x)
        x = dense(x)  # sums in C order whatever the layout (the result is contiguous, as PyTorch's)
        if x.dtype == np.float16:  # in float32, rounded once, as PyTorch's Half kernel
            out = Softmax.forward(ctx, x.astype(np.float32), axis).astype(np.float16)
            ctx.save_for_backward(out)
            return out
        out = _shifted(x, axis)  # a fresh array: exp and the division run in place on it
        if out.ndim == 0:
            out = out.reshape(1)  # NumPy would turn in-place 0-d results into scalars
        xp.exp(out, out=out)
        with np.errstate(invalid="ignore"):  # a row of -inf gives nan, as in PyTorch
            out /= _row_sums(out, axis)
        out = out.reshape(x.shape)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        g = dense(g)
        if out.dtype == np.float16:  # in float32, rounded once, as PyTorch's Half kernel
            g32, out32 = g.astype(np.float32), out.astype(np.float32)
            return ((g32 - _row_dots(g32, out32, ctx.attrs["axis"])) * out32).astype(np.float16)
        d = g - _row_dots(g, out, ctx.attrs["axis"])
        d *= out  # in place on the fresh difference
        return d


def _log_softmax_half(xp, x, axis):
    """float16 log_softmax as PyTorch's CPU Half kernels round it: in float32, rounded once;
    along the last dim its kernel rounds the sum of exponentials and its log to float16 first
    (without those roundings, about 7 % of the results would be one ulp off PyTorch's)."""
    x32 = x.astype(np.float32)
    shifted = _shifted(x32, axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = _row_sums(xp.exp(shifted), axis)
        if axis == (x.ndim - 1,):
            log_total = xp.log(total.astype(np.float16).astype(np.float32)).astype(np.float16)
        else:
            log_total = xp.log(total)
        return (shifted - log_total).astype(np.float16)


class LogSoftmax(Function):
    """z = (x - m) - log(sum(e^(x - m))) along ``axis`` (m = max): never overflows or takes log 0
    of a non-empty row.

    VJP: g - e^z sum(g), the sum along ``axis`` (e^z is the softmax).
    """

    name = "log_softmax"

    @staticmethod
    def forward(ctx, x, axis=(-1,)):
        xp = array_module(x)
        if x.dtype == np.float16:
            out = _log_softmax_half(xp, dense(x), axis)
            ctx.save_for_backward(out)
            return out
        shifted = _shifted(dense(x), axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            total = _row_sums(xp.exp(shifted), axis)
            out = (shifted - xp.log(total)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        xp, g = array_module(g), dense(g)
        if out.dtype == np.float16:  # in float32, rounded once, as PyTorch's Half kernel
            g32 = g.astype(np.float32)
            return (g32 - xp.exp(out.astype(np.float32)) * _row_sums(g32, ctx.attrs["axis"])).astype(
                np.float16
            )
        return g - xp.exp(out) * _row_sums(g, ctx.attrs["axis"])


# ------------------------------------------------------------------ tensor-level functions


def _softmax_input(op: str, x: Tensor, dim: Any, dtype: Any) -> tuple[Tensor, tuple]:
    if (d := size_int(dim)) is None:  # (an integer 0-d tensor passes, as PyTorch's parser takes it)
        raise DTypeError(f"{op}: expected dim to be an int, got {dim!r}")
    axis = normalize_dims(op, x._data.ndim, d)
    if dtype is not None:
        np_dtype = dtypes.to_np_dtype(dtype)
        if np_dtype.kind != "f":  # PyTorch has no such kernel
            raise kernel_dtype_error(op, _kernel(op, x, axis), np_dtype)
        if np_dtype != x._data.dtype:
            x = _K.cast(x, np_dtype)
    if x._data.dtype.kind not in "fc":  # nor for an integer or bool input, which it does not promote
        return float_kernel(x, op, _kernel(op, x, axis)), axis
    return x, axis


def _kernel(op: str, x: Tensor, axis: tuple) -> str:
    """The name of PyTorch's kernel that has no integer code (``softmax_lastdim_kernel_impl``)."""
    last = axis == (x._data.ndim - 1,) or x._data.ndim == 0
    return f"{op}_{'lastdim_' if last else ''}kernel_impl"


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:  # noqa: A002 - PyTorch's name
    """e^x / sum(e^x) along ``dim``, fused and stable at any magnitude.

    Args:
        dim: the dim that sums to 1.
        dtype: cast the input to this dtype first (as PyTorch's ``dtype=``).

    Shape:
        Any shape; the output has the input's shape.

    >>> import glassgrad as gg
    >>> gg.tensor([1e4, -1e4, 1e4]).softmax(0)
    tensor([0.5000, 0.0000, 0.5000])
    """
    x, axis = _softmax_input("softmax", input, dim, dtype)
    return Softmax.apply(x, axis=axis)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:  # noqa: A002
    """log(softmax(x)) along ``dim``, fused: x - max - log(sum(e^(x - max))).

    Shape:
        Any shape; the output has the input's shape.
    """
    x, axis = _softmax_input("log_softmax", input, dim, dtype)
    return LogSoftmax.apply(x, axis=axis)


# ------------------------------------------------------------------ the backward formulas as functions


def _backward_operands(op: str, grad_output: Tensor, output: Tensor, dim: Any, input_dtype: Any) -> tuple:
    """Checks PyTorch's private softmax-backward entry points make (same shape, same dtype), and the
    dim as a one-axis tuple; the dtype to return (the grad's, or a narrower float ``input_dtype``)."""
    if tuple(grad_output.shape) != tuple(output.shape):
        raise ShapeError(
            f"{op}: grad_output and output must have the same shape, got "
            f"{tuple(grad_output.shape)} and {tuple(output.shape)}"
        )
    if grad_output.dtype != output.dtype:
        raise DTypeError(
            f"{op}: grad_output and output must have the same dtype, got {grad_output.dtype} and {output.dtype}"
        )
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise DTypeError(f"{op}: expected dim to be an int, got {dim!r}")
    normalize_dims(op, output.ndim, dim)  # raises for a dim out of range
    want = dtypes.to_np_dtype(input_dtype) if input_dtype is not None else None
    # a float16 input whose softmax ran in float32 (half_to_float) takes its gradient back in float16;
    # any other pair keeps the gradient's dtype, as PyTorch's
    narrower = want is not None and want == np.float16 and grad_output._data.dtype == np.float32
    return (want if narrower else None), dim


def _softmax_backward_data(grad_output: Tensor, output: Tensor, dim: int, input_dtype: Any) -> Tensor:
    """The gradient of softmax's input from its output z: z * (g - sum(g * z, dim)).

    PyTorch's private ``torch._softmax_backward_data``, which custom autograd Functions (EDM's
    attention) call in their backward. Built from differentiable ops, so it has a double backward.

    Shape:
        grad_output and output: any shape, the same; the result has that shape.
    """
    cast, dim = _backward_operands("_softmax_backward_data", grad_output, output, dim, input_dtype)
    out = output * (grad_output - (grad_output * output).sum(dim, keepdim=True))
    return out if cast is None else _K.cast(out, cast)


def _log_softmax_backward_data(grad_output: Tensor, output: Tensor, dim: int, input_dtype: Any) -> Tensor:
    """The gradient of log_softmax's input from its output z: g - e^z * sum(g, dim).

    Shape:
        grad_output and output: any shape, the same; the result has that shape.
    """
    cast, dim = _backward_operands("_log_softmax_backward_data", grad_output, output, dim, input_dtype)
    out = grad_output - output.exp() * grad_output.sum(dim, keepdim=True)
    return out if cast is None else _K.cast(out, cast)
