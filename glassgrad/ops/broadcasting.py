"""Broadcasting: ``torch.broadcast_shapes`` and ``torch.broadcast_tensors`` (re-exported by
movement_more.py). A shape that does not broadcast gets PyTorch's words ("Attempting to broadcast a
dimension of length ...", which programs match: BoTorch's tests), after the op's name.
"""

from __future__ import annotations

import operator
from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError, size_mismatch
from glassgrad.tensor import Size, Tensor

__all__ = ["broadcast_shapes", "broadcast_tensors"]


# ------------------------------------------------------------------ broadcasting
def broadcast_shapes(*shapes: Any) -> Size:
    """The shape that tensors of ``shapes`` broadcast to (an int stands for a 1-D shape)."""
    norm = []
    for s in shapes:
        try:
            norm.append(
                (operator.index(s),) if not isinstance(s, tuple | list) else tuple(map(operator.index, s))
            )
        except TypeError:
            raise DTypeError(f"broadcast_shapes: expected shapes of ints, got {s!r}") from None
        if any(n < 0 for n in norm[-1]):
            raise ShapeError(f"broadcast_shapes: expected non-negative sizes, got {s!r}")
    try:
        return Size(array_module().broadcast_shapes(*norm))
    except ValueError:
        raise ShapeError(f"broadcast_shapes: {_mismatch(shapes, norm)}") from None


def _mismatch(shapes: tuple, norm: list) -> str:
    """PyTorch's words for the first size that does not broadcast (programs match them)."""
    common = [1] * max(len(n) for n in norm)
    for arg, (given, shape) in enumerate(zip(shapes, norm, strict=True)):
        for i in range(-1, -1 - len(shape), -1):
            if common[i] == 1:
                common[i] = shape[i]
            elif shape[i] not in (1, common[i]):
                had = given if isinstance(given, tuple | list) else shape
                return (
                    f"Attempting to broadcast a dimension of length {shape[i]} at {i}! Mismatching "
                    f"argument at index {arg} had {had}; but expected shape should be broadcastable "
                    f"to {common}"
                )
    return f"shapes {', '.join(map(str, norm))} do not broadcast together"  # (not reached)


def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    """The tensors expanded (views, no copies) to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    shapes = [tuple(t.shape) for t in tensors]
    try:
        shape = array_module().broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(
            f"broadcast_tensors: shapes {', '.join(map(str, shapes))} do not broadcast together"
            f"{size_mismatch(shapes)}"
        ) from None
    return tuple(t if tuple(t.shape) == shape else t.expand(*shape) for t in tensors)
