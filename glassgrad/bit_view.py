"""``x.view(dtype)``: a tensor's memory read as another dtype (PyTorch's bit view)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.backend import array_module
from glassgrad.errors import _SCALAR_TYPE_NAMES, ShapeError
from glassgrad.tensor import Tensor

__all__ = ["view_as_dtype"]


def view_as_dtype(x: Tensor, dtype: Any) -> Tensor:
    """``x.view(dtype)``: the same memory read as ``dtype`` (PyTorch's bit view). A wider or
    narrower element divides or multiplies the last dim, which must then have stride 1. Cut from
    the graph, as PyTorch's; it shares x's version counter, as ``detach()`` does."""
    dt = dtypes.to_np_dtype(dtype)
    arr = x._data
    held = arr.size and arr.__class__ is np.ndarray  # (meta and empty tensors have no memory to read)
    if dt.itemsize != arr.dtype.itemsize:
        _check_layout(x, dt, held)
    if not held:
        size = () if arr.ndim == 0 else (arr.shape[-1] * arr.dtype.itemsize // dt.itemsize,)
        return Tensor(array_module(arr).empty(arr.shape[:-1] + size, dtype=dt), _wrap=True)
    out = Tensor(arr.view(dt), _wrap=True)
    out._vc = x._vc  # an in-place change through it is seen by graphs that saved x
    x._vc[1] = True
    return out


def _check_layout(x: Tensor, dt: Any, held: Any) -> None:
    """PyTorch's conditions for reading ``x`` as ``dt``, of another element size, in its words: the
    last dim has stride 1 and, for a wider ``dt``, the other strides, the last size and the storage
    offset divide into whole ``dt`` elements. They are read from ``x.stride()`` (PyTorch's numbers,
    size-1 dims included, which PyTorch checks too), not NumPy's byte strides."""
    arr = x._data
    names = [_SCALAR_TYPE_NAMES.get(str(d), str(d)) for d in (arr.dtype, dt)]
    what = f"to view {names[0]} as {names[1]} (different element sizes)"
    if arr.ndim == 0:
        raise ShapeError(f"view: self.dim() cannot be 0 {what}")
    strides = x.stride()
    if dt.itemsize > arr.dtype.itemsize:
        ratio = dt.itemsize // arr.dtype.itemsize
        if arr.shape[-1] % ratio:
            raise ShapeError(
                f"view: self.size(-1) must be divisible by {ratio} {what}, but got {arr.shape[-1]}"
            )
        offset = _byte_offset(arr) // arr.dtype.itemsize if held else 0
        if offset % ratio:
            raise ShapeError(
                f"view: self.storage_offset() must be divisible by {ratio} {what}, but got {offset}"
            )
    if strides[-1] != 1:
        raise ShapeError(f"view: self.stride(-1) must be 1 {what}, but got {strides[-1]}")
    if dt.itemsize > arr.dtype.itemsize:
        for i, s in enumerate(strides[:-1]):
            if s % ratio:
                raise ShapeError(f"view: self.stride({i}) must be divisible by {ratio} {what}, but got {s}")


def _byte_offset(arr: Any) -> int:
    """Where ``arr`` starts in the memory it views, in bytes (PyTorch's storage offset)."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    return arr.ctypes.data - root.ctypes.data
