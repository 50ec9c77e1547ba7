"""3-D pooling functions with PyTorch's signatures: max, average, adaptive average and adaptive max.

Each is the shared body of ``nn.functional.pooling`` (argument checks, ceil_mode, indices) with
three spatial dims: max, average and adaptive max pooling run the volumetric primitives of
``glassgrad.ops.pool3d``; adaptive average pooling is three matmuls with fixed averaging matrices
(one per axis). An input without a batch dim (``(C, D, H, W)``) is a batch of one.
"""

from __future__ import annotations

from typing import Any

from glassgrad.errors import ShapeError
from glassgrad.memory_formats import channels_last_3d
from glassgrad.nn.functional.conv import ntuple
from glassgrad.nn.functional.pooling import _adaptive_avg, _adaptive_max, _avg_pool, _cl, _lp_pool, _max_pool
from glassgrad.ops.layout import restride
from glassgrad.tensor import Tensor

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d", "lp_pool3d"]


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
    res = _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    if input.ndim == 4:
        return _cl_unbatched(res, input)
    return _cl(res, input)  # PyTorch's max_pool3d keeps channels_last_3d (its average pools do not)


def _cl_unbatched(res: Any, input: Tensor) -> Any:  # noqa: A002
    """An unbatched ``(C, D, H, W)`` max pooling's output (and indices) as PyTorch's CPU kernel lays
    them out: channels_last_3d strides (``(1, Do*Ho*Wo*C, Ho*Wo*C, Wo*C)``) when ``input`` is a
    squeezed channels_last_3d volume (``input.unsqueeze(0)`` is channels_last_3d-contiguous, as
    ``x[0]`` of one is), else contiguous; never a 4-D image's channels-last."""
    one = input.unsqueeze(0)
    if input.is_contiguous() or not one.is_contiguous(memory_format=channels_last_3d):
        return res
    if isinstance(res, tuple):
        return tuple(restride(r.unsqueeze(0), channels_last_3d).squeeze(0) for r in res)
    return restride(res.unsqueeze(0), channels_last_3d).squeeze(0)


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
    ``divisor_override`` replaces the window size as the divisor. As PyTorch, the unpadded input
    must be at least as large as the kernel.

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``; returns ``(N, C, Do, Ho, Wo)``.
    """
    kernel = ntuple(kernel_size, 3, "avg_pool3d", "kernel_size", 1, one=True)
    if input.ndim in (4, 5) and any(n < k for n, k in zip(input.shape[-3:], kernel)):
        raise ShapeError(  # PyTorch refuses this before padding, unlike avg_pool1d/2d
            f"avg_pool3d: expected an input at least as large as the kernel {kernel} (before padding), "
            f"got shape {input.shape}"
        )
    return _avg_pool(
        "avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Mean over adaptive bins: bin ``i`` of ``o`` over ``n`` covers ``[floor(i n / o), ceil((i+1) n / o))``.

    A fixed linear map per axis: three matmuls (W, then H, then D with H and W flattened).

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``; returns ``(N, C, *output_size)`` (None keeps
        that input size).
    """
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Maximum over adaptive bins (see ``adaptive_avg_pool3d``); first maximum on ties.

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``; returns ``(N, C, *output_size)``.
    """
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def lp_pool3d(
    input: Tensor,  # noqa: A002
    norm_type: float,
    kernel_size: Any,
    stride: Any = None,
    ceil_mode: bool = False,
) -> Tensor:
    """3-D power-average pooling, ``(sum over the window of x^p)^(1/p)`` (see ``lp_pool2d``).

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``; returns ``(N, C, Do, Ho, Wo)``.
    """
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode, (avg_pool3d, max_pool3d))
