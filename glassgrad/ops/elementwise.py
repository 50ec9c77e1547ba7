"""Elementwise primitives: arithmetic, clamp, maximum/minimum, where; the operand coercion every
elementwise op shares (``operands``, ``promote``, ``floating``) is in ``operands.py`` and
re-exported here. Casts and clone are in
``conversion.py``; exp, log, sqrt, trig ... in ``unary.py``; comparisons, logical ops, rounding,
``floor_divide`` and ``remainder`` in ``compare.py``.

Every binary op broadcasts like NumPy; the engine undoes the broadcast in backward. Python scalars do
not change a tensor's dtype; an integer tensor meeting a float is promoted to it (not NumPy's float64).
"""

from __future__ import annotations

import math
from operator import mul as mul_op
from operator import truediv
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.backend import array_module, quietly
from glassgrad.dtypes import scalar_into
from glassgrad.errors import DTypeError
from glassgrad.iterator_layout import preserved_result
from glassgrad.meta_array import MetaArray, same_device
from glassgrad.meta_array import seen as _meta_seen
from glassgrad.ops.bit_select import select, zero_where
from glassgrad.ops.byte_mask import byte_condition
from glassgrad.ops.half_precision import HALF, by_number
from glassgrad.ops.operands import (  # noqa: F401 - re-exported: the ops import them from here
    _CATEGORY,
    _PY_SCALARS,
    as_dtype,
    float_operands,
    floating,
    numpy_number,
    operands,
    promote,
)
from glassgrad.ops.pow_kernel import int_pow, integral, negative_int_power, pow_array
from glassgrad.tensor import Tensor, as_array

__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "maximum", "minimum", "where",
    "operands", "promote", "floating", "float_operands", "as_dtype",
]  # fmt: skip


# (operand coercion: ops/operands.py)
_POW_NODES = (("PowBackward1", "PowBackward0"), ("PowBackward2",) * 2)  # [number base][number exponent]


def _sparse(a: Any, b: Any) -> bool:  # plain tensors answer at the first test (the hot path)
    return (a.__class__ is not Tensor and getattr(a, "is_sparse", False)) or (
        b.__class__ is not Tensor and getattr(b, "is_sparse", False))  # fmt: skip


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
    """z = a / b.   VJP: (g / b, -g * ((a / b) / b)), b's in PyTorch's order (``a / b^2`` was an
    ulp off in a third of the float32/float64 values and up to two in float16)."""

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
        gb = -g * ((a / b) / b) if need[1] else None
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
            # (a number b times float16: in float32, rounded once, as PyTorch's kernel: ``by_number``)
            if b.__class__ in _PY_SCALARS and b >= 1:
                ga = g * by_number(mul_op, pow_array(a, b - 1), b)  # the common x ** 2: no 0 ** negative
            else:
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf, as PyTorch
                    # d/da a^0 = 0 everywhere, also at a = 0 where 0 * 0^-1 would be nan (as PyTorch)
                    ga = xp.where(b == 0, 0.0, g * by_number(mul_op, pow_array(a, b - 1), b))
        if need[1]:
            # at a = 0: 0 where b >= 0 (0 * -inf would be nan), and inf * -inf = -inf where b < 0,
            # as PyTorch
            if a.__class__ in _PY_SCALARS:  # 2 ** x: math.log stays a weak Python float (np.log would
                if a == 0:  # upcast float32); NaN for a NaN b (its z ln 0 is NaN), as PyTorch
                    gb = xp.where(b >= 0, 0.0 * g, xp.where(b < 0, g * -math.inf, g * math.nan))
                else:
                    gb = g * out * (math.log(a) if a > 0 else math.nan)
            else:
                # a float32 base under a float64 exponent: ln a in float64, as PyTorch's backward (it
                # promotes the base first); a Python complex base has no dtype and needs none
                if getattr(a, "dtype", out.dtype) != out.dtype:
                    a = a.astype(out.dtype)
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
        return select(cond, a, b)  # (bit masks: ``bit_select.py``)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved
        need = ctx.needs_input_grad
        return None, (zero_where(~cond, g) if need[1] else None), (zero_where(cond, g) if need[2] else None)


