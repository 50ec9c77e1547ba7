"""Comparisons, logical ops, rounding, ``floor_divide`` and ``remainder``: computed directly on the
arrays, with results that carry no gradient (no node is recorded) — except ``remainder`` (``%``) of
floats, which PyTorch differentiates (its primitive ``Remainder``), the rounding functions and
``sign`` of a tensor that requires grad, recorded with a zero gradient as PyTorch's, and float
``floor_divide``, recorded with none (a backward through it raises, as PyTorch's) (``zero_slope.py``).

``eq``/``ne``/``lt``/``le``/``gt``/``ge``, the ``logical_*`` ops, ``isnan`` and ``isfinite`` give
bool tensors. Binary ones broadcast and coerce their operands like every elementwise op
(``elementwise.operands``). The ``bitwise_*`` ops (what ``&``, ``|``, ``^`` and ``~`` call, as in
PyTorch) take integer or bool tensors only; on bools they are the logical ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.complex_gate import refuse_unordered
from glassgrad.autograd.forward_ad import tracked
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.dtypes import complex_seen as _complex_seen
from glassgrad.errors import IntegerDivisionError, KernelDTypeError, ShapeError, size_mismatch
from glassgrad.iterator_layout import iterator_result, needs_layout
from glassgrad.meta_array import same_device, valued
from glassgrad.meta_array import seen as _meta_seen
from glassgrad.ops.elementwise import operands
from glassgrad.ops.math_more import modulo_backward, modulo_forward, remainder_array
from glassgrad.ops.zero_slope import NoDerivativePair, recorded_pair, recorded_step, step_value
from glassgrad.tensor import Tensor

__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "logical_not",
    "sign", "floor", "ceil", "round", "isnan", "isfinite", "floor_divide", "remainder",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
]  # fmt: skip


# ------------------------------------------------------------------ non-differentiable results
#: The results that need an order (NumPy would compare complex numbers lexicographically).
_ORDERED = frozenset({"less", "less_equal", "greater", "greater_equal", "sign", "floor", "ceil", "round"})


def _const(name: str, *args: Any) -> Tensor:
    arrays = [x._data if isinstance(x, Tensor) else x for x in args]
    if _meta_seen[0]:  # a meta operand beside a CPU one with dims: PyTorch's device mismatch
        same_device(name, *arrays)
    if _complex_seen[0] and name in _ORDERED:
        for a in arrays:
            if isinstance(a, np.ndarray | np.generic) and a.dtype.kind == "c":
                # PyTorch has no complex kernel ("lt_cpu" not implemented for 'ComplexFloat')
                raise KernelDTypeError(f"{name}: expected real tensors, got {a.dtype} (unordered)")
    try:
        xp = array_module(*arrays)
        # 0-d ufuncs give NumPy scalars; quietly: a Python number past a float16 tensor's range
        # (x == 1e30) is inf to NumPy, which warns of the cast, where PyTorch compares silently
        out = xp.asarray(quietly(getattr(xp, name), *arrays))
        if out.ndim > 1 and out.__class__ is np.ndarray and needs_layout(out, arrays):
            out = iterator_result(out, arrays)  # PyTorch's strides (iterator_layout.py)
        return Tensor(out, _wrap=True)
    except ValueError:
        shapes = " and ".join(str(np.shape(a)) for a in arrays)
        sizes = size_mismatch([np.shape(a) for a in arrays])
        raise ShapeError(f"{name}: expected shapes that broadcast together, got {shapes}{sizes}") from None


_TORCH_NAMES = {
    "equal": "eq",
    "not_equal": "ne",
    "less": "lt",
    "less_equal": "le",
    "greater": "gt",
    "greater_equal": "ge",
}


def _compare(name: str):
    shown = _TORCH_NAMES.get(name, name)  # PyTorch's name, in errors

    def op(a: Any, b: Any) -> Tensor:
        return _const(name, *operands(a, b, shown))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` (broadcasting); the result carries no gradient."
    return op


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_xor = _compare("logical_xor")


def _bool_operand(v: Any) -> bool:
    return v.__class__ is bool or getattr(v, "dtype", None) == np.bool_


def _division(name: str, fn: Any = None):
    """The op ``name``: ``fn(xp, x, y)``, by default NumPy's function of that name."""

    def op(a: Any, b: Any) -> Tensor:
        a, b = operands(a, b, name)
        x, y = (t._data if isinstance(t, Tensor) else t for t in (a, b))
        if _bool_operand(x) and _bool_operand(y):
            # PyTorch has no bool kernel for these ("div_floor_cpu" not implemented for 'Bool');
            # NumPy's gives int8
            raise KernelDTypeError(f"{name}: expected numeric operands, got two bool ones")
        if _meta_seen[0]:
            same_device(name, x, y)
        if _complex_seen[0]:
            refuse_unordered(name, x, y)  # (NumPy's own TypeError would not name the op)
        xp = array_module(x, y)
        # Floats give inf / nan on a zero divisor or past their range, as in PyTorch (no NumPy
        # warning); integers have no such value, and NumPy's silent 0 would be a wrong answer:
        # raise, as PyTorch does.
        with np.errstate(all="ignore"):
            try:
                out = fn(xp, x, y) if fn else getattr(xp, name)(x, y)
            except ValueError:
                raise ShapeError(
                    f"{name}: expected shapes that broadcast together, got {np.shape(x)} and "
                    f"{np.shape(y)}{size_mismatch([np.shape(x), np.shape(y)])}"
                ) from None
        # empty: no division; meta: no values to check
        if (
            out.dtype.kind in "iub"
            and out.size
            and valued(out)
            and valued(y)
            and bool(xp.any(xp.asarray(y) == 0))
        ):
            raise IntegerDivisionError(
                f"{name}: expected a non-zero integer divisor, got a divisor holding 0"
            )
        out = xp.asarray(out)
        if out.ndim > 1 and out.__class__ is np.ndarray and needs_layout(out, [x, y]):
            # PyTorch's strides, as _const's (a remainder without gradient is this op, not Remainder)
            out = iterator_result(out, [x, y])
        return Tensor(out, _wrap=True)

    op.__name__ = name
    op.__doc__ = (
        f"Elementwise ``{name}`` (broadcasting); no gradient. An integer divisor holding 0 raises "
        "``ZeroDivisionError``; a float one gives inf / nan."
    )
    return op


