"""The argument checks of the pooling functions: kernel, stride, padding and dilation, window
counts, adaptive output sizes, and the input dtypes each of PyTorch's pooling kernels takes."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.errors import ShapeError, SizeTypeError, kernel_dtype_error
from glassgrad.nn.functional.conv import ntuple
from glassgrad.operand_errors import size_int
from glassgrad.tensor import Tensor

__all__ = [
    "pool_output_size",
    "pool_args",
    "check_pool_dtype",
    "windows_or_raise",
    "adaptive_size",
    "adaptive_nonempty_or_raise",
]

#: the CPU kernel PyTorch names when it refuses a dtype ("\"avg_pool2d\" not implemented for 'Int'"):
#: the 1-D functions run the 2-D kernels
_KERNELS = {
    "max_pool1d": "max_pool2d", "max_pool2d": "max_pool2d", "max_pool3d": "max_pool3d",
    "avg_pool1d": "avg_pool2d", "avg_pool2d": "avg_pool2d", "avg_pool3d": "avg_pool3d_out_frame",
    "adaptive_avg_pool1d": "adaptive_avg_pool2d", "adaptive_avg_pool2d": "adaptive_avg_pool2d",
    "adaptive_avg_pool3d": "adaptive_avg_pool3d_cpu", "adaptive_max_pool1d": "adaptive_max_pool2d",
    "adaptive_max_pool2d": "adaptive_max_pool2d", "adaptive_max_pool3d": "adaptive_max_pool3d_cpu",
}  # fmt: skip


def pool_output_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """Windows along one axis: ``floor`` (or ``ceil``) of ``(n + 2p - d(k-1) - 1) / s``, plus 1; in
    ceil mode a last window that would start inside the right padding is dropped (as PyTorch)."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def pool_args(
    op: str, x: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any
) -> tuple:
    kernel = ntuple(kernel_size, nd, op, "kernel_size", 1, one=True)
    no_stride = stride is None or (isinstance(stride, list | tuple) and not stride)  # NumPy ints too
    stride = kernel if no_stride else ntuple(stride, nd, op, "stride", 1, one=True)
    padding = ntuple(padding, nd, op, "padding", one=True)
    dilation = ntuple(dilation, nd, op, "dilation", 1, one=True)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ShapeError(f"{op}: expected padding at most half the kernel size {kernel}, got {padding}")
    return kernel, stride, padding, dilation


def check_pool_dtype(op: str, x: Tensor, ints: bool, int64: bool = False) -> None:
    """Floating-point inputs; ``ints`` also admits PyTorch's integer dtypes for max pooling (int8 to
    int64 and uint8; not bool, not uint16 to uint64), ``int64`` int64 alone (average pooling).
    Another dtype is refused as PyTorch's kernel refuses it: a ``NotImplementedError``."""
    dt = x._data.dtype
    if (
        dt.kind != "f"
        and not (ints and (dt.kind == "i" or dt == np.uint8))
        and not (int64 and dt == np.int64)
    ):
        # max_pool1d without indices has its own kernel; with them it runs max_pool2d's
        kernel = "max_pool1d_impl" if op == "max_pool1d" and not ints else _KERNELS.get(op, op)
        raise kernel_dtype_error(op, kernel, dt)


def windows_or_raise(op: str, x: Tensor, kernel, stride, padding, dilation, ceil_mode) -> tuple[int, ...]:
    """The output's spatial sizes for the batched ``x`` ``(N, C, *spatial)``, or PyTorch's error."""
    # PyTorch's RuntimeError: only the batch may be empty (no channels or pixels is a bug upstream)
    if 0 in x.shape[1:]:
        raise ShapeError(
            f"{op}: Expected input's non-batch dimensions to have positive length, got input {x.shape} "
            "(N, C, *spatial); only N may be 0"
        )
    sizes = tuple(
        pool_output_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation)
    )
    if min(sizes) < 1:
        raise ShapeError(
            f"{op}: expected a padded input at least as large as the (dilated) kernel {kernel}, got input "
            f"{x.shape} with padding {padding} and dilation {dilation}"
        )
    return sizes


def adaptive_nonempty_or_raise(op: str, input: Tensor) -> None:  # noqa: A002
    """PyTorch's check in adaptive max pooling (1-D to 3-D) and 3-D adaptive average pooling: every dim
    of ``input`` (``(N, C, *spatial)`` or ``(C, *spatial)``) but the first is non-empty, so a batch with
    no channels is refused rather than pooled to an empty result; the 1-D/2-D average pools take it."""
    if 0 in input.shape[1:]:
        raise ShapeError(
            f"{op}(): Expected input to have non-zero size for non-batch dimensions, but input has "
            f"sizes {list(input.shape)} with dimension 0 being empty"
        )


def adaptive_size(op: str, x: Tensor, nd: int, output_size: Any) -> tuple[int, ...]:
    if nd > 1 and not isinstance(output_size, int | tuple | list):
        # PyTorch's 2-D and 3-D functions spread a Python int alone (``_list_with_default``) and
        # take len() of anything else: a 1-D tensor lists the sizes, while None, a NumPy integer or
        # a 0-d tensor is a TypeError there
        if not (isinstance(output_size, Tensor) and output_size.ndim == 1):
            raise SizeTypeError(
                f"{op}: expected output_size as an int or a sequence of {nd} ints, got "
                f"{type(output_size).__name__} {output_size!r:.40} (a NumPy integer or a 0-d tensor "
                "is spread by the 1-D functions only)"
            )
        output_size = tuple(output_size.tolist())
    if output_size is None or size_int(output_size) is not None:  # a NumPy integer too, as PyTorch's 1-D
        output_size = (output_size if output_size is None else size_int(output_size),) * nd
    listed = isinstance(output_size, tuple | list)
    size = tuple(n if o is None else size_int(o) for o, n in zip(output_size, x.shape[2:])) if listed else ()
    # PyTorch's TypeError for a size that is not an integer (2.5, "3"); its 1-D functions take no None
    if not listed or None in size or (nd == 1 and any(o is None for o in output_size)):
        raise SizeTypeError(
            f"{op}: expected output_size as an int or a tuple of {nd} ints, got {output_size!r}"
        )
    if len(output_size) != nd:
        raise ShapeError(f"{op}: expected output_size as an int or a tuple of {nd}, got {output_size!r}")
    if any(o < 1 for o in size):  # PyTorch's backward fails for 0: refused
        raise ShapeError(f"{op}: expected a positive output_size, got {output_size!r}")
    if min(x.shape[2:]) < 1:
        raise ShapeError(f"{op}: expected non-empty spatial dims, got input {x.shape}")
    if x._data.dtype.kind != "f":
        raise kernel_dtype_error(op, _KERNELS[op], x._data.dtype)
    return size
