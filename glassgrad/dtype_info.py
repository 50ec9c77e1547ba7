"""``torch.finfo`` and ``torch.iinfo``: the limits of a dtype, with PyTorch's attributes and types.

Their numbers are Python ``float``/``int`` (NumPy's ``np.finfo`` gives NumPy scalars, whose
arithmetic with Python floats would stay in float32) and ``dtype`` is the dtype's name as a string
(pykeen's ``getattr(torch, torch.finfo(dtype).dtype)`` turns a complex dtype into its real one).

>>> import glassgrad as gg
>>> gg.finfo(gg.complex64).dtype, gg.iinfo(gg.int8).max
('float32', 127)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.errors import _SCALAR_TYPE_NAMES

__all__ = ["finfo", "iinfo"]


def _np_dtype(dtype: Any, who: str) -> np.dtype:
    if isinstance(dtype, str):  # PyTorch's TypeError: a name is not a dtype
        raise TypeError(f"{who}(): argument 'type' must be a dtype (glassgrad.float32), not str {dtype!r}")
    try:
        return dtypes.to_np_dtype(dtype)
    except (dtypes.DTypeError, ValueError):  # (a tensor: NumPy's ValueError, PyTorch's TypeError)
        raise TypeError(
            f"{who}(): argument 'type' must be a dtype (glassgrad.float32), got {dtype!r}"
        ) from None


# (bits, eps, max, min, tiny, resolution, dtype) of the dtypes NumPy has no type for, PyTorch's
# values: bfloat16 has float32's 8 exponent bits and 7 mantissa bits; a complex dtype gives its parts'
_NAME_ONLY = {
    dtypes.bfloat16: (16, 2.0**-7, 3.3895313892515355e38, -3.3895313892515355e38, 2.0**-126, 0.01, "bfloat16"),
    dtypes.float8_e4m3fn: (8, 0.125, 448.0, -448.0, 2.0**-6, 1.0, "float8_e4m3fn"),
    dtypes.float8_e5m2: (8, 0.25, 57344.0, -57344.0, 2.0**-14, 1.0, "float8_e5m2"),
    dtypes.float8_e4m3fnuz: (8, 0.125, 240.0, -240.0, 2.0**-7, 1.0, "float8_e4m3fnuz"),
    dtypes.float8_e5m2fnuz: (8, 0.125, 57344.0, -57344.0, 2.0**-15, 1.0, "float8_e5m2fnuz"),
    dtypes.float8_e8m0fnu: (8, 1.0, 2.0**127, 2.0**-127, 2.0**-127, 1.0, "float8_e8m0fnu"),
    dtypes.complex32: (16, 2.0**-10, 65504.0, -65504.0, 2.0**-14, 0.001, "float16"),
}  # fmt: skip


_DEFAULT: Any = object()  # finfo() without an argument


class finfo:  # noqa: N801 - PyTorch's name
    """Limits of a floating dtype (a complex one gives its real part's): ``bits``, ``eps``, ``max``,
    ``min``, ``tiny`` (= ``smallest_normal``), ``resolution`` and ``dtype`` (its name, a string).
    Without an argument, the default dtype's."""

    def __init__(self, type: Any = _DEFAULT) -> None:  # noqa: A002 - PyTorch's keyword
        if type is None:  # only a missing argument means the default dtype, as PyTorch's parser
            raise TypeError("finfo(): argument 'type' (position 1) must be glassgrad.dtype, not NoneType")
        known = _NAME_ONLY.get(type) if isinstance(type, dtypes.DType) else None
        if known is not None:  # a dtype NumPy has no type for: PyTorch's limits
            self.bits, self.eps, self.max, low, self.tiny, self.resolution, self.dtype = known
        else:
            dt = dtypes.get_default_dtype().np if type is _DEFAULT else _np_dtype(type, "finfo")
            if dt.kind not in "fc":
                raise TypeError(
                    f"finfo() requires a floating point input type, got {dt.name}; use glassgrad.iinfo for integers"
                )
            info = np.finfo(dt)
            self.bits, self.eps, self.max = int(info.bits), float(info.eps), float(info.max)
            # resolution 10**-precision as a Python float (1e-06), not float32(1e-06) widened
            self.tiny, self.resolution, self.dtype = float(info.tiny), 10.0**-info.precision, info.dtype.name
            low = -self.max
        self.min, self.smallest_normal = low, self.tiny

    def __eq__(self, other: object) -> bool:
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
            f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})"
        )


class iinfo:  # noqa: N801 - PyTorch's name
    """Limits of an integer dtype: ``bits``, ``max``, ``min`` (Python ints) and ``dtype`` (its name)."""

    def __init__(self, type: Any) -> None:  # noqa: A002 - PyTorch's keyword
        dt = _np_dtype(type, "iinfo")
        if dt.kind == "b":
            raise TypeError("iinfo(): glassgrad.bool is not supported (it has no integer limits)")
        if dt.kind not in "iu":
            raise TypeError(
                f"iinfo() requires an integer input type, got {dt.name}; use glassgrad.finfo for floats"
            )
        info = np.iinfo(dt)
        self.bits, self.max, self.min, self.dtype = int(info.bits), int(info.max), int(info.min), dt.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# dtype.to_complex() / to_real(), by name (PyTorch's pairs; bfloat16 has no complex twin of its width)
_COMPLEX_OF = {
    "float16": "complex32", "bfloat16": "complex64", "float32": "complex64", "float64": "complex128",
    "complex32": "complex32", "complex64": "complex64", "complex128": "complex128",
}  # fmt: skip
_REAL_OF = {"complex32": "float16", "complex64": "float32", "complex128": "float64"}


def _to_complex(self: dtypes.DType) -> dtypes.DType:
    """The complex dtype whose parts are this floating dtype (a complex dtype: itself)."""
    name = _COMPLEX_OF.get(self.name)
    if name is None:
        raise RuntimeError(f"Unknown Complex ScalarType for {_SCALAR_TYPE_NAMES.get(self.name, self.name)}")
    return getattr(dtypes, name)


def _to_real(self: dtypes.DType) -> dtypes.DType:
    """The dtype of a complex dtype's parts (any other dtype: itself)."""
    return getattr(dtypes, _REAL_OF[self.name]) if self.name in _REAL_OF else self


dtypes.DType.to_complex = _to_complex  # (dtypes.py is at the file size limit)
dtypes.DType.to_real = _to_real
