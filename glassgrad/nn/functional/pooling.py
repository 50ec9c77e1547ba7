"""Pooling functions with PyTorch's signatures: max, average, adaptive, unpooling and power-average.

Max pooling, average pooling and adaptive max pooling are fused primitives in
``glassgrad.ops.pooling`` (``ops.pool3d`` for volumes); adaptive average pooling is one matmul per
spatial axis with fixed averaging matrices (window sums for an input holding inf or nan), max
unpooling a scatter, LP pooling a composite of average pooling. The 1-D functions run the 2-D ones
on a height of 1. An input without a batch dim is a batch of one. The ``_max_pool``/``_avg_pool``/``_adaptive_*`` bodies here take the number of
spatial dims and also serve the 3-D functions of ``nn.functional.pool3d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import named
from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.errors import ShapeError
from glassgrad.nn.functional.conv import _batched, _unbatched, ntuple
from glassgrad.nn.functional.image_taps import adaptive_avg_taps, averaging_matrix, has_nonfinite
from glassgrad.nn.functional.pool_args import (
    adaptive_nonempty_or_raise,
    adaptive_size,
    check_pool_dtype,
    pool_args,
    pool_output_size,  # part of this module's API
    windows_or_raise,
)
from glassgrad.nn.functional.unpool import max_unpool1d, max_unpool2d  # part of this module's API
from glassgrad.operand_errors import scalar_int
from glassgrad.ops import conversion as _K
from glassgrad.ops import pool3d as _P3
from glassgrad.ops import pooling as _P
from glassgrad.ops.layout import channels_last_if
from glassgrad.ops.matmul import matmul
from glassgrad.tensor import Tensor

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "max_unpool1d",
    "max_unpool2d",
    "lp_pool1d",
    "lp_pool2d",
    "pool_output_size",
]


def _to2d(nd: int, x: Tensor, *pairs: tuple) -> tuple:
    """1-D arguments as 2-D ones on a height of 1: ``(N, C, L) -> (N, C, 1, L)``, ``(k,) -> (1, k)``;
    2-D and 3-D ones pass through."""
    if nd != 1:
        return (x, *pairs)
    fill = {0: 1, 1: 1, 2: 0, 3: 1}  # kernel, stride, padding, dilation
    return (x.unsqueeze(2), *((fill[i], *p) for i, p in enumerate(pairs)))


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):  # noqa: A002
    """``max_pool{nd}d``: ``(N, C, *spatial)`` or ``(C, *spatial)`` -> ``(N, C, *windows)`` (and indices)."""
    x, unbatched = _batched(op, input, nd)
    kernel, stride, padding, dilation = pool_args(op, x, nd, kernel_size, stride, padding, dilation)
    check_pool_dtype(op, x, nd > 1 or return_indices)  # PyTorch's max_pool1d without indices: float only
    sizes = windows_or_raise(op, x, kernel, stride, padding, dilation, ceil_mode)
    x, kernel, stride, padding, dilation = _to2d(nd, x, kernel, stride, padding, dilation)
    sizes = (1, *sizes) if nd == 1 else sizes
    # ceil_mode's extra windows read past the end: pad the far side until the last window fits
    pads = tuple(
        (p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p))
        for n, o, k, s, p, d in zip(x.shape[2:], sizes, kernel, stride, padding, dilation)
    )
    pool = _P3.MaxPool3d if nd == 3 else _P.MaxPool2d
    out = pool.apply(x, kernel=kernel, stride=stride, dilation=dilation, padding=pads)
    idx = None
    if return_indices:
        _, arg = _P.max_windows_nd(x._data, kernel, stride, dilation, pads)
        idx = Tensor(_P.max_pool_indices_nd(arg, kernel, stride, dilation, pads, x.shape[2:]), _wrap=True)
    # PyTorch's max_pool1d without indices and without grad has its own kernel (a contiguous
    # result); otherwise it is max_pool2d's, whose layout _cl1d copies
    if nd == 1 and (return_indices or (x.requires_grad and is_grad_enabled())):
        out, idx = _cl1d(out, x, unbatched), _cl1d(idx, x, unbatched)
    out, idx = _unbatched(out, nd, unbatched), _unbatched(idx, nd, unbatched)
    return (out, idx) if return_indices else out


def _cl1d(out: Tensor | None, x: Tensor, unbatched: bool) -> Tensor | None:
    """A batched 1-D pooling's ``(N, C, 1, Lo)`` output laid out as PyTorch's: it runs the 2-D
    kernel on ``input.unsqueeze(-2)``, so an ``(N, C, L)`` input with channel stride 1 (a permuted
    ``(N, L, C)``) gives ``(N, C, Lo)`` with channel stride 1, and ``.view`` of the permuted-back
    result works. An unbatched ``(C, L)`` input is 3-D there: no channels-last."""
    return out if out is None or unbatched else channels_last_if(out, x)


def _cl(res: Any, input: Tensor) -> Any:  # noqa: A002
    """A 2-D pooling's (or 3-D max pooling's) output and indices channels-last when its input is,
    as PyTorch's."""
    if isinstance(res, tuple):
        return tuple(channels_last_if(r, input) for r in res)
    return channels_last_if(res, input)