# ------------------------------------------------------------------ tensor-level functions
def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcasting; dense + sparse is dense (SparseTensor's reflected operator)."""
    if _sparse(a, b):
        return a + b  # SparseTensor's reflected operator runs first (it is a Tensor subclass)
    return Add.apply(*operands(a, b, "add"))


def sub(a: Any, b: Any) -> Tensor:
    """a - b, broadcasting; a sparse operand as in ``add``; a bool operand is refused."""
    ca, cb = a.__class__, b.__class__
    if (ca is Tensor or ca is float or ca is int) and (cb is Tensor or cb is float or cb is int):
        # plain tensors and numbers (the common case): identity tests only
        if (ca is Tensor and a._data.dtype is _BOOL) or (cb is Tensor and b._data.dtype is _BOOL):
            refuse_bool_sub(a, b)
    else:
        refuse_bool_sub(a, b)
    if _sparse(a, b):
        return a - b
    return Sub.apply(*operands(a, b, "sub"))


_BOOL = np.dtype(np.bool_)


def refuse_bool_sub(a: Any, b: Any) -> None:
    """PyTorch's check before a subtraction (``sub``, ``-``, ``-=``, ``out=``, ``alpha=``): no
    bool tensor or bool number on either side. The operands' promotion would hide it (bool -
    uint8 ran as uint8 and gave 256 - x)."""
    ba, bb = _is_bool(a), _is_bool(b)
    if ba or bb:
        two, fix = (
            ("two bool tensors", "`^` or `logical_xor()`")
            if ba and bb
            else ("a bool tensor", "`~` or `logical_not()`")
        )
        raise DTypeError(
            f"sub: Subtraction, the `-` operator, with {two} is not supported (got {_operand_name(a)} - "
            f"{_operand_name(b)}). If you are trying to invert a mask, use the {fix} operator instead."
        )


def _is_bool(x: Any) -> bool:
    return x.__class__ is bool or (isinstance(x, Tensor) and x._data.dtype is _BOOL)


def _operand_name(x: Any) -> str:
    return f"{tuple(x.shape)} {x._data.dtype} tensor" if isinstance(x, Tensor) else repr(x)


def mul(a: Any, b: Any) -> Tensor:
    """a * b, broadcasting; a sparse operand gives a sparse product (SparseTensor's operator, as
    ``dense * sparse`` already did: ``torch.mul(dense, sparse)`` and ``dense.mul(sparse)`` raised)."""
    if b.__class__ is Tensor and a.__class__ is Tensor and a._data.dtype is HALF:  # (one test mostly)
        b = _cpu_scalar(a, b)
    elif _sparse(a, b):
        return b * a if getattr(b, "is_sparse", False) else a * b  # the product commutes
    return Mul.apply(*operands(a, b, "mul"))


def div(a: Any, b: Any) -> Tensor:
    """a / b, broadcasting; integer inputs give a float result (true division)."""
    if b.__class__ is Tensor and a.__class__ is Tensor and a._data.dtype is HALF:
        b = _cpu_scalar(a, b)
    return Div.apply(*float_operands(a, b, "div"))


def _cpu_scalar(a: Any, b: Any) -> Any:
    """``b`` (a tensor, ``a`` a float16 tensor) as PyTorch's CPU kernels read a 0-dim second operand of ``mul``/``div``
    (``is_cpu_scalar``: its original value at float32, PyTorch's opmath): a number, when ``a`` is
    a float16 tensor with dims and ``b`` a 0-dim real tensor of another dtype that takes no
    gradient, so ``by_number`` computes in float32 and rounds once. The promotion's cast would
    round ``b`` to float16 first: ``x * tensor(0.37)`` was one ulp off on a quarter of ``x``.
    Otherwise ``b`` itself (a 0-dim first operand is cast, as PyTorch's kernel casts it)."""
    if (
        a._data.ndim
        and b._data.ndim == 0
        and b._data.dtype is not HALF
        and b._data.dtype.kind in "fiu"
        and not (b.requires_grad and _grad_state.enabled)
        and b._data.__class__ is not MetaArray
    ):
        return b._data.item()
    return b


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** b, broadcasting. Integer powers stay integer (no gradient), with PyTorch's rules for
    negative exponents: an error for a scalar one; elementwise 1 ** -n = 1, (-1) ** -n = +-1, else 0."""
    if isinstance(b, np.generic) and b.dtype.kind in "biufc":
        b = numpy_number(b)  # a Python number, so np.int64(-2) is refused as -2 is
    if b.__class__ is int and isinstance(a, Tensor) and a._data.dtype.kind in "biu":
        if b < 0:
            negative_int_power(b)  # before operands wraps it into an unsigned dtype (uint8: -3 is 253)
        elif b > 127 and a._data.dtype.kind != "b":  # (up to 127 fits every integer type)
            # an exponent past the integer type is refused, as PyTorch (operands would wrap it:
            # uint8 ** 300 was uint8 ** 44)
            scalar_into("pow", b, a._data.dtype)
    a, b = operands(a, b, "pow")
    if integral(a) and integral(b):
        return int_pow(a, b)
    return Pow.apply(a, b)


def neg(a: Tensor) -> Tensor:
    return Neg.apply(a)


def maximum(a: Any, b: Any) -> Tensor:
    return Maximum.apply(*operands(a, b, "maximum"))


def minimum(a: Any, b: Any) -> Tensor:
    return Minimum.apply(*operands(a, b, "minimum"))


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
    a, b = operands(input, other, "where")
    if _meta_seen[0]:  # the condition is a raw array here: check its device against the values'
        same_device("where", cond, a, b)
    return Where.apply(cond, a, b)
