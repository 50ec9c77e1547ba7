"""``arange`` into an integer dtype, with PyTorch's rule: ``start``, ``end`` and ``step`` are
truncated to integers first (C++'s cast, toward zero), so ``arange(2.58, dtype=int64)`` is
``[0, 1]`` where NumPy's ``arange(2.58).astype(int64)`` gives ``[0, 1, 2]``. The number of
values is computed from the truncated bounds for int64 and from the given ones for the other
integer dtypes, as PyTorch's kernel does (pypose's ``cumops`` relies on the int64 count; port
round 37). ``arange_arguments`` reads PyTorch's three call forms.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from glassgrad.arange_kernel import float_arange
from glassgrad.errors import ArgumentError
from glassgrad.user_frames import user_stacklevel

__all__ = ["arange_arguments", "arange_array", "integral_arange", "warn_arange_resize"]


def warn_arange_resize(out_shape: tuple, out_size: int, size: int) -> None:
    """PyTorch's arange(out=) warning when an out holding elements is resized to ``(size,)`` (its
    size may come from rounding); its ``fftfreq``/``rfftfreq``, built on arange, warn the same."""
    warnings.warn(
        f"The number of elements in the out tensor of shape {list(out_shape)} is {out_size} which "
        f"does not match the computed number of elements {size}. Note that this may occur as a "
        f"result of rounding error. The out tensor will be resized to a tensor of shape ({size},).",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def arange_arguments(start: Any, end: Any, step: Any) -> tuple[Any, Any, Any]:
    """``(start, end, step)`` of PyTorch's forms ``arange(end)`` (also ``arange(end=n)``),
    ``arange(start, end)`` and ``arange(start, end, step)``, each argument by position or by name;
    ``start`` defaults to 0 and ``step`` to 1. Without ``end``, a TypeError as PyTorch's."""
    if end is None:
        if start is None or step is not None:  # arange(), arange(step=2), arange(5, step=2)
            given = ", ".join(n for n, v in (("start", start), ("step", step)) if v is not None)
            raise TypeError(
                f"arange(): expected (end), (start, end) or (start, end, step), got ({given or 'nothing'}) "
                "without 'end'"
            )
        start, end = None, start
    return 0 if start is None else start, end, 1 if step is None else step


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def integral_arange(start: Any, end: Any, step: Any, dt: np.dtype) -> np.ndarray:
    """``[start + i * step]`` of integer dtype ``dt`` with PyTorch's truncation and count."""
    xs, xe, xst = int(start), int(end), int(step)
    if xst == 0:
        raise ArgumentError(f"arange: step must be nonzero (step {step} is 0 in the integer dtype {dt})")
    if dt == np.int64:
        sgn = (xst > 0) - (xst < 0)
        n = _trunc_div(xe - xs + xst - sgn, xst)
    else:
        n = math.ceil((float(end) - float(start)) / float(step))
    return (xs + xst * np.arange(max(n, 0), dtype=np.int64)).astype(dt)


def arange_array(start: Any, end: Any, step: Any, dt: np.dtype) -> np.ndarray:
    """``arange``'s values in dtype ``dt``: PyTorch's integer rule above, its CPU kernel's values
    for float16, float32 and float64 (``arange_kernel``), NumPy's for the others. PyTorch's checks
    first, as RuntimeErrors: a zero step, bounds that are not finite, a step of the wrong sign."""
    if step == 0:
        raise ArgumentError(f"arange: step must be nonzero, got a step of {step} from {start} to {end}")
    if not all(math.isfinite(float(v)) for v in (start, end, step)):
        raise ArgumentError(
            f"arange: unsupported range: {start} -> {end} with step {step} (expected finite numbers)"
        )
    if (end < start) if step > 0 else (end > start):
        raise ArgumentError(
            f"arange: upper bound and lower bound inconsistent with step sign: from {start} to {end} with step {step}"
        )
    if dt.kind in "iu":
        return integral_arange(start, end, step, dt)
    if dt in (np.float16, np.float32, np.float64):
        return float_arange(start, end, step, dt)
    return np.arange(start, end, step).astype(dt)
