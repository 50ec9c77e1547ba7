"""Tensor factories: zeros, ones, full, empty, arange, linspace, eye, rand, randn, randint, *_like.

Sizes are given as ``zeros(2, 3)`` or ``zeros((2, 3))``. Floating factories use the default dtype
(float32); random ones draw from the generator that ``manual_seed`` seeds (or ``generator=``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.errors import DTypeError
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = [
    "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "rand", "randn", "randint",
    "randperm", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like",
    "from_numpy", "as_tensor",
]  # fmt: skip


def _size(size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], tuple | list):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, int | np.integer) or s < 0:
            raise ValueError(f"size: expected non-negative integers, got {size}")
    return tuple(int(s) for s in size)


def _float(dtype: Any) -> np.dtype:
    dt = dtypes.to_np_dtype(dtype) if dtype is not None else dtypes.get_default_dtype().np
    return dt


def _make(arr: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(arr, _wrap=True).requires_grad_(requires_grad) if requires_grad else Tensor(arr, _wrap=True)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_size(size), dtype=_float(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_size(size), dtype=_float(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.empty(_size(size), dtype=_float(dtype)), requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it as PyTorch does)."""
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = dtypes.bool_
        elif isinstance(fill_value, int):
            dtype = dtypes.int64
    shape = _size((size,) if isinstance(size, int) else tuple(size))
    return _make(np.full(shape, fill_value, dtype=_float(dtype)), requires_grad)


def arange(
    start: Any, end: Any = None, step: Any = 1, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Values from ``start`` (default 0) up to, not including, ``end``; int64 if all are ints."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    return _make(np.arange(start, end, step).astype(dtypes.to_np_dtype(dtype)), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.linspace(start, end, steps).astype(_float(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def _floating(what: str, dtype: Any) -> tuple[np.dtype, np.dtype]:
    """``(dtype, the dtype to draw in)``: NumPy draws float32 and float64 natively, float16 via float32."""
    dt = _float(dtype)
    if dt.kind != "f":
        raise DTypeError(f"{what}: expected a floating dtype, got {dtypes.from_np_dtype(dt)}")
    return dt, (dt if dt.itemsize >= 4 else np.dtype(np.float32))


def rand(*size: Any, dtype: Any = None, generator: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1), drawn in the dtype itself (no float64 copy on the way)."""
    dt, draw = _floating("rand", dtype)
    arr = get_generator(generator).random(_size(size), dtype=draw)
    return _make(arr if arr.dtype == dt else arr.astype(dt), requires_grad)


def randn(*size: Any, dtype: Any = None, generator: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples, drawn in the dtype itself (no float64 copy on the way)."""
    dt, draw = _floating("randn", dtype)
    arr = get_generator(generator).standard_normal(_size(size), dtype=draw)
    return _make(arr if arr.dtype == dt else arr.astype(dt), requires_grad)


def randint(
    low: int, high: int | None = None, size: Any = None, dtype: Any = None, generator: Any = None
) -> Tensor:
    """Integers uniform on [low, high); ``randint(high, size)`` and ``randint(low, high, size)``."""
    if size is None:
        if not isinstance(high, tuple | list):
            raise ValueError(f"randint: expected a size tuple, got {high!r}")
        low, high, size = 0, low, high
    if not high > low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    arr = get_generator(generator).integers(low, high, size=_size((tuple(size),)))
    return Tensor(arr.astype(dtypes.to_np_dtype(dtype or dtypes.int64)), _wrap=True)


def randperm(n: int, dtype: Any = None, generator: Any = None) -> Tensor:
    """A random permutation of 0..n-1."""
    arr = get_generator(generator).permutation(n)
    return Tensor(arr.astype(dtypes.to_np_dtype(dtype or dtypes.int64)), _wrap=True)


def zeros_like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


def empty_like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return empty(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return full(x.shape, fill_value, dtype=dtype or x.dtype, requires_grad=requires_grad)


def rand_like(x: Tensor, dtype: Any = None, generator: Any = None) -> Tensor:
    dt = dtype or x.dtype
    if not dtypes.from_np_dtype(dtypes.to_np_dtype(dt)).is_floating_point:
        raise DTypeError(f"rand_like: expected a floating dtype, got {dt}")
    return rand(x.shape, dtype=dt, generator=generator)


def randn_like(x: Tensor, dtype: Any = None, generator: Any = None) -> Tensor:
    dt = dtype or x.dtype
    if not dtypes.from_np_dtype(dtypes.to_np_dtype(dt)).is_floating_point:
        raise DTypeError(f"randn_like: expected a floating dtype, got {dt}")
    return randn(x.shape, dtype=dt, generator=generator)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``arr`` (no copy), as ``torch.from_numpy``."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(arr).__name__}")
    return Tensor(arr, _wrap=True)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a tensor, without a copy when it already is one of the right dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    return Tensor(data, dtype=dtype)
