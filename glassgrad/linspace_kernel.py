"""``linspace``'s values as PyTorch's CPU kernel computes them, bit for bit in every dtype.

PyTorch computes ``step = (end - start) / (steps - 1)`` in the tensor's dtype, then the first half
of the points from ``start`` and the second half back from ``end``, each with one fused multiply-add
(its vectorised kernels are built with FMA contraction)::

    x[i] = fma(step, i, start)                    for i <  steps // 2
    x[i] = fma(-step, steps - 1 - i, end)         for i >= steps // 2

NumPy's ``linspace`` (float64 ``start + i * step``, then a cast) differs from that in the last bit
for many sizes, and grids built from ``linspace`` then put half-voxel sample points on the other
side of a tie: MONAI's nearest-neighbour ``Spacing`` from 2 mm to 1.5 mm (port round 38) took a
different voxel in whole planes. The fused multiply-add is emulated exactly: float32 through
float64 (the product is exact there) with the double rounding of a float32 tie resolved from the
float64 sum's error; float64 through Dekker's error-free product and sum.

The other dtypes follow the same kernel's types (port round 48: RoPE's pixel frequencies in
float16 were 2 ulp off): float16 converts ``start``/``end`` through float32 (PyTorch's ``Scalar``)
and rounds every ``c10::Half`` operation to half (``step``, ``Half(i)``, the product, the sum);
integers truncate ``start``/``end`` toward zero, take a float64 ``step`` and truncate each fused
multiply-add; complex dtypes are the real and the imaginary parts' float linspaces.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.errors import ArgumentError, DTypeError

__all__ = ["check_steps", "exact_fma", "linspace_dtype", "linspace_values"]

_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitter for float64


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = a * b
    ca, cb = _SPLIT * a, _SPLIT * b
    ah, bh = ca - (ca - a), cb - (cb - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _fma64(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    p, pe = _two_prod(a, b)
    s, se = _two_sum(c, p)
    return s + (se + pe)


def _fma32(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    a64, b64, c64 = (np.asarray(v, dtype=np.float64) for v in (a, b, c))
    s, err = _two_sum(c64, a64 * b64)  # a * b is exact in float64 (24-bit times < 2**29)
    out = s.astype(np.float32)
    # a float64 sum that lies exactly halfway between two float32 values was rounded there from
    # the exact value: its error says which float32 neighbour is the correctly rounded one
    toward = np.nextafter(out, np.where(s > out, np.float32(np.inf), np.float32(-np.inf)))
    mid = (out.astype(np.float64) + toward.astype(np.float64)) / 2
    tie = (s == mid) & (err != 0) & (s != out)
    if tie.any():
        up = np.where(err > 0, np.maximum(out, toward), np.minimum(out, toward))
        out = np.where(tie, up, out)
    return out


def exact_fma(a: Any, b: Any, c: Any, dtype: np.dtype) -> np.ndarray:
    """``a * b + c`` rounded once to ``dtype`` (float32 or float64), elementwise."""
    if np.dtype(dtype) == np.float32:
        return _fma32(a, b, c)
    return _fma64(*(np.asarray(v, dtype=np.float64) for v in (a, b, c)))


def linspace_dtype(dtype: Any, start: Any, end: Any, op: str = "linspace") -> np.dtype:
    """The dtype of ``torch.linspace``'s (and ``logspace``'s) result: ``dtype``, else the default
    dtype's complex counterpart when ``start`` or ``end`` is complex (a number or a tensor), as
    PyTorch infers it, else the default dtype. A complex ``start``/``end`` with a real ``dtype`` is
    PyTorch's RuntimeError (the imaginary part would be lost)."""
    complex_ends = any(
        isinstance(v, complex | np.complexfloating) or getattr(getattr(v, "dtype", None), "is_complex", False)
        for v in (start, end)
    )
    if dtype is not None:
        dt = dtypes.to_np_dtype(dtype)
        if complex_ends and dt.kind != "c":
            raise DTypeError(
                f"torch.{op}(): inferred dtype {dtypes.from_np_dtype(dtypes.default_complex())} can't be safely cast to passed "
                f"dtype {dtypes.from_np_dtype(dt)} (a complex start or end needs a complex dtype)"
            )
        return dt
    if complex_ends:
        dtypes.note_complex()
        return dtypes.default_complex()
    return dtypes.get_default_dtype().np


