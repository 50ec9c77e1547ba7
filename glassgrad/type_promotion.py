"""PyTorch's dtype promotion as functions: ``promote_types``, ``result_type`` and ``can_cast``
(re-exported by ``torch_more``), and ``promote_np``, the same rule on NumPy dtypes, which
``inference`` uses for a list holding NumPy scalars or arrays.

PyTorch's categories are bool < integer < floating < complex: across categories the higher one's
dtype wins whatever its size (int64 with float16 is float16, NumPy's float64), float meeting
complex gives the complex type of the larger precision; within one category the larger type wins
(uint8 with int8 is int16, as NumPy)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.tensor import Tensor

__all__ = ["promote_types", "result_type", "can_cast"]

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _category(dt: np.dtype, op: str) -> int:
    if dt.kind not in _CATEGORY:
        raise TypeError(f"{op}: expected a numeric or bool dtype, got {dt}")
    return _CATEGORY[dt.kind]


def _dtypes(op: str, *ts: Any) -> list[np.dtype]:
    """The NumPy dtypes behind glassgrad dtypes; anything else is refused, as PyTorch does."""
    _check_dtypes(op, *ts)
    return [t.np for t in ts]


def _check_dtypes(op: str, *ts: Any) -> None:
    for t in ts:
        if not isinstance(t, dtypes.DType):
            raise TypeError(f"{op}: expected glassgrad dtypes, got {type(t).__name__} {t!r}")


def promote_np(a: np.dtype, b: np.dtype, op: str = "promote_types") -> np.dtype:
    """PyTorch's promoted type of the NumPy dtypes ``a`` and ``b``."""
    ca, cb = _category(a, op), _category(b, op)
    if ca == cb:
        return np.promote_types(a, b)
    hi, lo = (a, b) if ca > cb else (b, a)
    if hi.kind == "c" and lo.kind == "f":
        return np.promote_types(hi, dtypes.complex_of(lo))
    return hi


def promote_types(type1: Any, type2: Any) -> dtypes.DType:
    """The dtype ``type1`` and ``type2`` promote to, as ``torch.promote_types``.

    >>> import glassgrad as gg
    >>> gg.promote_types(gg.int64, gg.float16)
    glassgrad.float16
    """
    _check_dtypes("promote_types", type1, type2)
    if type1 is type2:
        return type1  # any dtype with itself, float8 and the other NumPy-less names too (PyTorch's)
    if type1.name in _NAMED or type2.name in _NAMED:
        return _promote_named(type1, type2)
    return dtypes.from_np_dtype(promote_np(type1.np, type2.np))


# PyTorch's dtypes NumPy lacks whose promotion PyTorch defines (dtype tables and mixed-precision
# setup code call promote_types on them before any tensor exists): bfloat16 a float of the
# narrowest rank, complex32 (two float16s) a complex one. The float8 family promotes only with
# itself in PyTorch, and the sub-byte integers have no tensors to promote here either.
_NAMED = ("bfloat16", "complex32")


def _promote_named(a: dtypes.DType, b: dtypes.DType) -> dtypes.DType:
    if b.name in _NAMED and a.name not in _NAMED:
        a, b = b, a
    if b.name in _NAMED:  # bfloat16 with complex32 (each with itself returned before)
        return dtypes.complex64
    if isinstance(b, dtypes._NoNumPyDType):  # float8 and sub-byte names: their .np raises, saying why
        return dtypes.from_np_dtype(b.np)
    kind = b.np.kind
    if a.name == "bfloat16":
        if kind in "biu":
            return a
        return dtypes.float32 if b.np == np.float16 else b  # bfloat16 with float16: float32, as PyTorch
    if kind in "biu" or b.np == np.float16:  # complex32
        return a
    return dtypes.from_np_dtype(np.promote_types(np.complex64, b.np))


def result_type(tensor: Any, other: Any) -> dtypes.DType:
    """The dtype of an arithmetic op's result on ``tensor`` and ``other`` (tensors or Python
    numbers), PyTorch's three-tier rule: tensors with dims, then 0-d tensors, then Python numbers
    (a float one the default dtype), a lower tier changing the result only by a higher category."""
    return result_type_of(tensor, other)


def result_type_of(*operands: Any) -> dtypes.DType:
    """``result_type`` over any number of operands (``addcmul``'s three), as PyTorch's
    TensorIterator computes one common dtype for all of an op's inputs."""
    tiers: list[np.dtype | None] = [None, None, None]
    for t in operands:
        if isinstance(t, np.generic) and t.dtype.kind in "biufc":
            # PyTorch reads a NumPy scalar as a Python number: an integer as an int, any other
            # (np.bool_ and complex ones too, with NumPy's ComplexWarning) through float()
            t = int(t) if t.dtype.kind in "iu" else float(t)
        if isinstance(t, Tensor):
            dt, tier = t._data.dtype, 0 if t._data.ndim else 1
        elif isinstance(t, bool | int | float | complex):
            dt, tier = _scalar_dtype(t), 2
        else:
            raise TypeError(f"result_type: expected Tensors or Python numbers, got {type(t).__name__}")
        tiers[tier] = dt if tiers[tier] is None else promote_np(tiers[tier], dt, "result_type")
    return dtypes.from_np_dtype(_combine(tiers[0], _combine(tiers[1], tiers[2])))


def _scalar_dtype(v: bool | int | float | complex) -> np.dtype:
    if isinstance(v, bool):
        return np.dtype(np.bool_)
    if isinstance(v, int):
        return np.dtype(np.int64)
    if isinstance(v, float):
        return dtypes.get_default_dtype().np
    return dtypes.default_complex()


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """A higher tier's type, changed by a lower tier only for a higher category (PyTorch's
    ``combine_categories``)."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if higher.kind == "c":
        return higher
    if lower.kind == "c":
        return dtypes.complex_of(higher) if higher.kind == "f" else lower
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_np(higher, lower, "result_type")
    return higher


def can_cast(from_: Any, to: Any) -> bool:
    """Whether ``from_`` casts to ``to`` under PyTorch's casting rule: never to a lower category
    (float to integer, complex to float, a number to bool); any size within one."""
    _check_dtypes("can_cast", from_, to)
    return _dtype_category(from_) <= _dtype_category(to)


def _dtype_category(t: dtypes.DType) -> int:
    """A dtype's category from its properties (bfloat16 and the other NumPy-less names have no
    NumPy dtype to ask)."""
    if isinstance(t, dtypes._NoNumPyDType):
        return 3 if t.is_complex else 2 if t.is_floating_point else 1
    return _category(t.np, "can_cast")
