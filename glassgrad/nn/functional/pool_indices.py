"""PyTorch's ``*_with_indices`` spellings of max pooling: the pooled values and the flat index of
each maximum, always (``return_indices`` is accepted and ignored, as in PyTorch)."""

from __future__ import annotations

from typing import Any

from glassgrad.nn.functional.pool3d import adaptive_max_pool3d, max_pool3d
from glassgrad.nn.functional.pooling import adaptive_max_pool1d, adaptive_max_pool2d, max_pool1d, max_pool2d
from glassgrad.tensor import Tensor

__all__ = [
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices",
]  # fmt: skip


def _max(pool: Any) -> Any:
    def with_indices(
        input: Tensor,  # noqa: A002
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        ceil_mode: bool = False,
        return_indices: bool = False,
    ) -> tuple[Tensor, Tensor]:
        return pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)

    with_indices.__name__ = with_indices.__qualname__ = f"{pool.__name__}_with_indices"
    with_indices.__doc__ = f"``{pool.__name__}(..., return_indices=True)``: ``(output, indices)``."
    return with_indices


def _adaptive(pool: Any) -> Any:
    def with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> tuple[Tensor, Tensor]:  # noqa: A002
        return pool(input, output_size, return_indices=True)

    with_indices.__name__ = with_indices.__qualname__ = f"{pool.__name__}_with_indices"
    with_indices.__doc__ = f"``{pool.__name__}(..., return_indices=True)``: ``(output, indices)``."
    return with_indices


max_pool1d_with_indices = _max(max_pool1d)
max_pool2d_with_indices = _max(max_pool2d)
max_pool3d_with_indices = _max(max_pool3d)
adaptive_max_pool1d_with_indices = _adaptive(adaptive_max_pool1d)
adaptive_max_pool2d_with_indices = _adaptive(adaptive_max_pool2d)
adaptive_max_pool3d_with_indices = _adaptive(adaptive_max_pool3d)
