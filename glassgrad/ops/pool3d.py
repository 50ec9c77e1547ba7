"""Volumetric pooling primitives: max_pool3d, avg_pool3d and adaptive_max_pool3d.

The pooling ops of ``ops/pooling.py`` are written for any number of spatial dims; these are those
same bodies registered under their 3-D names: ``kd * kh * kw`` taps gathered into a contiguous
``(K, N, C, Do, Ho, Wo)`` array, a loop over the kernel taps and never over voxels or batch items.
Adaptive average pooling is three matmuls (in ``nn.functional.pooling``). Backward is first-order
only.
"""

from __future__ import annotations

from glassgrad.ops.pooling import (
    _AdaptiveMaxPool,
    _AvgPool,
    _MaxPool,
    adaptive_max_windows,
    max_pool_indices_nd,
    max_windows_nd,
)

__all__ = ["MaxPool3d", "AvgPool3d", "AdaptiveMaxPool3d", "max_windows_nd", "max_pool_indices_nd"]

#: ``(max, flat index (d * H + h) * W + w)`` per adaptive bin: the any-dims helper, by its 3-D name.
adaptive_max_windows_nd = adaptive_max_windows


class MaxPool3d(_MaxPool):
    """Max pooling over volumes (see ``ops.pooling._MaxPool``); a voxel that is the maximum of
    several overlapping windows sums their gradients.

    Shape:
        x ``(N, C, D, H, W)`` -> ``(N, C, Do, Ho, Wo)``.
    """

    name = "max_pool3d"
    node_name = "MaxPool3DWithIndicesBackward0"  # PyTorch's


class AvgPool3d(_AvgPool):
    """Average pooling over volumes (see ``ops.pooling._AvgPool``).

    Shape:
        x ``(N, C, D, H, W)`` -> ``(N, C, Do, Ho, Wo)``.
    """

    name = "avg_pool3d"
    node_name = "AvgPool3DBackward0"  # PyTorch's


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Adaptive max pooling over volumes (see ``ops.pooling._AdaptiveMaxPool``).

    Shape:
        x ``(N, C, D, H, W)`` -> ``(N, C, *output_size)``.
    """

    name = "adaptive_max_pool3d"
    node_name = "AdaptiveMaxPool3DBackward0"  # PyTorch's