def check_steps(op: str, steps: int) -> int:
    """``steps`` for ``linspace``/``logspace``: a negative count is PyTorch's RuntimeError."""
    if steps < 0:
        raise ArgumentError(f"{op}: expected a non-negative number of steps, got {steps}")
    return steps


def linspace_values(start: Any, end: Any, steps: int, dtype: np.dtype) -> np.ndarray:
    """The ``steps`` values of ``torch.linspace(start, end, steps, dtype=dtype)``."""
    check_steps("linspace", steps)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        raise NotImplementedError(
            "linspace: expected a numeric dtype, got bool (PyTorch's kernel has no bool)"
        )
    if dt.kind == "c":
        part = np.float32 if dt == np.complex64 else np.float64
        s, e = complex(start), complex(end)
        re, im = linspace_values(s.real, e.real, steps, part), linspace_values(s.imag, e.imag, steps, part)
        return (re + 1j * im).astype(dt)
    if dt == np.float16:
        return _half_values(start, end, steps)
    if dt.kind in "iu":
        return _integer_values(start, end, steps, dt)
    if steps <= 1:
        return np.full(steps, start, dtype=dt)  # one point: start, as PyTorch
    s, e = dt.type(start), dt.type(end)
    step = (e - s) / dt.type(steps - 1)
    half = steps // 2
    out = np.empty(steps, dtype=dt)
    out[:half] = exact_fma(np.full(half, step), np.arange(half, dtype=dt), np.full(half, s), dt)
    rest = steps - half
    back = np.arange(rest - 1, -1, -1, dtype=dt)  # steps - 1 - i for i = half .. steps - 1
    out[half:] = exact_fma(np.full(rest, -step), back, np.full(rest, e), dt)
    return out


def _half_values(start: Any, end: Any, steps: int) -> np.ndarray:
    """float16: each ``c10::Half`` operation computes in float32 and rounds to half (a float32
    product of two halves is exact, so ``astype`` after it is the one rounding PyTorch makes)."""
    h, f = np.float16, np.float32
    s, e = h(f(start)), h(f(end))  # Scalar(double) -> float -> Half
    if steps <= 1:
        return np.full(steps, s, dtype=h)
    step = h(f(h(f(e) - f(s))) / f(h(steps - 1)))
    half = steps // 2
    idx = np.arange(steps)
    first = (f(step) * idx[:half].astype(h).astype(f)).astype(h)
    back = (f(step) * (steps - 1 - idx[half:]).astype(h).astype(f)).astype(h)
    out = np.empty(steps, dtype=h)
    out[:half] = (f(s) + first.astype(f)).astype(h)
    out[half:] = (f(e) - back.astype(f)).astype(h)
    return out


def _integer_values(start: Any, end: Any, steps: int, dt: np.dtype) -> np.ndarray:
    """Integers: ``start``/``end`` truncated toward zero, a float64 ``step``, each point
    one fused multiply-add truncated toward zero."""
    s, e = float(_in_int_dtype(int(start), dt)), float(_in_int_dtype(int(end), dt))
    if steps <= 1:
        return np.full(steps, s).astype(dt)
    step = (e - s) / (steps - 1)
    half = steps // 2
    idx = np.arange(steps, dtype=np.float64)
    out = np.empty(steps, dtype=np.float64)
    out[:half] = exact_fma(np.full(half, step), idx[:half], np.full(half, s), np.float64)
    out[half:] = exact_fma(
        np.full(steps - half, -step), steps - 1 - idx[half:], np.full(steps - half, e), np.float64
    )
    return np.trunc(out).astype(dt)


def _in_int_dtype(v: int, dt: np.dtype) -> int:
    """``v`` as PyTorch's ``Scalar.to<int type>()`` reads a bound: beyond the dtype's range a
    RuntimeError (NumPy would wrap ``linspace(10, 2000, 5, dtype=int8)`` silently); an unsigned
    dtype takes a negative ``v`` down to ``-max`` modulo its size, as c10's check allows."""
    info = np.iinfo(dt)
    if v > info.max or v < (-info.max if dt.kind == "u" else info.min):
        raise RuntimeError(f"linspace: value {v} cannot be converted to type {dt.name}_t without overflow")
    return v % (info.max + 1) if v < 0 and dt.kind == "u" else v
