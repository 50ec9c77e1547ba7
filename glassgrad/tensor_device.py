"""Where a ``Tensor`` lives: ``device``, ``is_meta``/``is_cpu`` and PyTorch's other device flags,
``to`` (dtype and device), ``cpu``, ``cuda``, and ``stride``/``is_contiguous`` (which report a meta
tensor's strides as PyTorch does, its storage being zero-strided). Attached to ``Tensor`` when
``tensor.py`` finishes loading, as ``tensor_methods.py`` is.

A tensor is on the meta device when its array is a ``MetaArray`` (``meta_array.py``); every other
tensor is on the CPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.device import (
    _CPU,
    _META,
    TENSOR_TO_KEYWORDS,
    check_device,
    check_to_keywords,
    device,
    is_meta_device,
)
from glassgrad.meta_array import MetaArray, no_data
from glassgrad.ops import conversion
from glassgrad.tensor import Tensor, attach

__all__: list[str] = []


def _contiguous_strides(shape: tuple) -> tuple[int, ...]:
    out, step = [], 1
    for s in reversed(shape):
        out.append(step)
        step *= max(s, 1)
    return tuple(reversed(out))


def _is_meta_target(where: Any, op: str) -> bool:
    """Whether a ``to``/``cpu`` target names the meta device; another device but the CPU raises."""
    if where is None or where is _CPU:
        return False
    if is_meta_device(where):
        return True
    check_device(where, op)
    return False


class _Device:
    @property
    def device(self) -> device:
        return _META if self._data.__class__ is MetaArray else _CPU

    @property
    def is_meta(self) -> bool:
        return self._data.__class__ is MetaArray

    @property
    def is_cpu(self) -> bool:
        return self._data.__class__ is not MetaArray

    @property
    def is_cuda(self) -> bool:
        return False

    def get_device(self) -> int:
        return -1  # the CPU (and meta), as PyTorch

    def is_contiguous(self, memory_format: Any = None) -> bool:
        if self._data.__class__ is MetaArray:
            return True  # PyTorch gives a meta tensor contiguous strides; ours are zero (no memory)
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """Strides in elements (NumPy's are in bytes), as PyTorch; contiguous ones on meta."""
        if self._data.__class__ is MetaArray:
            strides = _contiguous_strides(self._data.shape)
        else:
            strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[dim]

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; self when nothing changes.

        ``"cpu"`` and ``"meta"`` are the devices: a CPU tensor moves to meta (shape and dtype only),
        a meta one cannot move back (no data: ``NotImplementedError``, as PyTorch; use
        ``empty_like(t, device="cpu")``); another device raises. ``non_blocking``, ``copy``,
        ``memory_format``, ``tensor=`` are taken.
        """
        if kwargs:
            check_to_keywords("to", kwargs, TENSOR_TO_KEYWORDS)
        if "tensor" in kwargs:
            args = (*args, kwargs["tensor"])
        dtype = kwargs.get("dtype")
        target = kwargs.get("device")
        copy = kwargs.get("copy", False)
        flags = 0  # positional bools are non_blocking then copy, as in PyTorch's signatures
        for a in args:
            if isinstance(a, Tensor):
                dtype, target = a.dtype, a.device
            elif isinstance(a, bool):
                flags += 1
                copy = copy or (flags == 2 and a)
            elif isinstance(a, dtypes.DType | np.dtype) or a in (float, int, bool):
                dtype = a
            elif a is not None:
                target = a
        out = self
        if target is not None:
            meta = _is_meta_target(target, "to")
            if out._data.__class__ is MetaArray and not meta:
                raise no_data("to")
            if meta and out._data.__class__ is not MetaArray:
                out, copy = conversion.to_meta(out), False
        if dtype is None or dtypes.to_np_dtype(dtype) == out._data.dtype:
            return conversion.clone(out) if copy else out
        return conversion.cast(out, dtypes.to_np_dtype(dtype))

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        check_device("cuda" if device is None else device, "cuda")
        return self

    def cpu(self) -> Tensor:
        if self._data.__class__ is MetaArray:
            raise no_data("cpu")
        return self


attach(_Device)
