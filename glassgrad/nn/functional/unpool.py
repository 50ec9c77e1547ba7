"""Max unpooling: ``max_unpool1d``, ``max_unpool2d`` and ``max_unpool3d``, the partial inverse of max pooling.

Kept apart from ``pooling.py`` for size; ``glassgrad.nn.functional.pooling`` re-exports them.
"""

from __future__ import annotations

import math
from typing import Any

from glassgrad.deterministic import alert_not_deterministic
from glassgrad.errors import ShapeError
from glassgrad.factories import zeros
from glassgrad.meta_array import valued
from glassgrad.nn.functional.conv import _batched, ntuple
from glassgrad.ops.layout import channels_last_if
from glassgrad.ops.scatter import scatter
from glassgrad.tensor import Tensor

__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d"]


def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):  # noqa: A002
    x, unbatched = _batched(op, input, nd)
    kernel = ntuple(kernel_size, nd, op, "kernel_size", 1)
    stride = kernel if stride is None else ntuple(stride, nd, op, "stride", 1)
    padding = ntuple(padding, nd, op, "padding")
    size = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(x.shape[2:], stride, padding, kernel))
    if output_size is not None:
        want = tuple(int(v) for v in output_size)
        if len(want) not in (nd, nd + 2):
            raise ShapeError(
                f"{op}: expected output_size of {nd} or {nd + 2} sizes, got {tuple(output_size)}"
            )
        want = want[-nd:]
        # PyTorch's rule: strictly within one stride of the default size (else the flat indices
        # of the pooled plane would land in the wrong rows of the output plane)
        for d, (w, default, s) in enumerate(zip(want, size, stride)):
            if not default - s < w < default + s:
                raise ValueError(
                    f"{op}: invalid output_size {want} (dim {d} must be between {default - s} and "
                    f"{default + s}, exclusive)"
                )
        size = want
    idx = indices.unsqueeze(0) if unbatched else indices
    if tuple(idx.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: expected indices of the input's shape {x.shape}, got {indices.shape}")
    n, c = x.shape[:2]
    plane, pooled = math.prod(size), math.prod(x.shape[2:])  # not -1 below: N may be 0
    flat = idx._data.reshape(n, c, pooled).copy()  # the scatter saves it: a later change must not move it
    if flat.size and valued(flat) and (flat.min() < 0 or flat.max() >= plane):
        raise ShapeError(
            f"{op}: expected indices in [0, {plane}) for output size {size}, got {int(flat.max())}"
        )
    # PyTorch's CPU kernel alerts under use_deterministic_algorithms(True) (repeated indices from
    # overlapping windows would leave an unspecified winner there), so a script fails here as there
    alert_not_deterministic(f"max_unpooling{3 if nd == 3 else 2}d_forward_out")
    canvas = zeros(n, c, plane, dtype=x.dtype, device=x.device)
    # (N, C, H*W): each value written at its index. Overlapping windows repeat an index, always
    # for the same input element; it is written once, not summed (as PyTorch).
    out = scatter(canvas, 2, flat, x.reshape(n, c, pooled))
    out = out.reshape(n, c, *size)
    if nd == 2:  # PyTorch's 2-D unpooling answers channels-last for a channels-last input (3-D does not)
        out = channels_last_if(out, x)
    return out.squeeze(0) if unbatched else out


def max_unpool2d(
    input: Tensor,  # noqa: A002
    indices: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> Tensor:
    """Put each pooled value back at the position ``indices`` recorded (``max_pool2d(...,
    return_indices=True)``); everything else is 0.

    Shape:
        input, indices ``(N, C, H, W)``; returns ``(N, C, Ho, Wo)``, ``Ho = (H - 1) s - 2p + k`` unless
        ``output_size`` is given.
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool1d(
    input: Tensor,  # noqa: A002
    indices: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> Tensor:
    """1-D max unpooling (see ``max_unpool2d``).

    Shape:
        input, indices ``(N, C, L)``; returns ``(N, C, Lo)``.
    """
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(
    input: Tensor,  # noqa: A002
    indices: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> Tensor:
    """3-D max unpooling (see ``max_unpool2d``); ``indices`` from ``max_pool3d(..., return_indices=True)``.

    Shape:
        input, indices ``(N, C, D, H, W)`` or ``(C, D, H, W)``; returns ``(N, C, Do, Ho, Wo)``.
    """
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)
