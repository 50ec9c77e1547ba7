"""``arange``'s float16/32/64 values as PyTorch's CPU kernel computes them, bit for bit.

PyTorch's kernel holds ``start`` and ``step`` in the accumulate type ``A`` (double for float32 and
float64, float for float16) and fills the tensor in blocks of two SIMD vectors of ``V`` lanes
(``V = 4`` doubles, ``8`` floats, ``16`` halfs), the values past the last whole block one at a
time, each sum a fused multiply-add in ``A``::

    x[i] = T(fma(step, i % V, T(fma(step, i - i % V, start))))   for i < n // (2 V) * 2 V
    x[i] = T(fma(step, i, start))                                 for the rest

NumPy's ``arange`` (``start + i * step`` with a plain product) differs from that in the last bit
at many points: ``torch.arange(0, 51, 1.2)[25]`` is ``29.999999999999996`` where NumPy gives
``30.0``, and ``.long()`` of the two is 29 against 30. torchaudio's ``phase_vocoder`` (so
``TimeStretch``) picks its frames that way and took other frames from there on (port round 40).
float32 values are rounded once from the double value, so its fusing does not show there. Other
dtypes (complex) keep NumPy's values cast to the dtype; integer dtypes follow ``arange_integral``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.errors import ArgumentError
from glassgrad.linspace_kernel import exact_fma

__all__ = ["float_arange", "arange_count"]

_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitter for float64

# dtype: (SIMD lanes, accumulate dtype)
_KERNEL = {
    np.dtype(np.float64): (4, np.dtype(np.float64)),
    np.dtype(np.float32): (8, np.dtype(np.float64)),
    np.dtype(np.float16): (16, np.dtype(np.float32)),
}


def arange_count(start: float, end: float, step: float) -> int:
    """How many values ``arange(start, end, step)`` has (PyTorch's ``ceil((end - start) / step)``)."""
    if not all(math.isfinite(float(v)) for v in (start, end, step)):
        raise ArgumentError(
            f"arange: unsupported range: {start} -> {end} with step {step} (expected finite numbers)"
        )
    return max(math.ceil((float(end) - float(start)) / float(step)), 0)


def _fma(step: Any, k: np.ndarray, c: Any, acc: np.dtype) -> np.ndarray:
    """``fma(step, k, c)`` in ``acc`` for a scalar ``step`` and integers ``0 <= k < 2**26``: the
    product's error is ``(hi * k - p) + lo * k``, both exact for such ``k`` (Dekker's product
    with the integer factor unsplit), so the float64 case costs a few passes."""
    if acc != np.float64 or (k.size and k.max() >= 2**26):
        return exact_fma(np.full(k.shape, step), k, np.broadcast_to(c, k.shape), acc)
    step = np.float64(step)
    hi = _SPLIT * step - (_SPLIT * step - step)
    lo = step - hi
    p = step * k
    err = (hi * k - p) + lo * k
    s = c + p
    bb = s - c
    return s + (((c - (s - bb)) + (p - bb)) + err)


def float_arange(start: Any, end: Any, step: Any, dt: np.dtype) -> np.ndarray:
    """The values of ``torch.arange(start, end, step, dtype=dt)`` for a float16/32/64 ``dt``."""
    dt = np.dtype(dt)
    n = arange_count(start, end, step)
    lanes, acc = _KERNEL[dt]
    s, st = acc.type(start), acc.type(step)
    nvec = n // (2 * lanes) * 2 * lanes
    i = np.arange(n, dtype=np.int64)
    exact = 2.0 ** (np.finfo(dt).nmant + 1)  # integers below it are exact in dt (so in acc)
    if float(s).is_integer() and float(st).is_integer() and abs(s) + abs(st) * n < exact:
        return (s + st * i.astype(acc)).astype(dt)  # every value an exact integer: nothing rounds
    lane = (i[:nvec] % lanes).astype(acc)
    block = (i[:nvec] - i[:nvec] % lanes).astype(acc)
    base = _fma(st, block, s, acc).astype(dt)
    out = np.empty(n, dtype=dt)
    out[:nvec] = _fma(st, lane, base.astype(acc), acc).astype(dt)
    out[nvec:] = _fma(st, i[nvec:].astype(acc), s, acc).astype(dt)
    return out
