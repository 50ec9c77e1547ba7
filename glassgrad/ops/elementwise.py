"""Elementwise primitives: arithmetic, clamp, maximum/minimum, where; and the operand coercion
every elementwise op shares (``operands``, ``promote``, ``floating``). Casts and clone are in
``conversion.py``; exp, log, sqrt, trig ... in ``unary.py``; comparisons, logical ops, rounding,
``floor_divide`` and ``remainder`` in ``compare.py``.

Every binary op broadcasts like NumPy; the engine undoes the broadcast in backward. Python scalars do
not change a tensor's dtype; an integer tensor meeting a float is promoted to it (not NumPy's float64).
"""

from __future__ import annotations

import decimal
import fractions
import math
from operator import mul as mul_op
from operator import truediv
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.forward_ad import tracked
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.errors import DTypeError
from glassgrad.iterator_layout import preserved_result
from glassgrad.meta_array import same_device
from glassgrad.meta_array import seen as _meta_seen
from glassgrad.ops.byte_mask import byte_condition
from glassgrad.ops.conversion import cast
from glassgrad.ops.half_precision import by_number
from glassgrad.ops.pow_kernel import int_pow, integral, pow_array
from glassgrad.tensor import Tensor, as_array

__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "maximum", "minimum", "where",
    "operands", "promote", "floating", "float_operands", "as_dtype",
]  # fmt: skip


# ------------------------------------------------------------------ operand coercion
_PY_SCALARS = (float, int, bool)
_OTHER_NUMBERS = (fractions.Fraction, decimal.Decimal)  # Python numbers PyTorch's ops refuse
_POW_NODES = (("PowBackward1", "PowBackward0"), ("PowBackward2",) * 2)  # [number base][number exponent]
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # PyTorch's: bool < integer < floating < complex


def operands(a: Any, b: Any) -> tuple[Any, Any]:
    """Make a binary op's operands agree on dtype the PyTorch way: tensors pass through when their
    dtypes match, else :func:`promote` picks one. A Python (or NumPy) scalar stays a scalar, weak
    for NumPy (float32 stays float32) unless a float meets an integer tensor: then float32.
    Lists/arrays become constant tensors."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a._data.dtype != b._data.dtype:
                return promote(a, b)
            return a, b
        return _with_scalar(a, b)
    if isinstance(b, Tensor):
        b2, a2 = _with_scalar(b, a)
        return a2, b2
    return operands(Tensor(as_array(a), _wrap=True), Tensor(as_array(b), _wrap=True))


def _sparse(a: Any, b: Any) -> bool:  # plain tensors answer at the first test (the hot path)
    return (a.__class__ is not Tensor and getattr(a, "is_sparse", False)) or (
        b.__class__ is not Tensor and getattr(b, "is_sparse", False))  # fmt: skip


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


def _with_scalar(t: Tensor, s: Any) -> tuple[Tensor, Any]:
    if s.__class__ not in _PY_SCALARS:
        if isinstance(s, np.generic) and s.dtype.kind in "biufc":
            s = s.item()  # a NumPy scalar is weak like a Python one: np.float64 must not upcast float32
        if not isinstance(s, _PY_SCALARS):
            if isinstance(s, _OTHER_NUMBERS):  # Fraction, Decimal: PyTorch takes no such number
                raise TypeError(
                    f"expected a tensor or a number (bool, int, float, complex), got {type(s).__name__}"
                )
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


def float_operands(a: Any, b: Any) -> tuple[Any, Any]:
    """:func:`operands` of an op that computes integer inputs in floating point (true division,
    atan2, xlogy, copysign): when neither side is floating or complex, each integer or bool tensor
    is cast from its own dtype to the default float first, as PyTorch casts every input to the
    computation dtype. Promoting to the common integer dtype first would wrap values: an int64
    -4 (0-d) beside a uint8 tensor would become 252 before the division."""
    if not (_floating_side(a) or _floating_side(b)):
        a = floating(a) if isinstance(a, Tensor) else a
        b = floating(b) if isinstance(b, Tensor) else b
    return operands(a, b)


def _floating_side(x: Any) -> bool:
    if isinstance(x, Tensor):
        return x._data.dtype.kind in "fc"
    return isinstance(x, (float, complex)) or (isinstance(x, np.generic) and x.dtype.kind in "fc")


def _needs(ctx, i: int) -> bool:
    return ctx.needs_input_grad[i]


# ------------------------------------------------------------------ arithmetic
class Add(Function):
    """z = a + b.   VJP: (g, g)."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """z = a - b.   VJP: (g, -g)."""

    @staticmethod
    def forward(ctx, a, b):
        if a.__class__ in _PY_SCALARS:
            ctx.attrs["node_name"] = "RsubBackward1"  # PyTorch's node for number - tensor
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b.   VJP: (g * b, g * a)."""

    @staticmethod
    def forward(ctx, a, b):
        need = ctx.needs_input_grad  # keep only what a wanted gradient reads, as PyTorch
        ctx.save_for_backward(a if need[1] else None, b if need[0] else None)
        if a.__class__ in _PY_SCALARS:  # float16 by a number: in float32, as PyTorch (by_number)
            return by_number(mul_op, b, a)
        return by_number(mul_op, a, b) if b.__class__ in _PY_SCALARS else a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        need = ctx.needs_input_grad
        ga = (by_number(mul_op, g, b) if b.__class__ in _PY_SCALARS else g * b) if need[0] else None
        gb = (by_number(mul_op, g, a) if a.__class__ in _PY_SCALARS else g * a) if need[1] else None
        return ga, gb