def _trunc_divide(xp: Any, x: Any, y: Any) -> Any:
    """The quotient rounded toward zero; integers stay exact (no trip through floats)."""
    if xp.result_type(x, y).kind in "iub":
        q = xp.floor_divide(x, y)
        return q + ((xp.remainder(x, y) != 0) & ((xp.asarray(x) < 0) != (xp.asarray(y) < 0)))
    return xp.trunc(xp.true_divide(x, y))


_floor_divide = _division("floor_divide")


def floor_divide(a: Any, b: Any) -> Tensor:
    """Elementwise ``a // b`` (broadcasting). With a floating operand that requires grad, PyTorch
    records a node with no derivative (``NotImplemented``): backward through it raises. An integer
    divisor holding 0 raises ``ZeroDivisionError``; a float one gives inf / nan."""
    a, b = operands(a, b, "floor_divide")
    node = recorded_pair(NoDerivativePair, a, b, "floor_divide")
    return node if node is not None else _floor_divide(a, b)


_int_remainder = _division("remainder", remainder_array)


class Remainder(Function):
    """z = a - floor(a / b) b, with b's sign (Python's ``%``).   VJP: (g, -g floor(a / b)); the
    jumps where a / b is an integer get the one-sided slopes, as PyTorch's."""

    @staticmethod
    def forward(ctx, a, b):
        return modulo_forward(ctx, "remainder", a, b)

    @staticmethod
    def backward(ctx, g):
        return modulo_backward(ctx, g, "floor")


def remainder(a: Any, b: Any) -> Tensor:
    """Elementwise ``a % b`` with the divisor's sign (broadcasting). Floats are differentiable, as
    PyTorch's; an integer divisor holding 0 raises ``ZeroDivisionError``; a float one gives nan."""
    x, y = operands(a, b, "remainder")
    tensors = [t for t in (x, y) if isinstance(t, Tensor)]
    if tensors[0]._data.dtype.kind == "f" and any(tracked(t) for t in tensors):
        return Remainder.apply(x, y)
    return _int_remainder(a, b)


trunc_divide = _division("trunc_divide", _trunc_divide)


def _integral_only(name: str, *args: Any) -> None:
    """Refuse a float or complex operand of a bitwise op: PyTorch has no kernel for one
    ("bitwise_and_cpu" not implemented for 'Float')."""
    for x in args:
        kind = x._data.dtype.kind if isinstance(x, Tensor) else "f" if isinstance(x, float) else "i"
        if kind not in "biu":
            shown = x.dtype if isinstance(x, Tensor) else type(x).__name__
            raise KernelDTypeError(f"{name}: expected integer or bool operands, got {shown}")


def _bitwise(name: str):
    def op(a: Any, b: Any) -> Tensor:
        a, b = operands(a, b, name)
        _integral_only(name, a, b)
        return _const(name, a, b)

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` of integer or bool tensors (broadcasting); no gradient."
    return op


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")


def bitwise_not(a: Tensor) -> Tensor:
    """``~a``: logical not of a bool tensor, bitwise not of an integer one; no gradient."""
    _integral_only("bitwise_not", a)
    return _const("invert", a)


def logical_not(a: Tensor) -> Tensor:
    return _const("logical_not", a)


def sign(a: Tensor) -> Tensor:
    if (node := recorded_step(a, "sign")) is not None:
        return node
    if a._data.dtype.kind == "b":
        return Tensor(a._data.copy(), _wrap=True)  # NumPy has no bool sign; PyTorch returns the bools
    out = _const("sign", a)
    d = out._data
    if d.dtype.kind == "f" and d.__class__ is np.ndarray:
        d[d != d] = 0  # sign(nan) is 0, as PyTorch's (NumPy: nan); a fresh result, no graph
    return out


def _not_bool(name: str, a: Tensor) -> None:
    if a._data.dtype == np.bool_:  # as PyTorch ("not implemented for 'Bool'"); NumPy's round gave float16
        raise KernelDTypeError(f"{name}: expected a numeric tensor, got bool")


def floor(a: Tensor) -> Tensor:
    _not_bool("floor", a)
    node = recorded_step(a, "floor")
    return node if node is not None else _const("floor", a)


def ceil(a: Tensor) -> Tensor:
    _not_bool("ceil", a)
    node = recorded_step(a, "ceil")
    return node if node is not None else _const("ceil", a)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001, A002 - PyTorch's names
    """Round half to even; ``decimals``: to that many decimal places (negative: to tens, hundreds
    ...), as PyTorch: rint(x * 10^d) / 10^d, or rint(x / 10^-d) * 10^-d, in the input's dtype."""
    _not_bool("round", input)
    if (node := recorded_step(input, "round", decimals)) is not None:
        return node
    x = input._data
    if decimals == 0 or x.dtype.kind != "f" or x.__class__ is not np.ndarray:  # meta: shape and dtype only
        return _const("round", input)
    return Tensor(step_value(x, "round", decimals), _wrap=True)


def isnan(a: Tensor) -> Tensor:
    return _const("isnan", a)


def isfinite(a: Tensor) -> Tensor:
    return _const("isfinite", a)
