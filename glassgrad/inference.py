"""``as_array``: data of any kind to an ndarray with PyTorch's dtype inference (``tensor()``'s rules:
floats to the default dtype, complex numbers to its complex counterpart (complex64 under
float32), ints to int64 (refused past int64), bools to bool, ndarrays and tensors keep theirs).
Kept apart from ``factories.py`` for size; ``factories`` re-exports it."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.tensor import Tensor

__all__ = ["as_array"]


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert ``data`` to an ndarray with PyTorch's dtype inference.

    Python floats become the default dtype (float32), ints int64, bools bool; NumPy arrays keep
    their dtype (float64 stays float64, as ``torch.tensor`` does). Any iterable of numbers works
    (lists, tuples, ranges, deques, generators), nested or mixed with tensors.
    """
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray | np.generic):
        arr = np.asarray(data)
        if arr.dtype.kind == "c":
            dtypes.note_complex()  # from now on, Function.apply checks ops for complex operands
    else:
        if not isinstance(data, list | tuple | numbers.Number) and isinstance(data, Iterable):
            data = list(data)  # range, deque, generator ...
        seq = _is_tensor_seq(data)
        try:
            arr = np.asarray(_tensor_seq(data) if seq else data)
        except ValueError:
            raise ShapeError(
                "tensor: expected a rectangular nested sequence (equal lengths per dim)"
            ) from None
        seq = seq and all(isinstance(d, Tensor) for d in data)  # a list of tensors keeps their dtype
        arr = _check_int64(arr, data)
        if arr.dtype.kind == "f" and dtype is None and not seq:
            with np.errstate(over="ignore"):  # 1e300 becomes inf in float32, as in PyTorch
                arr = arr.astype(dtypes.get_default_dtype().np)
        elif arr.dtype.kind in "iu" and dtype is None and not seq:
            if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
                raise OverflowError(f"tensor: expected integers that fit int64, got {arr.max()}")
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "c":
            dtypes.note_complex()  # from now on, Function.apply checks ops for complex operands
            if dtype is None and not seq:  # complex64 under the default float32, as PyTorch
                arr = arr.astype(dtypes.default_complex())
            elif dtype is not None and not seq and dtypes.to_np_dtype(dtype).kind not in "cb":
                # Python complex numbers for a real dtype: PyTorch refuses (NumPy would drop Im)
                raise TypeError(f"tensor: must be real number, not complex (for dtype {dtype})")
        elif arr.dtype.kind not in "fiub" and dtype is None:
            raise DTypeError(f"tensor: expected numbers or bools, got data of dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtypes.to_np_dtype(dtype), copy=False)
    return arr


def _ints(data: Any) -> bool:
    """Whether every number in the nested sequence ``data`` is a Python or NumPy integer."""
    if isinstance(data, list | tuple):
        return all(_ints(d) for d in data)
    return isinstance(data, numbers.Integral)


def _reals(data: Any) -> bool:
    """Whether every leaf of the nested sequence ``data`` is a real number (bools and ints too)."""
    if isinstance(data, list | tuple):
        return all(_reals(d) for d in data)
    return isinstance(data, numbers.Real)


def _check_int64(arr: np.ndarray, data: Any) -> np.ndarray:
    """Refuse Python ints outside int64, as PyTorch does: NumPy would make them float64 (beside
    smaller ints) or objects, and the tensor would hold rounded values or fail later. Beside a
    float they are floats, as in PyTorch (NumPy makes that an object array)."""
    big = arr.dtype == object or (arr.dtype.kind == "f" and arr.size and np.abs(arr).max() >= 2.0**63)
    if big and _ints(data):
        raise OverflowError("tensor: expected integers that fit int64 (|x| < 2**63), got a larger one")
    if arr.dtype == object and _reals(data):
        return arr.astype(np.float64)
    return arr


def _is_tensor_seq(data: Any) -> bool:
    return isinstance(data, list | tuple) and any(isinstance(d, Tensor) for d in data)


def _tensor_seq(data: Any) -> list:
    out = []
    for d in data:
        if isinstance(d, Tensor):
            out.append(d._data)
        elif isinstance(d, list | tuple) and _is_tensor_seq(d):
            out.append(_tensor_seq(d))
        else:
            out.append(d)
    return out
