"""3-D pooling functions with PyTorch's signatures: max, average, adaptive average and adaptive max.

Max, average and adaptive max pooling are the volumetric primitives of ``glassgrad.ops.pool3d``;
adaptive average pooling is three matmuls with the fixed averaging matrices of
``nn.functional.pooling`` (one per axis). Arguments are validated by the 1-D/2-D functions'
helpers. An input without a batch dim (``(C, D, H, W)``) is a batch of one.
"""

from __future__ import annotations

from typing import Any

from glassgrad.errors import ShapeError
from glassgrad.nn.functional.conv import _batched
from glassgrad.nn.functional.pooling import _adaptive_size, _averaging_matrix, _pool_args, _windows_or_raise
from glassgrad.ops import pool3d as _P3
from glassgrad.ops.matmul import matmul
from glassgrad.tensor import Tensor

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]


def _out(t: Tensor | None, unbatched: bool) -> Tensor | None:
    return t.squeeze(0) if (t is not None and unbatched) else t


def max_pool3d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Maximum over each ``kernel_size`` window of a volume (``stride`` defaults to the kernel size).

    Backward sends each window's gradient to its (first) maximum; a voxel that is the maximum of
    several overlapping windows gets the sum of their gradients. ``return_indices`` also returns
    each maximum's flat index ``d * H * W + h * W + w``.

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``; returns ``(N, C, Do, Ho, Wo)``,
        ``Do = floor((D + 2p - dl(k-1) - 1) / s) + 1`` (ceil with ``ceil_mode``).

    >>> import glassgrad as gg
    >>> max_pool3d(gg.arange(8.0).reshape(1, 1, 2, 2, 2), 2).flatten().tolist()
    [7.0]
    """
    op = "max_pool3d"
    x, unbatched = _batched(op, input, 3)
    kernel, stride, padding, dilation = _pool_args(op, x, 3, kernel_size, stride, padding, dilation)
    sizes = _windows_or_raise(op, x, kernel, stride, padding, dilation, ceil_mode)
    pads = tuple(  # ceil_mode's extra windows read past the end: pad the far side until they fit
        (p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p))
        for n, o, k, s, p, d in zip(x.shape[2:], sizes, kernel, stride, padding, dilation)
    )
    out = _P3.MaxPool3d.apply(x, kernel=kernel, stride=stride, dilation=dilation, padding=pads)
    if not return_indices:
        return _out(out, unbatched)
    _, arg = _P3.max_windows_nd(x._data, kernel, stride, dilation, pads)
    idx = Tensor(_P3.max_pool_indices_nd(arg, kernel, stride, dilation, pads, tuple(x.shape[2:])), _wrap=True)
    return _out(out, unbatched), _out(idx, unbatched)


def avg_pool3d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over each window of a volume; padded zeros count unless ``count_include_pad=False``;
    ``divisor_override`` replaces the window size as the divisor.

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``; returns ``(N, C, Do, Ho, Wo)``.
    """
    op = "avg_pool3d"
    x, unbatched = _batched(op, input, 3)
    kernel, stride, padding, _ = _pool_args(op, x, 3, kernel_size, stride, padding, 1)
    sizes = _windows_or_raise(op, x, kernel, stride, padding, (1, 1, 1), ceil_mode)
    if divisor_override is not None and (not isinstance(divisor_override, int) or divisor_override <= 0):
        raise ShapeError(f"{op}: expected divisor_override to be a positive int, got {divisor_override!r}")
    extra = tuple(
        max(0, (o - 1) * s + k - n - 2 * p)
        for n, o, k, s, p in zip(x.shape[2:], sizes, kernel, stride, padding)
    )
    out = _P3.AvgPool3d.apply(
        x,
        kernel=kernel,
        stride=stride,
        padding=padding,
        extra=extra,
        count_include_pad=bool(count_include_pad),
        divisor=divisor_override,
    )
    return _out(out, unbatched)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Mean over adaptive bins: bin ``i`` of ``o`` over ``n`` covers ``[floor(i n / o), ceil((i+1) n / o))``.

    A fixed linear map per axis: three matmuls (W, then H, then D with H and W flattened).

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``; returns ``(N, C, *output_size)`` (None keeps
        that input size).
    """
    op = "adaptive_avg_pool3d"
    x, unbatched = _batched(op, input, 3)
    (do, ho, wo) = _adaptive_size(op, x, 3, output_size)
    n, c, d, h, w = x.shape
    dt = x._data.dtype
    out = matmul(x, _averaging_matrix(w, wo, dt).t())  # (N, C, D, H, W) @ (W, Wo) -> (..., H, Wo)
    out = matmul(_averaging_matrix(h, ho, dt), out)  # (Ho, H) @ (N, C, D, H, Wo) -> (..., Ho, Wo)
    out = matmul(_averaging_matrix(d, do, dt), out.reshape(n, c, d, ho * wo))  # -> (N, C, Do, Ho*Wo)
    return _out(out.reshape(n, c, do, ho, wo), unbatched)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Maximum over adaptive bins (see ``adaptive_avg_pool3d``); first maximum on ties.

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``; returns ``(N, C, *output_size)``.
    """
    op = "adaptive_max_pool3d"
    x, unbatched = _batched(op, input, 3)
    size = _adaptive_size(op, x, 3, output_size)
    out = _P3.AdaptiveMaxPool3d.apply(x, output_size=size)
    if not return_indices:
        return _out(out, unbatched)
    idx = Tensor(_P3.adaptive_max_windows_nd(x._data, size)[1], _wrap=True)
    return _out(out, unbatched), _out(idx, unbatched)
