"""More two-input elementwise math, as PyTorch has it: copysign, fmax/fmin, fmod, hypot, logaddexp/
logaddexp2, xlogy, float_power (``float_power.py``, re-exported), nextafter (gradient g to input, as
PyTorch's) and the bit shifts.
The one-input functions (asinh ..., sinc, frac, trunc, the special functions): ``unary_more.py``.

Dtypes follow PyTorch: integer inputs of copysign and xlogy are promoted to the default float
dtype; hypot, logaddexp(2) and nextafter refuse integers, as PyTorch does; fmax/fmin and fmod keep
integers (fmod by an integer 0 raises ``ZeroDivisionError``, as ``remainder``); float_power
computes in float64 (complex128 with a complex operand). Where PyTorch takes only Tensors (hypot,
fmax ...), a Python number is a ``TypeError`` here too. Gradients are PyTorch's, also at its special points (each VJP below says
what it gives there).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, ClassVar

from glassgrad.autograd.complex_gate import refuse_unordered
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.errors import IntegerDivisionError, KernelDTypeError, ShapeError, size_mismatch
from glassgrad.meta_array import same_device, valued
from glassgrad.meta_array import seen as _meta_seen
from glassgrad.ops.elementwise import operands
from glassgrad.ops.float_power import float_power  # (their own file: re-exported)
from glassgrad.ops.operands import promoted_floats as _promoted_operands
from glassgrad.ops.zero_slope import FlatPair
from glassgrad.tensor import Tensor

__all__ = [
    "copysign", "fmax", "fmin", "fmod", "hypot", "logaddexp", "logaddexp2", "xlogy", "float_power",
    "nextafter", "bitwise_left_shift", "bitwise_right_shift",
]  # fmt: skip


# ------------------------------------------------------------------ binary primitives
class Copysign(Function):
    """z = |a| with b's sign.   VJP: (g z / a, taken as 0 where a == 0; 0 for b), as PyTorch, whose
    node saves a and z only when a wants a gradient (so a b.zero_() before backward is fine)."""

    @staticmethod
    def forward(ctx, a, b):
        out = array_module(a).copysign(a, b)
        ctx.save_for_backward(*((a, out) if ctx.needs_input_grad[0] else (None, None)))
        return out

    @staticmethod
    def backward(ctx, g):
        (a, out), xp = ctx.saved, array_module(g)
        gb = xp.zeros_like(g) if ctx.needs_input_grad[1] else None
        if a is None:
            return None, gb
        ratio = xp.where(a == 0, 0.0, quietly(xp.divide, out, xp.where(a == 0, 1.0, a)))
        return g * ratio.astype(g.dtype, copy=False), gb


class _NanIgnoring(Function):
    """fmax/fmin: NumPy's function of the class's name (``xp.fmax``, ``xp.fmin``), which ignores a
    NaN operand.   VJP: g to a where ``keeps_a(a, b)`` or b is NaN, else to b: a tie goes wholly
    to a, as PyTorch (``maximum``'s ``_pick`` does not serve here: it splits a tie and gives g to
    both where either is NaN)."""

    register = False
    keeps_a: ClassVar[Callable]  # operator.ge for fmax, le for fmin

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return getattr(array_module(a), cls.name)(a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved
        xp = array_module(a)
        to_a = cls.keeps_a(a, b) | xp.isnan(b)
        return xp.where(to_a, g, 0), xp.where(to_a, 0, g)  # selected: a NaN in g stays on its side


class Fmax(_NanIgnoring):
    """z = max(a, b), ignoring a NaN operand.   VJP: g to a where a >= b or b is NaN, else to b
    (a tie goes wholly to a, as PyTorch)."""

    keeps_a = staticmethod(operator.ge)


class Fmin(_NanIgnoring):
    """z = min(a, b), ignoring a NaN operand.   VJP: g to a where a <= b or b is NaN, else to b."""

    keeps_a = staticmethod(operator.le)


def remainder_array(xp: Any, a: Any, b: Any) -> Any:
    """a mod b with b's sign, as PyTorch's kernel: fmod(a, b), plus b where that is non-zero and
    of the other sign. NumPy's ``remainder`` is the same but for a zero result, which it signs
    as b (Python's ``%``) where PyTorch keeps fmod's, a's: remainder(3., -1.5) is 0., not -0."""
    out = xp.remainder(a, b)
    if out.dtype.kind == "f" and valued(out) and (zero := out == 0).any():
        # (astype: copysign by an integer a would widen a float32 out to float64)
        out = xp.where(zero, xp.copysign(out, a), out).astype(out.dtype, copy=False)
    return out


def modulo_forward(ctx, name: str, a: Any, b: Any) -> Any:
    """a - q(a / b) b by NumPy's ``name`` (``fmod``, ``remainder``), saving what b's gradient needs."""
    if ctx.needs_input_grad[1]:  # a's gradient is g alone
        ctx.save_for_backward(a, b)
    xp = array_module(a)
    if name == "remainder":
        return quietly(remainder_array, xp, a, b)  # x mod 0 = nan, as PyTorch
    return quietly(xp.fmod, a, b)


def modulo_backward(ctx, g: Any, rounding: str) -> tuple:
    """(g, -g q(a, b)) with q PyTorch's ``div(a, b, rounding_mode=)``: ``trunc`` (a / b) for fmod,
    ``floor`` for remainder, which is ``floor_divide`` (1 // -inf = -1, as Python's and PyTorch's,
    where floor(1 / -inf) would be -0)."""
    if not ctx.needs_input_grad[1]:
        return g, None
    a, b = ctx.saved
    xp = array_module(a)
    if rounding == "floor":
        return g, -g * quietly(xp.floor_divide, a, b)
    return g, -g * quietly(lambda: getattr(xp, rounding)(a / b))


class Fmod(Function):
    """z = a - trunc(a / b) b, with a's sign (C's fmod).   VJP: (g, -g trunc(a / b)); -inf for b at b = 0."""

    @staticmethod
    def forward(ctx, a, b):
        return modulo_forward(ctx, "fmod", a, b)

    @staticmethod
    def backward(ctx, g):
        return modulo_backward(ctx, g, "trunc")


class Hypot(Function):
    """z = sqrt(a^2 + b^2) without overflow.   VJP: (g a / z, g b / z); NaN at the origin, as PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        out, need = array_module(a).hypot(a, b), ctx.needs_input_grad  # (operands: as PyTorch's node)
        ctx.save_for_backward(a if need[0] else None, b if need[1] else None, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved
        xp = array_module(out)
        return tuple(None if x is None else quietly(xp.divide, g * x, out) for x in (a, b))


class _LogAddExp(Function):
    """logaddexp in base e or 2: forward is NumPy's function of the class's name (``xp.logaddexp``,
    ``xp.logaddexp2``); ``power`` names the matching exponential (``exp``, ``exp2``).
    VJP: (g / (1 + power(b-a)), g / (1 + power(a-b)))."""

    register = False
    power: ClassVar[str]

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return quietly(getattr(array_module(a), cls.name), a, b)  # NaN in, NaN out, without a warning

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved
        power = getattr(array_module(a), cls.power)
        return quietly(lambda: (g / (1 + power(b - a)), g / (1 + power(a - b))))


class Logaddexp(_LogAddExp):
    """z = ln(e^a + e^b).   VJP: (g / (1 + e^(b-a)), g / (1 + e^(a-b))); NaN where a = b = +-inf."""

    power = "exp"


class Logaddexp2(_LogAddExp):
    """z = log2(2^a + 2^b).   VJP: (g / (1 + 2^(b-a)), g / (1 + 2^(a-b)))."""

    power = "exp2"


def _xlogy(xp, a, b, shift=0):
    """a ln(b + shift), 0 where a == 0 unless b is NaN (PyTorch's xlogy; xlog1py with shift 1)."""
    log = xp.log1p(b) if shift else xp.log(b)
    return xp.where(xp.isnan(b), xp.nan, xp.where(a == 0, 0.0, a * log))


class Xlogy(Function):
    """z = a ln b, 0 where a == 0 (NaN if b is).   VJP: (xlogy(g, b), taken as 0 where a == 0 and
    b <= 0; g a / b), as PyTorch: so NaN for b at a = b = 0.

    ``shift`` 1 makes it xlog1py, a ln(1 + b) (``ops/special_more.py``): the same with 1 + b."""

    shift = 0

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        xp = array_module(a)
        return quietly(_xlogy, xp, a, b, cls.shift).astype(xp.result_type(a, b), copy=False)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved
        xp = array_module(a)
        need = ctx.needs_input_grad
        ga = gb = None
        if need[0]:
            edge = (a == 0) & (b <= -cls.shift)
            ga = xp.where(edge, 0.0, quietly(_xlogy, xp, g, b, cls.shift)).astype(g.dtype, copy=False)
        if need[1]:
            gb = quietly(xp.divide, g * a, b + cls.shift if cls.shift else b)
        return ga, gb


# ------------------------------------------------------------------ operand checks
def _tensor_only(name: str, **args: Any) -> None:
    """PyTorch takes only Tensors for these arguments (a Python number is its TypeError too)."""
    for arg, x in args.items():
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a Tensor for {arg}, got {type(x).__name__}")


def _dtype_of(x: Any) -> Any:
    return x.dtype if isinstance(x, Tensor) else type(x).__name__


def _float_operands(name: str, a: Any, b: Any, kinds: str = "f") -> tuple[Any, Any]:
    """Operands that must meet in a floating dtype (hypot, logaddexp, nextafter: no integer kernel;
    ``kinds="fc"``: complex too)."""
    a, b = operands(a, b, name)
    for x in (a, b):
        if isinstance(x, Tensor) and x._data.dtype.kind not in kinds:
            raise KernelDTypeError(
                f"{name}: expected floating point tensors, got {_dtype_of(a)} and {_dtype_of(b)}"
            )
    return a, b


def _broadcastable(name: str, x: Any, y: Any) -> None:
    """Shapes (and devices) check for the ops that are not a ``Function`` (``apply`` does both there)."""
    if _meta_seen[0]:
        same_device(name, x, y)
    xp = array_module(x, y)
    try:
        xp.broadcast_shapes(xp.shape(x), xp.shape(y))
    except ValueError:
        shapes = (tuple(xp.shape(x)), tuple(xp.shape(y)))
        raise ShapeError(
            f"{name}: expected broadcastable shapes, got {shapes[0]} and {shapes[1]}{size_mismatch(shapes)}"
        ) from None


# ------------------------------------------------------------------ tensor-level functions
def copysign(input: Tensor, other: Any) -> Tensor:  # noqa: A002 - PyTorch's names
    """|input| with the sign of ``other`` (a tensor or a number), elementwise; always floating."""
    _tensor_only("copysign", input=input)
    return Copysign.apply(*_promoted_operands(input, other, "copysign"))


def fmax(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Elementwise maximum that ignores NaN (NaN only where both are); integers stay integers."""
    _tensor_only("fmax", input=input, other=other)
    return Fmax.apply(*operands(input, other, "fmax"))


def fmin(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Elementwise minimum that ignores NaN (NaN only where both are); integers stay integers."""
    _tensor_only("fmin", input=input, other=other)
    return Fmin.apply(*operands(input, other, "fmin"))


def fmod(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """C's remainder, with the dividend's sign (``remainder`` takes the divisor's). An integer
    divisor holding 0 raises ``ZeroDivisionError``; a float one gives NaN."""
    _tensor_only("fmod", input=input)
    a, b = operands(input, other, "fmod")
    if a._data.dtype.kind == "f":
        return Fmod.apply(a, b)
    y = b._data if isinstance(b, Tensor) else b
    refuse_unordered("fmod", a, y)  # (NumPy's own TypeError would not name the op)
    b_bool = y.dtype.kind == "b" if isinstance(b, Tensor) else isinstance(b, bool)
    if a._data.dtype.kind == "b" and b_bool:  # (a bool beside an integer computes in the integer's dtype)
        raise KernelDTypeError(  # (PyTorch's "fmod_cpu" has no Bool kernel)
            f"fmod: expected integer or floating point operands, got {_dtype_of(a)} and {_dtype_of(b)}"
        )
    xp = array_module(a._data)
    _broadcastable("fmod", a._data, y)
    if valued(a._data) and valued(y) and bool(xp.any(xp.asarray(y) == 0)):  # meta: no values to check
        raise IntegerDivisionError("fmod: expected a non-zero integer divisor, got a divisor holding 0")
    return Tensor(xp.asarray(xp.fmod(a._data, y)), _wrap=True)


def hypot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """sqrt(input^2 + other^2), elementwise, without overflow; floating tensors only."""
    _tensor_only("hypot", input=input, other=other)
    return Hypot.apply(*_float_operands("hypot", input, other))


def logaddexp(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """ln(e^input + e^other), elementwise, without overflow; floating or complex tensors."""
    _tensor_only("logaddexp", input=input, other=other)
    return Logaddexp.apply(*_float_operands("logaddexp", input, other, "fc"))  # (complex: its twin)


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """log2(2^input + 2^other), elementwise; floating tensors only."""
    _tensor_only("logaddexp2", input=input, other=other)
    return Logaddexp2.apply(*_float_operands("logaddexp2", input, other))


def xlogy(input: Any, other: Any) -> Tensor:  # noqa: A002
    """input * ln(other), 0 where input == 0 (NaN where other is NaN); either may be a number."""
    return Xlogy.apply(*_promoted_operands(input, other, "xlogy"))


def nextafter(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The next float after input toward other, elementwise; floating tensors only (VJP: g, 0)."""
    _tensor_only("nextafter", input=input, other=other)
    a, b = _float_operands("nextafter", input, other)
    _broadcastable("nextafter", a._data, b._data)
    return FlatPair.apply(a, b, op="nextafter")  # NextafterBackward0 when recorded; PyTorch's strides


def _kind(t: Any) -> str:
    """A shift operand's kind: its array's, else a number's (a Python bool is "b")."""
    if isinstance(t, Tensor):
        return t._data.dtype.kind
    return "b" if isinstance(t, bool) else "f" if isinstance(t, float | complex) else "i"


def _shift(name: str, left: bool):
    def op(input: Any, other: Any) -> Tensor:  # noqa: A002
        a, b = operands(input, other, name)
        kinds = [_kind(t) for t in (a, b)]
        # one side may be bool (a bool tensor beside an int shifts as int64), not both: no bool kernel
        if kinds[0] not in "iub" or kinds[1] not in "iub" or kinds == ["b", "b"]:
            raise KernelDTypeError(
                f"{name}: expected integer operands, got {_dtype_of(a)} and {_dtype_of(b)}"
            )
        x = a._data if isinstance(a, Tensor) else int(a)
        s = b._data if isinstance(b, Tensor) else int(b)
        xp = array_module(x, s)
        _broadcastable(name, x, s)
        bits = 8 * xp.result_type(x, s).itemsize
        # PyTorch: a shift by a negative count or by the width or more gives 0 (left) or the sign (right)
        fill = 0 if left else xp.where(xp.asarray(x) < 0, -1, 0)
        shift = xp.left_shift if left else xp.right_shift
        if isinstance(b, Tensor):
            out = xp.where((s < 0) | (s >= bits), fill, shift(x, xp.clip(s, 0, bits - 1).astype(s.dtype)))
        elif 0 <= s < bits:
            out = shift(x, s)
        else:
            out = xp.broadcast_to(fill, xp.shape(x))
        return Tensor(xp.asarray(out, dtype=xp.result_type(x, s)).copy(), _wrap=True)

    op.__name__ = name
    op.__doc__ = f"``{'<<' if left else '>>'}`` of integer tensors (or numbers), elementwise; no gradient."
    return op


bitwise_left_shift = _shift("bitwise_left_shift", left=True)
bitwise_right_shift = _shift("bitwise_right_shift", left=False)
