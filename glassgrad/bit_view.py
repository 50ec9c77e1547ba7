"""``x.view(dtype)``: a tensor's memory read as another dtype (PyTorch's bit view)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
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
        if arr.ndim == 0:
            raise ShapeError(
                f"view: a 0-dim {x.dtype} tensor can be viewed only as a dtype of its element size"
            )
        if held and arr.strides[-1] != arr.dtype.itemsize:
            raise ShapeError(
                f"view: viewing {x.dtype} as {dtype} (another element size) needs a last dim of stride 1, "
                f"got shape {tuple(arr.shape)} with strides {arr.strides}"
            )
        if (arr.shape[-1] * arr.dtype.itemsize) % dt.itemsize or (held and _byte_offset(arr) % dt.itemsize):
            raise ShapeError(
                f"view: the last dim of {tuple(arr.shape)} ({arr.shape[-1]} x {arr.dtype.itemsize} bytes, "
                f"from byte {_byte_offset(arr) if held else 0} of its memory) does not divide into {dtype} "
                f"elements of {dt.itemsize} bytes"
            )
    if not held:
        size = () if arr.ndim == 0 else (arr.shape[-1] * arr.dtype.itemsize // dt.itemsize,)
        return Tensor(array_module(arr).empty(arr.shape[:-1] + size, dtype=dt), _wrap=True)
    out = Tensor(arr.view(dt), _wrap=True)
    out._vc = x._vc  # an in-place change through it is seen by graphs that saved x
    x._vc[1] = True
    return out


def _byte_offset(arr: Any) -> int:
    """Where ``arr`` starts in the memory it views, in bytes (PyTorch's storage offset)."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    return arr.ctypes.data - root.ctypes.data
