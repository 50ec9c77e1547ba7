"""Index and block constructions: ``unravel_index`` and ``block_diag``, as PyTorch's."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.tensor import Tensor

__all__ = ["unravel_index", "block_diag"]


def unravel_index(indices: Any, shape: Any) -> tuple:
    """The coordinates in ``shape`` of flat ``indices`` (row-major): one int64 tensor per dim of
    shape, each of indices' shape. Negative indices count from the end, as PyTorch's."""
    import glassgrad as gg

    idx = indices if isinstance(indices, Tensor) else gg.tensor(indices)
    if idx._data.dtype.kind not in "iu":
        raise DTypeError(f"unravel_index: expected 'indices' to be integer dtype, but got {idx.dtype}")
    dims = _checked_shape(shape)
    size = math.prod(dims)
    xp = array_module(idx._data)
    # Compare and shift in int64, as PyTorch's kernel does: NumPy refuses a Python int that a
    # narrow dtype cannot hold (a uint8 index checked against a size of 3024 raised OverflowError).
    data = idx._data.astype(xp.int64, copy=False)
    if data.size and (bool((data >= size).any()) or bool((data < -size).any())):
        raise ValueError(
            f"unravel_index: expected indices in [-{size}, {size - 1}] for shape {dims}, got out-of-range ones"
        )
    coords = xp.unravel_index(xp.where(data < 0, data + size, data), dims) if dims else ()
    return tuple(Tensor(c.astype(xp.int64), _wrap=True) for c in coords)


def _checked_shape(shape: Any) -> tuple:
    """``shape`` as a tuple of ints, refused as PyTorch refuses it: a tensor, a float or a negative
    size (NumPy read a tensor's values or a float size, or reported a garbled range)."""
    if isinstance(shape, int):
        shape = (shape,)
    elif not isinstance(shape, Sequence) or isinstance(shape, str):
        raise TypeError(
            f"unravel_index: expected 'shape' to be int or sequence of ints, but got {type(shape)}"
        )
    for n in shape:
        if not isinstance(n, int):
            raise TypeError(
                f"unravel_index: expected 'shape' sequence to only contain ints, but got {type(n)}"
            )
    if any(n < 0 for n in shape):
        raise ValueError(f"unravel_index: 'shape' cannot have negative values, but got {tuple(shape)}")
    return tuple(shape)


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-d as 1 x 1, 1-d as one row, 2-d as they are) down a block diagonal, zeros
    elsewhere; dtypes promoted as PyTorch's. Differentiable. Shape: (Σ rows, Σ cols)."""
    import glassgrad as gg
    import glassgrad.nn.functional as F

    mats = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise ShapeError(
                f"block_diag: expected tensors of at most 2 dims, got shape {t.shape} at position {i}"
            )
        mats.append(t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t)
    if not mats:
        return gg.empty(1, 0)
    dtype = functools.reduce(gg.promote_types, [m.dtype for m in mats])
    width = sum(m.shape[1] for m in mats)
    rows, at = [], 0
    for m in mats:  # each block padded to the full width at its columns (a loop over blocks)
        rows.append(F.pad(m.to(dtype), (at, width - at - m.shape[1])))
        at += m.shape[1]
    return gg.cat(rows, 0)
