"""``torch.range``: PyTorch's deprecated inclusive range, kept because course notebooks still call it,
``logspace``, and ``triu_indices`` / ``tril_indices``, the index ranges of a matrix's triangles
(graph code builds its all-pairs edge lists with them).

``range`` lives in its own module because defining it shadows the builtin in the module that holds it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.factories import _check, _float, _make, _number, keep_out_shape, out_dtype, scalar_bounds
from glassgrad.linspace_kernel import check_steps, linspace_dtype
from glassgrad.meta_array import meta_array
from glassgrad.operand_errors import int_arg, number_arg
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["logspace", "range", "tril_indices", "triu_indices"]


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
    meta = _check("range", device, layout, False, out, dtype)
    dtype = out_dtype(out, dtype)
    start, end, step = _number(start, "range"), _number(end, "range"), _number(step, "range")
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
    arr = keep_out_shape(meta_array(arr.shape, arr.dtype) if meta else arr, out)
    return _make(arr, requires_grad, out, "range")


def logspace(
    start: Any, end: Any, steps: int, base: float = 10.0, *, out: Any = None, dtype: Any = None,
    layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """``base ** linspace(start, end, steps)``: shape ``(steps,)``, in ``dtype``, else the default
    dtype, or its complex counterpart when ``start`` or ``end`` is complex (as PyTorch infers it)."""
    meta = _check("logspace", device, layout, pin_memory, out, dtype)
    dtype = out_dtype(out, dtype)
    scalar_bounds("logspace", start, end)
    steps = check_steps("logspace", int_arg("logspace", "steps", steps))
    dt = linspace_dtype(dtype, start, end, "logspace")  # a complex start or end: complex, as PyTorch
    if dt.kind == "b":  # NumPy would cast the powers to True; PyTorch's kernel has no bool
        raise NotImplementedError("\"logspace_cpu\" not implemented for 'Bool'")
    start, end = _number(start), _number(end)
    base = base if base.__class__ is float else number_arg("logspace", "base", base, "Number")
    if dt.kind in "iu" and not isinstance(start, complex) and not isinstance(end, complex):
        arr = _int_logspace(start, end, steps, base).astype(dt)
    else:
        arr = np.logspace(start, end, steps, base=base).astype(dt)
    arr = keep_out_shape(meta_array(arr.shape, arr.dtype) if meta else arr, out)
    return _make(arr, requires_grad, out, "logspace")


def _int_logspace(start: Any, end: Any, steps: int, base: Any) -> np.ndarray:
    """PyTorch's integer ``logspace`` kernel, shape ``(steps,)`` float64 before the cast: the bounds
    truncate to integers first (``logspace(0, 1.2, 2, dtype=int64)`` is ``[1, 10]``, not ``[1, 15]``),
    and the exponents run from both ends to the middle, as its kernel fills them."""
    if steps == 1:  # its one-step fill reads the bounds as doubles
        return np.array([float(base) ** float(start)])
    lo, hi = int(start), int(end)  # toward zero, as c10::Scalar::to<int64_t>
    step = (hi - lo) / (steps - 1)
    i = np.arange(steps, dtype=np.float64)
    expo = np.where(i < steps // 2, lo + step * i, hi - step * (steps - i - 1))
    return np.power(float(base), expo)


def _triangle(
    op: str,
    row: Any,
    col: Any,
    offset: Any,
    dtype: Any,
    device: Any,
    layout: Any,
    requires_grad: bool = False,
) -> Tensor:
    meta = _check(op, device, layout)
    row, col, offset = int(_number(row)), int(_number(col)), int(_number(offset))
    if row < 0 or col < 0:
        raise RuntimeError(f"{op}: expected row and col to be non-negative, got row={row}, col={col}")
    dt = dtypes.to_np_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    if dt.kind not in "iu":
        raise RuntimeError(f"{op}: expected an integer dtype, got {dtype}")
    keep = np.triu if op == "triu_indices" else np.tril
    # the positions (in row-major order, as PyTorch lists them) of a row x col block of ones that survive
    # triu/tril at offset
    rows, cols = np.nonzero(keep(np.ones((row, col), dtype=bool), offset))
    arr = np.stack([rows, cols]).astype(dt)  # (2, count), even when count is 0
    return _make(meta_array(arr.shape, arr.dtype) if meta else arr, requires_grad, None, op)


def triu_indices(
    row: Any, col: Any, offset: Any = 0, *, dtype: Any = None, device: Any = None, layout: Any = None,
    pin_memory: bool = False, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The (row, column) indices of the upper triangle of a ``row x col`` matrix, diagonal shifted by
    ``offset`` (> 0 above the main one): shape ``(2, count)``, int64 unless ``dtype`` says otherwise."""
    return _triangle("triu_indices", row, col, offset, dtype, device, layout, requires_grad)


def tril_indices(
    row: Any, col: Any, offset: Any = 0, *, dtype: Any = None, device: Any = None, layout: Any = None,
    pin_memory: bool = False, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The (row, column) indices of the lower triangle of a ``row x col`` matrix, diagonal shifted by
    ``offset`` (< 0 below the main one): shape ``(2, count)``, int64 unless ``dtype`` says otherwise."""
    return _triangle("tril_indices", row, col, offset, dtype, device, layout, requires_grad)
