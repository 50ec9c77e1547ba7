"""The legacy typed storages ``ByteStorage``, ``FloatStorage`` ... and ``ByteTensor(storage)``.

DETR's panoptic post-processing reads a PIL image's bytes with
``torch.ByteTensor(torch.ByteStorage.from_buffer(img.tobytes()))``. As in PyTorch, such a storage is
a ``TypedStorage`` (``isinstance(s, ByteStorage)`` holds for one of uint8), making one gives the
``TypedStorage is deprecated`` warning once per process, and the typed tensor made over it shares
its memory.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad import tensor_storage as _ts
from glassgrad.device import check_device
from glassgrad.tensor_storage import TypedStorage, UntypedStorage
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "FloatStorage", "DoubleStorage", "HalfStorage", "LongStorage", "IntStorage", "ShortStorage",
    "CharStorage", "ByteStorage", "BoolStorage", "ComplexFloatStorage", "ComplexDoubleStorage", "Storage",
]  # fmt: skip

_BYTE_ORDERS = {"native": "=", "little": "<", "big": ">"}


def _warn_deprecated() -> None:
    if not _ts._WARNED[0]:
        _ts._WARNED[0] = True
        warnings.warn(_ts._DEPRECATION, UserWarning, stacklevel=user_stacklevel())


def _typed(flat: np.ndarray) -> TypedStorage:
    # [count, shared]: the memory is the storage's, so a tensor over it must never swap it away
    return TypedStorage(flat, dtypes.from_np_dtype(flat.dtype), [0, True])


def _check_range(name: str, values: np.ndarray, dt: np.dtype) -> None:
    """Integer storages refuse a value past their range, as PyTorch's (NumPy would wrap 300 to
    44); a uint8 one takes -255 to -1 too (wrapped, two's complement), as PyTorch's does."""
    if dt.kind not in "iu" or values.size == 0 or values.dtype.kind not in "iufO":
        return
    info = np.iinfo(dt)
    lo = -int(info.max) if dt.kind == "u" else info.min
    low, high = values.min(), values.max()
    if low < lo or high > info.max:
        raise RuntimeError(
            f"{name}: expected values in [{lo}, {info.max}] for {dt} elements, got some in [{low}, {high}]"
        )


class _LegacyStorage(type):
    """``ByteStorage(n)`` (n zeros), ``ByteStorage(values)`` or ``ByteStorage.from_buffer(...)``."""

    np_dtype: np.dtype

    def __call__(cls, data: Any = 0, *, device: Any = None) -> TypedStorage:
        check_device(device, cls.__name__)
        _warn_deprecated()
        if isinstance(data, numbers.Integral) and not isinstance(data, bool):
            if data < 0:
                raise RuntimeError(f"{cls.__name__}: expected a non-negative size, got {data}")
            return _typed(np.zeros(int(data), cls.np_dtype))
        values = np.array(list(data))
        _check_range(cls.__name__, values, cls.np_dtype)
        return _typed(values.astype(cls.np_dtype).reshape(-1))

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, TypedStorage) and obj._flat.dtype == cls.np_dtype

    def from_buffer(
        cls, buffer: Any, byte_order: str | None = None, count: int = -1, offset: int = 0
    ) -> TypedStorage:
        """A new storage holding a copy of ``count`` elements of ``buffer`` (all when -1) from
        byte ``offset`` on. ``byte_order`` ("native", "little" or "big") is required for
        elements wider than one byte."""
        op, dt = f"{cls.__name__}.from_buffer", cls.np_dtype
        _warn_deprecated()
        if byte_order is None and dt.itemsize > 1:
            raise RuntimeError(
                f"{op}: expected byte_order ('native', 'little' or 'big') for {dt.itemsize}-byte elements, got None"
            )
        if byte_order is not None and byte_order not in _BYTE_ORDERS:
            raise ValueError(f"{op}: expected byte_order 'native', 'little' or 'big', got {byte_order!r}")
        raw = np.frombuffer(buffer, dtype=np.uint8)
        if not 0 <= offset <= raw.shape[0]:
            raise ValueError(
                f"{op}: expected 0 <= offset <= {raw.shape[0]} (the buffer's bytes), got {offset}"
            )
        rest = raw.shape[0] - offset
        if count < 0:
            if rest % dt.itemsize:
                raise ValueError(
                    f"{op}: expected the {rest} bytes after offset {offset} to be a multiple of the "
                    f"element size {dt.itemsize}"
                )
            count = rest // dt.itemsize
        if count * dt.itemsize > rest:
            raise ValueError(
                f"{op}: count={count} elements of {dt.itemsize} bytes need {count * dt.itemsize} bytes, "
                f"the buffer has {rest} after offset {offset}"
            )
        order = _BYTE_ORDERS[byte_order or "native"]
        src = raw[offset : offset + count * dt.itemsize].view(dt.newbyteorder(order))
        return _typed(src.astype(dt))


def _storage_class(name: str, dt: Any) -> type:
    return _LegacyStorage(
        name, (), {"np_dtype": np.dtype(dt), "__doc__": f"Legacy typed storage of {np.dtype(dt)} elements."}
    )


FloatStorage = _storage_class("FloatStorage", np.float32)
DoubleStorage = _storage_class("DoubleStorage", np.float64)
HalfStorage = _storage_class("HalfStorage", np.float16)
LongStorage = _storage_class("LongStorage", np.int64)
IntStorage = _storage_class("IntStorage", np.int32)
ShortStorage = _storage_class("ShortStorage", np.int16)
CharStorage = _storage_class("CharStorage", np.int8)
ByteStorage = _storage_class("ByteStorage", np.uint8)
BoolStorage = _storage_class("BoolStorage", np.bool_)
ComplexFloatStorage = _storage_class("ComplexFloatStorage", np.complex64)
ComplexDoubleStorage = _storage_class("ComplexDoubleStorage", np.complex128)
# ``torch.Storage`` is PyTorch's other name for the float32 legacy storage (AllenNLP's
# ``device_mapping`` annotates with it); ``torch.types.Storage`` stays the typed/untyped union
Storage = FloatStorage


def tensor_over_storage(name: str, np_dtype: np.dtype, storage: Any) -> Any:
    """``ByteTensor(storage)``: a 1-D tensor over the storage's memory (no copy). A typed storage
    must hold ``np_dtype`` elements; an untyped one is read as them."""
    from glassgrad.factories import adopt

    flat = storage._flat
    if isinstance(storage, UntypedStorage):
        flat = flat[: flat.shape[0] // np_dtype.itemsize * np_dtype.itemsize].view(np_dtype)
    elif flat.dtype != np_dtype:
        raise RuntimeError(
            f"{name}: expected a storage of {np_dtype} elements or an UntypedStorage, got one of {flat.dtype}"
        )
    out = adopt(flat)  # the storage's memory, no NumPy holder: resizable as a storage is
    out._vc = storage._vc  # writes through either are seen by graphs that saved the other
    if len(out._vc) > 1:
        out._vc[1] = True
    return out
