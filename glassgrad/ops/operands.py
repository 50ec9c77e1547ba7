"""The operand coercion every elementwise op shares (moved out of ``elementwise.py``, which
re-exports it): ``operands`` makes a binary op's operands agree on dtype the PyTorch way,
``promote`` picks the result dtype of two tensors, ``float_operands`` casts integer inputs of an
op computed in floating point from their own dtype, ``floating`` promotes one tensor (``float_kernel``
refuses one where PyTorch has no integer kernel), and numbers
beside a tensor stay weak (a Python float does not widen float32).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.forward_ad import tracked
from glassgrad.backend import array_module, quietly
from glassgrad.errors import DTypeError, kernel_dtype_error
from glassgrad.ops.conversion import cast
from glassgrad.tensor import Tensor, as_array

__all__ = ["operands", "promote", "floating", "float_kernel", "float_operands", "as_dtype", "promoted_floats"]

_PY_SCALARS = (float, int, bool)
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # PyTorch's: bool < integer < floating < complex


def operands(a: Any, b: Any, op: str = "") -> tuple[Any, Any]:
    """Make a binary op's operands agree on dtype the PyTorch way: tensors pass through when their
    dtypes match, else :func:`promote` picks one. A Python (or NumPy) scalar stays a scalar, weak
    for NumPy (float32 stays float32) unless a float meets an integer tensor: then float32.
    Arrays become constant tensors; a list or tuple beside a tensor is refused (``op`` names the
    op in the error), as PyTorch's functions and methods refuse it."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a._data.dtype != b._data.dtype:
                return promote(a, b)
            return a, b
        return _with_scalar(a, b, op)
    if isinstance(b, Tensor):
        b2, a2 = _with_scalar(b, a, op)
        return a2, b2
    # two numbers (``where(c, x, y)``): a NumPy scalar is read as PyTorch's argument parser reads
    # it, a Python number of the default dtype (np.float64 gave a float64 result, PyTorch float32)
    a, b = (numpy_number(x) if isinstance(x, np.generic) and x.dtype.kind in "biufc" else x for x in (a, b))
    return operands(Tensor(as_array(a), _wrap=True), Tensor(as_array(b), _wrap=True), op)


def _refuse_sequence(t: Tensor, s: Any, op: str) -> None:
    """A list or tuple beside a tensor is refused, as PyTorch's functions and methods refuse it: read
    as a tensor it broadcasts silently (``clamp(t, (lo, hi))`` bounded each column by one of them)."""
    if isinstance(s, (list, tuple)):
        raise TypeError(
            f"{op or 'the op'}(): expected a Tensor or a number beside the {tuple(t.shape)} "
            f"{t._data.dtype} tensor, got {type(s).__name__} {s!r:.60} "
            "(glassgrad.tensor(...) makes one)"
        )


def promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Two tensors of different dtypes brought to PyTorch's result dtype.

    The higher category wins (bool < integer < floating: int64 * float32 is float32). Within one
    category a tensor with dims beats a 0-d one (float32 (3,) * float64 () is float32, no silent
    upcast); otherwise NumPy already promotes to the larger type, as PyTorch does.
    """
    da, db = a._data.dtype, b._data.dtype
    ca, cb = _CATEGORY.get(da.kind, 4), _CATEGORY.get(db.kind, 4)
    if ca != cb:
        if ca < 2 and cb < 2:
            return a, b  # bool meets integer: NumPy gives the integer type, as PyTorch
        target = da if ca > cb else db
        if ca + cb == 5:  # float meets complex: PyTorch's precision rule
            target = dtypes.complex_result(a._data, b._data)
    elif (a._data.ndim == 0) != (b._data.ndim == 0):
        target = db if a._data.ndim == 0 else da
    else:
        return a, b
    return as_dtype(a, target), as_dtype(b, target)


def as_dtype(t: Tensor, dtype: Any) -> Tensor:
    """``t`` in ``dtype``: itself if it is, else a cast (recorded when ``t`` is tracked)."""
    if t._data.dtype == dtype:
        return t
    if tracked(t):
        return cast(t, dtype)  # recorded, so the gradient (or tangent) flows back in t's own dtype
    return Tensor(quietly(t._data.astype, dtype), _wrap=True)  # 1e30 into float16: inf, as PyTorch


def numpy_number(s: np.generic) -> Any:
    """A NumPy scalar as PyTorch's argument parser reads it: an integer one as an int, a bool or
    floating one as a float (``uint8_t + np.True_`` is float32 in PyTorch, as ``result_type`` says;
    ``.item()`` gave a bool and kept uint8), a complex one as a complex (PyTorch's float() there
    drops the imaginary part, with NumPy's ComplexWarning; glassgrad keeps it)."""
    kind = s.dtype.kind
    return int(s) if kind in "iu" else float(s) if kind in "bf" else s.item()


def _with_scalar(t: Tensor, s: Any, op: str = "") -> tuple[Tensor, Any]:
    if s.__class__ not in _PY_SCALARS:
        if isinstance(s, np.generic) and s.dtype.kind in "biufc":
            s = numpy_number(s)  # weak like a Python number: np.float64 must not upcast float32
        if not isinstance(s, _PY_SCALARS):
            if isinstance(s, numbers.Number) and not isinstance(s, complex):
                # Fraction, Decimal, SymPy's Integer/Float/Zero: PyTorch takes no such number, so its
                # operators decline them (NotImplemented) and ``t * sympy.Integer(0)`` is SymPy's result
                raise TypeError(
                    f"{op or 'the op'}(): expected a tensor or a number (bool, int, float, complex) beside "
                    f"the {tuple(t.shape)} {t._data.dtype} tensor, got {type(s).__name__} {s!r:.40}"
                )
            _refuse_sequence(t, s, op)
            return operands(
                t, _complex_scalar(t, s) if isinstance(s, complex) else Tensor(as_array(s), _wrap=True)
            )
    if isinstance(s, float) and t._data.dtype.kind not in "fc":
        t = Tensor(t._data.astype(dtypes.get_default_dtype().np), _wrap=True)
    elif s.__class__ is int and t._data.dtype.kind in "iu":
        s = _wrapped(s, t._data.dtype)
    return t, s


def _complex_scalar(t: Tensor, s: complex) -> Tensor:
    """A Python complex as a 0-d tensor of the result's complex dtype, unrounded (as PyTorch's
    wrapped number): ``t``'s if complex, its counterpart if float32/64, else the default's."""
    kind, item = t._data.dtype.kind, t._data.dtype.itemsize
    if kind == "c":
        target = t._data.dtype
    elif kind == "f" and item >= 4:
        target = dtypes.complex_of(t._data.dtype)
    else:
        return Tensor(as_array(s), _wrap=True)
    dtypes.note_complex()  # a float tensor's result is complex: the complex gate must look from now on
    return Tensor(array_module(t._data).asarray(s, dtype=target), _wrap=True)


def _wrapped(s: int, dtype: Any) -> int:
    """A Python int outside an integer tensor's range, wrapped into it as PyTorch casts it
    (uint8 + -3 adds 253); NumPy would raise a bare OverflowError. Past 64 bits: an error."""
    info = np.iinfo(dtype)
    if info.min <= s <= info.max:
        return s
    if not -(2**63) <= s < 2**64:
        raise OverflowError(f"expected an integer that fits 64 bits for a {dtype} tensor, got {s}")
    return int(np.array(s, dtype=np.int64 if s < 2**63 else np.uint64).astype(dtype))


def floating(x: Tensor) -> Tensor:
    """``x`` itself if floating point or complex, else a float copy (PyTorch promotes ints for exp, log)."""
    if x._data.dtype.kind in "fc":
        return x
    if not isinstance(x, Tensor):
        raise DTypeError(f"expected a Tensor, got {type(x).__name__}")
    return Tensor(x._data.astype(dtypes.get_default_dtype().np), _wrap=True)


def float_kernel(x: Tensor, op: str, kernel: str, complex_ok: bool = True) -> Tensor:
    """``x`` itself if floating point or complex, else PyTorch's NotImplementedError for an op whose
    kernel ``kernel`` has floating dtypes only (``"gelu" ... not implemented for 'Long'``): the
    activations and norms that PyTorch does not promote. A silent promotion would run a program
    that stops in PyTorch, and a norm computed in the integer dtype truncated its result to 0.
    ``complex_ok=False``: a kernel of real floating dtypes only (``"hardshrink_cpu"`` not
    implemented for 'ComplexFloat'), where NumPy's order of complex numbers would give an answer."""
    kind = x._data.dtype.kind
    if kind == "f" or (kind == "c" and complex_ok):
        return x
    if not isinstance(x, Tensor):
        raise DTypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    e = kernel_dtype_error(op, kernel, x._data.dtype)
    hint = "x.real is one" if kind == "c" else "x.float() converts one"
    raise type(e)(f"{e} (expected a real floating-point input; {hint})")


def float_operands(a: Any, b: Any, op: str = "") -> tuple[Any, Any]:
    """:func:`operands` of an op that computes integer inputs in floating point (true division,
    atan2, xlogy, copysign): when neither side is floating or complex, each integer or bool tensor
    is cast from its own dtype to the default float first, as PyTorch casts every input to the
    computation dtype. Promoting to the common integer dtype first would wrap values: an int64
    -4 (0-d) beside a uint8 tensor would become 252 before the division. Two numbers become
    tensors first, so ``div(-8, 6)`` is the default float as in PyTorch (an int64 pair divided
    in NumPy gave float64)."""
    if not (isinstance(a, Tensor) or isinstance(b, Tensor)):
        a, b = Tensor(as_array(a), _wrap=True), Tensor(as_array(b), _wrap=True)
    if not (_floating_side(a) or _floating_side(b)):
        a = floating(a) if isinstance(a, Tensor) else a
        b = floating(b) if isinstance(b, Tensor) else b
    return operands(a, b, op)


def _floating_side(x: Any) -> bool:
    if isinstance(x, Tensor):
        return x._data.dtype.kind in "fc"
    return isinstance(x, (float, complex)) or (isinstance(x, np.generic) and x.dtype.kind in "fc")


def promoted_floats(a: Any, b: Any, op: str = "") -> tuple[Tensor, Tensor]:
    """Operands promoted to a float dtype (integers to the default float); a Python number becomes
    a 0-d array of the tensor's dtype, so NumPy cannot widen the result. Two tensors of different
    float dtypes are both cast to the result's: xlogy's log(other) of a float32 other beside a
    float64 input is taken in float64, as PyTorch's (not in float32 and then widened)."""
    a, b = float_operands(a, b, op)
    xp = array_module(a._data if isinstance(a, Tensor) else b._data)
    # quietly: a number past the dtype's range becomes inf (1e300 in float32), as in PyTorch
    if not isinstance(a, Tensor):
        a = Tensor(quietly(xp.asarray, a, b._data.dtype), _wrap=True)
    if not isinstance(b, Tensor):
        b = Tensor(quietly(xp.asarray, b, a._data.dtype), _wrap=True)
    if a._data.dtype != b._data.dtype:
        target = xp.result_type(a._data, b._data)
        a, b = as_dtype(a, target), as_dtype(b, target)
    return a, b
