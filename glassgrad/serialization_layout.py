"""A saved tensor's memory layout: PyTorch saves a tensor's storage and strides, so a
channels-last or transposed tensor loads with its strides; safetensors holds C-ordered data only.

``save`` writes the data C-ordered as ever (any safetensors reader sees the logical values) and,
for a tensor laid out densely in another order, its element strides in the reference
(``"strides": [...]``); ``load`` copies the data into that layout again. A tensor with gaps or
overlaps (a slice, an ``expand``) loads C-ordered: PyTorch keeps the whole storage for those,
which safetensors cannot hold. A NumPy array keeps what NumPy's pickle keeps: Fortran order, else
C order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.errors import CheckpointError
from glassgrad.memory_formats import element_strides, non_overlapping_and_dense, plain, strided_zeros

__all__ = ["layout_fields", "restride"]

# A dim of size 1 may have any stride in PyTorch (a slice of a bigger tensor keeps its old one);
# it is never stepped, so it only has to stay clear of overflowing NumPy's byte strides.
_MAX_STRIDE = 1 << 48


def layout_fields(arr: np.ndarray, tensor: bool) -> dict[str, Any]:
    """What a reference to ``arr`` records beyond its C-ordered data: ``"complex": True`` (the
    data is the ``(..., 2)`` real pairs) and the strides of a dense non-C layout (of a tensor's
    data; of a NumPy array only when Fortran-ordered)."""
    fields: dict[str, Any] = {}
    if arr.dtype.kind == "c":
        fields["complex"] = True
    if not plain(arr) and (tensor or arr.flags.f_contiguous):
        strides = element_strides(arr)
        if non_overlapping_and_dense(arr.shape, strides):
            fields["strides"] = list(strides)
    return fields


def restride(arr: np.ndarray, strides: Any, key: str, where: str) -> np.ndarray:
    """A copy of ``arr`` with the saved element ``strides``, checked to be a dense layout of
    exactly its elements (a crafted file must not reach memory outside the new buffer)."""
    if not (
        isinstance(strides, list)
        and len(strides) == arr.ndim
        and all(type(s) is int and 0 <= s < _MAX_STRIDE for s in strides)
        and non_overlapping_and_dense(arr.shape, tuple(strides))
    ):
        raise CheckpointError(
            f"load: {where}: corrupted: tensor {key!r} of shape {tuple(arr.shape)} has strides "
            f"{str(strides)[:60]}, expected a dense layout of its elements"
        )
    out = strided_zeros(arr.shape, tuple(strides), arr.dtype)
    out[...] = arr
    return out