def max_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Maximum over each ``kernel_size`` window (``stride`` defaults to the kernel size).

    Backward sends each window's gradient to its maximum only (the first one on ties); a pixel
    that is the maximum of several overlapping windows gets the sum of their gradients.

    Args:
        padding: implicit -inf (an integer dtype's minimum) on both sides, at most half the kernel.
        ceil_mode: round the window count up (a last partial window), as PyTorch.
        return_indices: also return each maximum's flat index ``row * W + col`` (for ``max_unpool2d``).

    Shape:
        input ``(N, C, H, W)``; returns ``(N, C, Ho, Wo)``, ``Ho = floor((H + 2p - d(k-1) - 1) / s) + 1``.

    >>> import glassgrad as gg
    >>> max_pool2d(gg.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _cl(
        _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices),
        input,
    )


def max_pool1d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """1-D max pooling (see ``max_pool2d``).

    Shape:
        input ``(N, C, L)``; returns ``(N, C, Lo)``.
    """
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):  # noqa: A002
    """``avg_pool{nd}d``: ``(N, C, *spatial)`` or ``(C, *spatial)`` -> ``(N, C, *windows)``."""
    x, unbatched = _batched(op, input, nd)
    kernel, stride, padding, _ = pool_args(op, x, nd, kernel_size, stride, padding, 1)
    check_pool_dtype(op, x, False, int64=True)
    sizes = windows_or_raise(op, x, kernel, stride, padding, (1,) * nd, ceil_mode)
    # PyTorch refuses only a zero divisor; a negative one divides as given
    if divisor_override is not None and ((d := scalar_int(divisor_override)) is None or d == 0):
        raise ShapeError(f"{op}: expected divisor_override to be a nonzero int, got {divisor_override!r}")
    x, kernel, stride, padding = _to2d(nd, x, kernel, stride, padding)
    sizes = (1, *sizes) if nd == 1 else sizes
    extra = tuple(
        max(0, (o - 1) * s + k - n - 2 * p)
        for n, o, k, s, p in zip(x.shape[2:], sizes, kernel, stride, padding)
    )
    pool = _P3.AvgPool3d if nd == 3 else _P.AvgPool2d
    out = pool.apply(
        x,
        kernel=kernel,
        stride=stride,
        padding=padding,
        extra=extra,
        count_include_pad=bool(count_include_pad),
        divisor=None if divisor_override is None else d,  # a NumPy or 0-d tensor int read as its int
    )
    if nd == 1:
        out = _cl1d(out, x, unbatched)
    return _unbatched(out, nd, unbatched)


