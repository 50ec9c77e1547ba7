"""float64 into float16 as PyTorch converts it: through float32.

PyTorch's ``c10::Half`` is built from a ``float``, so a double becomes a half in two roundings, to
float32 and then to float16, where NumPy's ``astype(float16)`` rounds once. The two differ by one
float16 ulp when the float32 rounding lands on a float16 tie (about one value in 15,000 of a
normal draw): YOLOv5's ``model.half().float()`` anchor pre-rounding and its half checkpoints meet
it. Every conversion of float64 values into float16 storage goes through :func:`half_source`
(``to``/``half``/``type``, ``Module.half``, ``tensor``/``asarray`` with ``dtype=float16``,
``copy_``, setitem), and a Python float written into a float16 tensor through
:func:`half_scalar` (``fill_``, ``full``, setitem, ``masked_fill``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_F16 = np.dtype(np.float16)
_F64 = np.dtype(np.float64)


def half_source(a: Any, dtype: Any) -> Any:
    """``a`` as the source of a conversion into ``dtype``: a float64 array going into float16 is
    first rounded to float32 (PyTorch's double -> float -> half); anything else is ``a`` itself."""
    src = getattr(a, "dtype", None)  # (a Python number has none: np.dtype(None) would read float64)
    if src is not None and src == _F64 and dtype == _F16:
        return a.astype(np.float32)
    return a


def half_scalar(v: Any, dtype: Any) -> Any:
    """A Python float to be written into a float16 tensor, rounded to float32 first as PyTorch's
    Scalar conversion does (a value past float32's range is left for the caller's range check)."""
    if dtype == _F16 and isinstance(v, float) and abs(v) < 3.4e38:
        return float(np.float32(v))
    return v
