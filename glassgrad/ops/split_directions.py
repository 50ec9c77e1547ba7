"""``hsplit``, ``vsplit`` and ``dsplit``: NumPy-style splits along a fixed dim, PyTorch's
``tensor_split`` with its checks (an int number of sections must divide the dim evenly); and the
public ``tensor_split``, which takes the split points also by the names of PyTorch's overloads
(``tensor_split(x, indices=(-1,), dim=-3)``, torchvision's ``affine``; port round 37).

Each returns a tuple of views of the input, as ``tensor_split``'s (nodes ``SliceBackward0``).
"""

from __future__ import annotations

import operator
from typing import Any

from glassgrad.errors import ShapeError
from glassgrad.operand_errors import size_int
from glassgrad.ops.movement_more import tensor_split as _tensor_split
from glassgrad.tensor import Tensor

__all__ = ["hsplit", "vsplit", "dsplit", "tensor_split"]

_KINDS = (
    ("indices", "a sequence of ints"),
    ("sections", "an int"),
    ("tensor_indices_or_sections", "a Tensor"),
)


def _overload_operand(op: str, ios: Any, given: dict) -> Any:
    """The split points, given positionally (``indices_or_sections``) or by the name of one of
    PyTorch's overloads (``indices=``, ``sections=``, ``tensor_indices_or_sections=``)."""
    named = {k: v for k, v in given.items() if v is not None}
    if not named:
        if ios is None:
            raise TypeError(
                f"{op}(): missing the split points: an int number of sections or a sequence of indices"
            )
        return ios
    if ios is not None or len(named) > 1:
        raise TypeError(
            f"{op}(): got the split points more than once ({', '.join(['indices_or_sections', *named])})"
        )
    (name, value), what = next(iter(named.items())), dict(_KINDS)
    ok = {
        "indices": not isinstance(value, int | Tensor) and hasattr(value, "__iter__"),
        "sections": size_int(value) is not None,  # a NumPy or one-element tensor integer too
        "tensor_indices_or_sections": isinstance(value, Tensor),
    }[name]
    if not ok:
        raise TypeError(f"{op}(): argument '{name}' must be {what[name]}, got {type(value).__name__}")
    return size_int(value) if name == "sections" else value


def tensor_split(
    input: Tensor,  # noqa: A002
    indices_or_sections: Any = None,
    dim: int = 0,
    *,
    indices: Any = None,
    sections: Any = None,
    tensor_indices_or_sections: Any = None,
) -> tuple[Tensor, ...]:
    """Views of ``input`` along ``dim``: ``n`` near-equal sections (the first ``size % n`` one
    longer), or the pieces between the given indices (clamped to the dim, as slices are).

    Shape:
        x ``(*A, n, *B)`` -> pieces ``(*A, n_i, *B)``.
    """
    given = {
        "indices": indices,
        "sections": sections,
        "tensor_indices_or_sections": tensor_indices_or_sections,
    }
    return _tensor_split(input, _overload_operand("tensor_split", indices_or_sections, given), dim)


def _split_along(op: str, x: Tensor, ios: Any, min_dims: int, dim: int) -> tuple[Tensor, ...]:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(x).__name__}")
    if x.ndim < min_dims:
        raise ShapeError(
            f"torch.{op} requires a tensor with at least {min_dims} dimension, but got a tensor with "
            f"{x.ndim} dimensions!"
        )
    if ios.__class__ is not int and getattr(ios, "ndim", 0) == 0 and (i := size_int(ios)) is not None:
        ios = i  # a NumPy or 0-d tensor integer is a number of sections, as PyTorch's parser reads it
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
    return _tensor_split(x, ios, dim)


def hsplit(
    input: Tensor,  # noqa: A002
    indices_or_sections: Any = None,
    *,
    indices: Any = None,
    sections: Any = None,
) -> tuple[Tensor, ...]:
    """Split along dim 1 (dim 0 of a 1-D input), as ``numpy.hsplit``.

    Shape:
        x ``(n,)`` or ``(a, n, *B)`` -> pieces ``(n_i,)`` / ``(a, n_i, *B)`` with ``sum(n_i) = n``.
    """
    dim = 1 if isinstance(input, Tensor) and input.ndim >= 2 else 0
    ios = _overload_operand("hsplit", indices_or_sections, {"indices": indices, "sections": sections})
    return _split_along("hsplit", input, ios, 1, dim)


def vsplit(
    input: Tensor,  # noqa: A002
    indices_or_sections: Any = None,
    *,
    indices: Any = None,
    sections: Any = None,
) -> tuple[Tensor, ...]:
    """Split along dim 0 of an input of at least 2 dims, as ``numpy.vsplit``.

    Shape:
        x ``(n, *B)`` -> pieces ``(n_i, *B)`` with ``sum(n_i) = n``.
    """
    ios = _overload_operand("vsplit", indices_or_sections, {"indices": indices, "sections": sections})
    return _split_along("vsplit", input, ios, 2, 0)


def dsplit(
    input: Tensor,  # noqa: A002
    indices_or_sections: Any = None,
    *,
    indices: Any = None,
    sections: Any = None,
) -> tuple[Tensor, ...]:
    """Split along dim 2 of an input of at least 3 dims, as ``numpy.dsplit``.

    Shape:
        x ``(a, b, n, *B)`` -> pieces ``(a, b, n_i, *B)`` with ``sum(n_i) = n``.
    """
    ios = _overload_operand("dsplit", indices_or_sections, {"indices": indices, "sections": sections})
    return _split_along("dsplit", input, ios, 3, 2)