def avg_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over each window; padded zeros count unless ``count_include_pad=False``;
    ``divisor_override`` replaces the window size as the divisor.

    Shape:
        input ``(N, C, H, W)``; returns ``(N, C, Ho, Wo)``.
    """
    out = _avg_pool(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    return _cl(out, input)


def avg_pool1d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling (see ``avg_pool2d``).

    Shape:
        input ``(N, C, L)``; returns ``(N, C, Lo)``.
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def _adaptive_avg(op: str, nd: int, input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """``adaptive_avg_pool{nd}d``: one matmul per spatial axis, ``(N, C, *spatial) -> (N, C, *output_size)``."""
    if nd > 1 and input.ndim not in (nd + 1, nd + 2) and _ones(output_size, nd) and input.ndim >= nd:
        # PyTorch's output size 1 is a mean over the last nd dims, of an input of any rank
        # (AdaptiveAvgPool2d(1) on a (N, C, T, H, W) clip): (*, *spatial) -> (*, 1, ..., 1)
        return named(input.mean(tuple(range(-nd, 0)), keepdim=True), "MeanBackward1")
    x, unbatched = _batched(op, input, nd)
    if nd == 3:  # PyTorch's 3-D kernel refuses an empty non-batch dim; its 1-D/2-D ones take it
        adaptive_nonempty_or_raise(op, input)
    size = adaptive_size(op, x, nd, output_size)
    half = x._data.dtype == np.float16
    if half:  # PyTorch's kernel sums float16 windows in float32 and rounds once; float16 weights
        x = _K.cast(x, np.float32)  # (1/3 ...) and a rounding per axis put results ulps off
    dtype = x._data.dtype
    if has_nonfinite(x):  # each window summed, as PyTorch's kernel: a matmul's 0 * inf is nan elsewhere
        out = adaptive_avg_taps(x, size)
    else:
        out = matmul(x, averaging_matrix(x.shape[-1], size[-1], dtype, x.is_meta).t())  # (..., W) @ (W, Wo)
        if nd >= 2:  # (Ho, H) @ (..., H, Wo) -> (..., Ho, Wo)
            out = matmul(averaging_matrix(x.shape[-2], size[-2], dtype, x.is_meta), out)
        if nd == 3:  # (Do, D) @ (N, C, D, Ho*Wo) -> (N, C, Do, Ho*Wo), H and W flattened
            n, c, d = x.shape[:3]
            m = averaging_matrix(d, size[0], dtype, x.is_meta)
            out = matmul(m, out.reshape(n, c, d, size[1] * size[2])).reshape(n, c, *size)
    out = _K.cast(out, np.float16) if half else out
    out = out.squeeze(0) if unbatched else out
    # PyTorch's nodes: 1-D pooling is the 2-D one (recorded._LINKED_CALLS) and a squeeze; ones: a mean
    if nd == 1:
        out = out if size[-1] == 1 else named(out.unsqueeze(-2), "AdaptiveAvgPool2DBackward0").squeeze(-2)
        return named(out, "SqueezeBackward1")
    return named(out, "MeanBackward1" if all(o == 1 for o in size) else f"AdaptiveAvgPool{nd}DBackward0")


def _ones(output_size: Any, nd: int) -> bool:
    """Whether ``output_size`` is 1 along each of the ``nd`` dims (``1``, ``(1, 1)``)."""
    if output_size.__class__ is int:
        return output_size == 1
    return (
        isinstance(output_size, (tuple, list))
        and len(output_size) == nd
        and all(o.__class__ is int and o == 1 for o in output_size)
    )


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Mean over adaptive bins: bin ``i`` of ``o`` over ``n`` covers ``[floor(i n / o), ceil((i+1) n / o))``.

    Averaging along each axis is a fixed linear map, so this is two matmuls and needs no op of its own.

    Shape:
        input ``(N, C, H, W)``; returns ``(N, C, *output_size)`` (None keeps that input size).
    """
    return _cl(_adaptive_avg("adaptive_avg_pool2d", 2, input, output_size), input)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """1-D adaptive average pooling (see ``adaptive_avg_pool2d``).

    Shape:
        input ``(N, C, L)``; returns ``(N, C, output_size)``.
    """
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def _adaptive_max(op: str, nd: int, input: Tensor, output_size: Any, return_indices: bool) -> Any:  # noqa: A002
    """``adaptive_max_pool{nd}d``: ``(N, C, *spatial) -> (N, C, *output_size)`` (and indices)."""
    x, unbatched = _batched(op, input, nd)
    adaptive_nonempty_or_raise(op, input)
    size = adaptive_size(op, x, nd, output_size)
    if nd == 1:
        x, size = x.unsqueeze(2), (1, *size)  # (N, C, L) -> (N, C, 1, L)
    pool = _P3.AdaptiveMaxPool3d if nd == 3 else _P.AdaptiveMaxPool2d
    out = pool.apply(x, output_size=size)
    idx = Tensor(_P.adaptive_max_windows(x._data, size)[1], _wrap=True) if return_indices else None
    out, idx = _unbatched(out, nd, unbatched), _unbatched(idx, nd, unbatched)
    return (out, idx) if return_indices else out


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Maximum over adaptive bins (see ``adaptive_avg_pool2d``); first maximum on ties.

    Shape:
        input ``(N, C, H, W)``; returns ``(N, C, *output_size)``.
    """
    return _cl(_adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices), input)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """1-D adaptive max pooling.

    Shape:
        input ``(N, C, L)``; returns ``(N, C, output_size)``.
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def _lp_pool(
    nd: int,
    input: Tensor,  # noqa: A002
    norm_type: float,
    kernel_size: Any,
    stride: Any,
    ceil_mode: bool,
    pools: tuple = (),
) -> Tensor:
    """(Σ_window x^p)^(1/p) from the average pool of x^p; ``pools`` = (avg, max) for ``nd`` = 3."""
    kernel = ntuple(kernel_size, nd, f"lp_pool{nd}d", "kernel_size", 1)
    pool, peak = pools or ((avg_pool2d, max_pool2d) if nd == 2 else (avg_pool1d, max_pool1d))
    if norm_type in (float("inf"), float("-inf")):  # the limits: the largest (smallest) |x| of each window
        sign = 1.0 if norm_type > 0 else -1.0
        return peak(input.abs() * sign, kernel, stride, 0, 1, ceil_mode) * sign
    mean = pool(input**norm_type, kernel, stride, 0, ceil_mode)
    total = mean.sign() * mean.abs().relu() * int(np.prod(kernel))  # the window sum of x^p
    return total ** (1.0 / norm_type)


def lp_pool2d(
    input: Tensor,  # noqa: A002
    norm_type: float,
    kernel_size: Any,
    stride: Any = None,
    ceil_mode: bool = False,
) -> Tensor:
    """Power-average pooling: ``(sum over the window of x^p)^(1/p)``; ``p = inf`` is max pooling of ``|x|``
    (``-inf`` the minimum of ``|x|``), as PyTorch.

    Shape:
        input ``(N, C, H, W)``; returns ``(N, C, Ho, Wo)``.
    """
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool1d(
    input: Tensor,  # noqa: A002
    norm_type: float,
    kernel_size: Any,
    stride: Any = None,
    ceil_mode: bool = False,
) -> Tensor:
    """1-D power-average pooling (see ``lp_pool2d``).

    Shape:
        input ``(N, C, L)``; returns ``(N, C, Lo)``.
    """
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)