class Div(Function):
    """z = a / b.   VJP: (g / b, -g * a / b^2)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        if b.__class__ is float or b.__class__ is int:
            return by_number(truediv, a, b) if b else quietly(truediv, a, b)  # x / 0: quietly as PyTorch
        return quietly(truediv, a, b)  # (a divisor with zeros: the same)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        need = ctx.needs_input_grad
        ga = by_number(truediv, g, b) if need[0] else None  # (float16 by a number: PyTorch's kernel)
        gb = -g * a / (b * b) if need[1] else None
        return ga, gb


class Pow(Function):
    """z = a ** b.   VJP: (g * b * a^(b-1), taken as 0 where b == 0; g * z * ln a, taken as 0 where
    a == 0 and b >= 0, -inf where a == 0 and b < 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.attrs["node_name"] = _POW_NODES[a.__class__ in _PY_SCALARS][b.__class__ in _PY_SCALARS]
        out = pow_array(a, b)
        # z only for b's gradient, as PyTorch (x ** 2 saves x alone): a later in-place change of z
        # must not make backward raise where PyTorch computes
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved
        xp = array_module(a)
        need = ctx.needs_input_grad
        ga = gb = None
        if need[0]:
            # g * (b * a^(b-1)) in PyTorch's order and with its a^(b-1) (``pow_array``)
            if b.__class__ in _PY_SCALARS and b >= 1:
                ga = g * (b * pow_array(a, b - 1))  # the common x ** 2: no 0 ** negative, no errstate cost
            else:
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf, as PyTorch
                    # d/da a^0 = 0 everywhere, also at a = 0 where 0 * 0^-1 would be nan (as PyTorch)
                    ga = xp.where(b == 0, 0.0, g * (b * pow_array(a, b - 1)))
        if need[1]:
            # at a = 0: 0 where b >= 0 (0 * -inf would be nan), and inf * -inf = -inf where b < 0,
            # as PyTorch
            if a.__class__ in _PY_SCALARS:  # 2 ** x: math.log stays a weak Python float (np.log would
                if a == 0:  # upcast float32)
                    gb = xp.where(b < 0, g * -math.inf, 0.0 * g)
                else:
                    gb = g * out * (math.log(a) if a > 0 else math.nan)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    gb = g * xp.where((a == 0) & (b >= 0), 0.0, out * xp.log(a))
        return ga, gb


class Neg(Function):
    """z = -a.   VJP: -g."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


def _pick(g, a, b):
    """The gradients of max(a, b): g to a unless a < b, to b unless a > b, g/2 each at a tie (so
    both get g where either is NaN, as in PyTorch). Selected with ``where``, not multiplied by a
    mask, so a NaN or inf in g stays out of the side that lost (0 * nan is nan), as in PyTorch."""
    xp = array_module(g)
    g = xp.where(a == b, 0.5 * g, g)
    return xp.where(a < b, 0, g), xp.where(a > b, 0, g)


class Maximum(Function):
    """z = max(a, b) elementwise.   VJP: g to the larger; at ties g/2 to each (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        return _pick(g, a, b)


class Minimum(Function):
    """z = min(a, b) elementwise.   VJP: g to the smaller; at ties g/2 to each (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        return _pick(g, b, a)  # min(a, b) = -max(-a, -b): a's gradient unless a > b, b's unless b > a


class Where(Function):
    """z = a where cond else b.   VJP: (None, g where cond else 0, 0 where cond else g); cond gets
    no gradient. Selected, not multiplied by the mask: a NaN in g must not leak to the branch that
    was not taken (0 * nan is nan), as PyTorch's ``where`` backward."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return array_module(cond).where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved
        need = ctx.needs_input_grad
        xp = array_module(g)
        return None, (xp.where(cond, g, 0) if need[1] else None), (xp.where(cond, 0, g) if need[2] else None)


# ------------------------------------------------------------------ tensor-level functions
def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcasting; dense + sparse is dense (SparseTensor's reflected operator)."""
    if _sparse(a, b):
        return a + b  # SparseTensor's reflected operator runs first (it is a Tensor subclass)
    return Add.apply(*operands(a, b))


def sub(a: Any, b: Any) -> Tensor:
    """a - b, broadcasting; a sparse operand as in ``add``."""
    if _sparse(a, b):
        return a - b
    return Sub.apply(*operands(a, b))


def mul(a: Any, b: Any) -> Tensor:
    """a * b, broadcasting."""
    return Mul.apply(*operands(a, b))


def div(a: Any, b: Any) -> Tensor:
    """a / b, broadcasting; integer inputs give a float result (true division)."""
    return Div.apply(*float_operands(a, b))


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** b, broadcasting. Integer powers stay integer (no gradient), with PyTorch's rules for
    negative exponents: an error for a scalar one; elementwise 1 ** -n = 1, (-1) ** -n = +-1, else 0."""
    a, b = operands(a, b)
    if integral(a) and integral(b):
        return int_pow(a, b)
    return Pow.apply(a, b)


def neg(a: Tensor) -> Tensor:
    return Neg.apply(a)


def maximum(a: Any, b: Any) -> Tensor:
    return Maximum.apply(*operands(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    return Minimum.apply(*operands(a, b))


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002 - PyTorch's names
    """Elementwise choice: ``input`` where ``condition`` is true, else ``other`` (all broadcast).
    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``: one index tensor per dim."""
    if input is None or other is None:
        if input is not None or other is not None:
            raise TypeError("where: expected (condition) or (condition, input, other), got two arguments")
        from glassgrad.ops.sampling import nonzero  # sampling imports this module's neighbours

        cond = condition if isinstance(condition, Tensor) else Tensor(as_array(condition))
        return nonzero(cond, as_tuple=True)
    # a copy of the condition (a tensor's or an array's): backward reads it, and an in-place change must not move it
    cond = condition._data if isinstance(condition, Tensor) else condition
    cond = preserved_result(array_module(cond).array(cond), [cond])  # its strides kept (size-1 dims too)
    if cond.dtype != np.bool_:  # uint8: a mask with a warning (PyTorch's deprecated path); else refused
        cond = byte_condition("where", cond)
    a, b = operands(input, other)
    if _meta_seen[0]:  # the condition is a raw array here: check its device against the values'
        same_device("where", cond, a, b)
    return Where.apply(cond, a, b)
