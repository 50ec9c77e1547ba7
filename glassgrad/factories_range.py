"""``torch.range``: PyTorch's deprecated inclusive range, kept because course notebooks still call it.

It lives in its own module because defining ``range`` shadows the builtin in the module that holds it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassgrad.factories import _check, _float, _make, _number
from glassgrad.meta_array import meta_array
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["range"]


def range(  # noqa: A001 - PyTorch's name
    start: Any, end: Any, step: Any = 1, *, out: Any = None, dtype: Any = None,
    layout: Any = None, device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Values ``start, start + step, ...`` up to and including ``end``: shape
    ``(int((end - start) / step + 1),)``, in the default float dtype even for int arguments
    (unlike ``arange``), with PyTorch's deprecation warning."""
    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior is "
        "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
        "[start, end).",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    meta = _check("range", device, layout)
    start, end, step = _number(start), _number(end), _number(step)
    dt = _float(dtype)
    if dt.kind in "iu":  # an integer range is computed in integers: bounds and step truncate first
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"range: upper bound and lower bound inconsistent with step sign ({start}, {end}, {step})"
        )
    # PyTorch's size, in double: the +1 comes before the truncation, so (0.1, 0.3, 0.1) rounds up to 3
    n = int((end - start) / step + 1)
    arr = (start + np.arange(n, dtype=np.float64) * step).astype(dt)  # start + i * step, as PyTorch fills it
    return _make(meta_array(arr.shape, arr.dtype) if meta else arr, requires_grad, out, "range")
