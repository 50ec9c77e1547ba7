"""``where`` for float arrays by bit masks: exact, and 4 to 6 times faster than ``np.where``.

NumPy's ``where`` branches per element, so a mask that follows the sign of random data (relu's,
leaky_relu's, a loss's |d| < beta) costs it about 4 ns an element, 25 times a multiply. Selecting
through the bits instead (``b ^ ((a ^ b) & mask)``, mask all ones where cond) has no branch and
returns the very bits ``where`` returns: NaN payloads, -0.0 and infinities included.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.backend import array_module

__all__ = ["select", "zero_where"]

_SAME_WIDTH_INT = {2: np.int16, 4: np.int32, 8: np.int64}


def _mask(cond: Any, iv: Any, value: int) -> Any:
    """``cond`` as ints of type ``iv``: all bits set where it is ``value`` (True or False), 0 elsewhere."""
    mask = cond.view(np.int8).astype(iv)  # (through int8: NumPy's bool -> int64 cast is slower)
    if value:
        np.negative(mask, out=mask)  # 1 -> all bits set
    else:
        mask -= 1  # 0 -> all bits set, 1 -> 0
    return mask


def zero_where(cond: Any, g: Any) -> Any:
    """``where(cond, 0, g)``, exactly (+0.0 where ``cond``, a NaN or inf of g there too): a float
    array's bits ANDed with a mask of all ones or zeros, the hot backward of relu. Other arrays
    (meta, complex) take ``where``."""
    iv = _SAME_WIDTH_INT.get(g.dtype.itemsize) if g.__class__ is np.ndarray and g.dtype.kind == "f" else None
    if iv is None or cond.__class__ is not np.ndarray:
        return array_module(g, cond).where(cond, 0, g)
    return (g.view(iv) & _mask(cond, iv, False)).view(g.dtype)


def select(cond: Any, a: Any, b: Any) -> Any:
    """``where(cond, a, b)`` bit for bit. The fast path takes a bool array ``cond`` and float
    arrays ``a`` and ``b`` of one dtype, each of cond's shape or 0-d (not both), all C-contiguous;
    anything else (other broadcasting or layouts, numbers, meta or complex arrays) is ``where``.

    Shape:
        cond: (*); a, b: (*) or () -> (*).
    """
    if (
        cond.__class__ is np.ndarray
        and a.__class__ is np.ndarray
        and b.__class__ is np.ndarray
        and a.dtype == b.dtype
        and a.dtype.kind == "f"
        and cond.dtype == np.bool_
        and (a.shape == cond.shape or not a.shape)
        and (b.shape == cond.shape or not b.shape)
        and cond.shape in (a.shape, b.shape)
        and a.flags.c_contiguous
        and b.flags.c_contiguous
        and cond.flags.c_contiguous  # (other layouts: ``where`` picks the result's, as PyTorch)
    ):
        iv = _SAME_WIDTH_INT[a.dtype.itemsize]
        bi = b.view(iv)
        out = a.view(iv) ^ bi
        out &= _mask(cond, iv, True)
        out ^= bi
        return out.view(a.dtype)
    return array_module(cond, a, b).where(cond, a, b)
