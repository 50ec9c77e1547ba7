"""``hsplit``, ``vsplit`` and ``dsplit``: NumPy-style splits along a fixed dim, PyTorch's
``tensor_split`` with its checks (an int number of sections must divide the dim evenly).

Each returns a tuple of views of the input, as ``tensor_split``'s (nodes ``SliceBackward0``).
"""

from __future__ import annotations

import operator
from typing import Any

from glassgrad.errors import ShapeError
from glassgrad.ops.movement_more import tensor_split
from glassgrad.tensor import Tensor

__all__ = ["hsplit", "vsplit", "dsplit"]


def _split_along(op: str, x: Tensor, ios: Any, min_dims: int, dim: int) -> tuple[Tensor, ...]:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(x).__name__}")
    if x.ndim < min_dims:
        raise ShapeError(
            f"torch.{op} requires a tensor with at least {min_dims} dimension, but got a tensor with "
            f"{x.ndim} dimensions!"
        )
    if isinstance(ios, bool) or (not isinstance(ios, int) and not hasattr(ios, "__iter__")):
        raise TypeError(
            f"{op}(): argument 'indices_or_sections' must be an int (sections) or a tuple of ints "
            f"(indices), got {type(ios).__name__}"
        )
    if isinstance(ios, int):
        n = x.shape[dim]
        if ios == 0 or n % ios:
            raise ShapeError(
                f"torch.{op} attempted to split along dimension {dim}, but the size of the dimension "
                f"{n} is not divisible by the split_size {ios}!"
            )
    else:
        ios = [operator.index(i) for i in ios]
    return tensor_split(x, ios, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """Split along dim 1 (dim 0 of a 1-D input), as ``numpy.hsplit``.

    Shape:
        x ``(n,)`` or ``(a, n, *B)`` -> pieces ``(n_i,)`` / ``(a, n_i, *B)`` with ``sum(n_i) = n``.
    """
    dim = 1 if isinstance(input, Tensor) and input.ndim >= 2 else 0
    return _split_along("hsplit", input, indices_or_sections, 1, dim)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """Split along dim 0 of an input of at least 2 dims, as ``numpy.vsplit``.

    Shape:
        x ``(n, *B)`` -> pieces ``(n_i, *B)`` with ``sum(n_i) = n``.
    """
    return _split_along("vsplit", input, indices_or_sections, 2, 0)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """Split along dim 2 of an input of at least 3 dims, as ``numpy.dsplit``.

    Shape:
        x ``(a, b, n, *B)`` -> pieces ``(a, b, n_i, *B)`` with ``sum(n_i) = n``.
    """
    return _split_along("dsplit", input, indices_or_sections, 3, 2)
