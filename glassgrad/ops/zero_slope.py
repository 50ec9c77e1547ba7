"""The step functions' node: ``floor``, ``ceil``, ``round``, ``trunc`` and ``sign`` of a tensor that
requires grad are recorded, with a gradient of zero, as PyTorch records them (``FloorBackward0``,
``RoundBackward0`` ...). So ``round(x).sum().backward()`` gives ``x.grad`` zeros instead of an
error, ``y.requires_grad`` reads as in PyTorch, and a trace shows the step with its local slope 0:
a step function is flat wherever it has a derivative.

Only a floating tensor that requires grad, with grad mode on, or one that carries a forward-mode
tangent (whose output's tangent is then 0, as PyTorch's) takes this path (``compare.py``,
``unary_more.trunc``); anything else is computed without a node. ``step_value`` is the arrays'
computation both paths share.

Two operands (``FlatPair``, ``NoDerivativePair``): ``div(rounding_mode="floor"/"trunc")`` records
zeros (``DivBackward2``), ``nextafter`` passes g to its input (``NextafterBackward0``), and float
``floor_divide`` records a node whose backward raises (``NotImplemented``), as PyTorch's.

``Compared``: the in-place comparisons (``y.eq_(t)``) of a tensor in the graph, which PyTorch
records with zero gradients though the out-of-place ones (bool results) record nothing.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.forward_ad import is_dual
from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.backend import array_module, quietly
from glassgrad.errors import GraphError
from glassgrad.ops.operands import operands
from glassgrad.tensor import Tensor

__all__ = [
    "ZeroSlope", "recorded_step", "step_value", "FlatPair", "NoDerivativePair", "recorded_pair", "Compared",
    "recorded_comparison",
]  # fmt: skip

_NAMES = {"floor": "Floor", "ceil": "Ceil", "round": "Round", "trunc": "Trunc", "sign": "Sign", "sgn": "Sgn"}


def _rounded(x: Any, decimals: int) -> Any:
    """Round half to even at ``decimals`` places, as PyTorch: rint(x * 10^d) / 10^d, or
    rint(x / 10^-d) * 10^-d, in x's dtype (float16 computed in float32)."""
    xp = array_module(x)
    if decimals == 0:
        return xp.rint(x)
    y = x.astype(xp.float32) if x.dtype.itemsize < 4 else x
    # quietly: 10^d past the dtype's range is inf (and a result nan), as PyTorch
    ten = quietly(y.dtype.type, 10.0 ** abs(decimals) if abs(decimals) < 309 else float("inf"))
    out = quietly(lambda: xp.rint(y * ten) / ten if decimals > 0 else xp.rint(y / ten) * ten)
    return quietly(xp.asarray(out).astype, x.dtype)


def step_value(x: Any, op: str, decimals: int = 0) -> Any:
    """The step function ``op`` of the floating array ``x`` (sign(nan) is 0, as PyTorch's)."""
    xp = array_module(x)
    if op == "round":
        return xp.asarray(_rounded(x, decimals))
    if op in ("sign", "sgn"):  # sgn: a real tensor's, named as PyTorch names it
        out = xp.asarray(xp.sign(x))
        out[out != out] = 0
        return out
    return xp.asarray(getattr(xp, op)(x))


class ZeroSlope(Function):
    """z = op(a) for a step function ``op`` (floor, ceil, round, trunc, sign).   VJP: 0.

    ``op`` names the node (``FloorBackward0``; ``RoundBackward1`` with decimals, as PyTorch).
    """

    name = "zero_slope"
    node_name_by = staticmethod(
        lambda attrs: f"{_NAMES.get(attrs.get('op'), 'Zero')}Backward{1 if attrs.get('decimals') else 0}"
    )

    @staticmethod
    def forward(ctx, a, op="floor", decimals=0):
        return step_value(a, op, decimals)

    @staticmethod
    def backward(ctx, g):
        return array_module(g).zeros_like(g)


def recorded_step(a: Tensor, op: str, decimals: int = 0) -> Tensor | None:
    """``op(a)`` recorded after ``a`` when ``a`` is a floating tensor that requires grad and grad
    mode is on, or carries a tangent (its output's tangent is 0, as PyTorch's, not absent); None
    otherwise (the caller computes it without a node)."""
    if not ((a.requires_grad and is_grad_enabled()) or is_dual(a)) or a._data.dtype.kind != "f":
        return None
    return ZeroSlope.apply(a, op=op, decimals=decimals)


# ------------------------------------------------------------------ two operands
#: ``FlatPair``'s computations, by its ``op`` attribute (floating arrays only).
_PAIRS = {
    "floor": lambda xp, a, b: xp.floor_divide(a, b),  # 1 // -inf = -1, as PyTorch's (floor(-0.0) is -0)
    "trunc": lambda xp, a, b: xp.trunc(xp.true_divide(a, b)),
    "nextafter": lambda xp, a, b: _nextafter(xp, a, b),
    "floor_divide": lambda xp, a, b: xp.floor_divide(a, b),
}


def _nextafter(xp, a, b):
    """C's nextafter: ``b`` itself where ``a == b`` (so nextafter(0., -0.) is -0.). NumPy's float16
    kernel returns ``a`` there, the sign of a zero lost; float32/64 are C's own."""
    z = xp.nextafter(a, b)
    if z.dtype.itemsize == 2:
        z = xp.where(xp.equal(a, b), xp.broadcast_to(b, z.shape).astype(z.dtype), z)
    return z


_PAIR_NODES = {"floor": "DivBackward2", "trunc": "DivBackward2", "nextafter": "NextafterBackward0"}


class FlatPair(Function):
    """z = op(a, b) for a function of two floats flat in b (and in a, but nextafter's a):
    ``div(a, b, rounding_mode="floor"/"trunc")`` (``DivBackward2``) and ``nextafter``
    (``NextafterBackward0``).   VJP: zeros; nextafter's a gets g where a != b (one ulp's move),
    0 where it returns b, as PyTorch's formulas."""

    name = "flat_pair"
    node_name_by = staticmethod(lambda attrs: _PAIR_NODES[attrs.get("op", "floor")])

    @staticmethod
    def forward(ctx, a, b, op="floor"):
        if op == "nextafter" and ctx.needs_input_grad[0]:
            ctx.save_for_backward(a, b)
        return array_module(a, b).asarray(quietly(_PAIRS[op], array_module(a, b), a, b))

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        xp = array_module(g)
        ga = None
        if need[0]:
            ga = xp.where(xp.not_equal(*ctx.saved), g, 0) if ctx.saved else xp.zeros_like(g)
        return ga, xp.zeros_like(g) if need[1] else None


class NoDerivativePair(Function):
    """z = op(a, b) for a function of two floats that PyTorch records with no derivative
    (``floor_divide``: its ``NotImplemented`` node): backward through it raises."""

    name = "floor_divide"
    node_name = "NotImplemented"
    register = False

    @staticmethod
    def forward(ctx, a, b, op="floor_divide"):
        return array_module(a, b).asarray(quietly(_PAIRS[op], array_module(a, b), a, b))

    @staticmethod
    def backward(ctx, g):
        raise GraphError(f"the derivative for {ctx.attrs.get('op', 'floor_divide')} is not implemented")


def recorded_pair(cls: type, a: Any, b: Any, op: str) -> Tensor | None:
    """``cls.apply(a, b, op=op)`` when a floating operand requires grad (grad mode on) or carries a
    tangent; None otherwise (the caller computes without a node). ``a``, ``b``: coerced operands."""
    for t in (a, b):
        if isinstance(t, Tensor):
            if t._data.dtype.kind == "f" and ((t.requires_grad and is_grad_enabled()) or is_dual(t)):
                return cls.apply(a, b, op=op)
    return None


# ------------------------------------------------------------------ in-place comparisons
#: NumPy's function for each comparison, by PyTorch's name
_COMPARED = {
    "eq": "equal",
    "ne": "not_equal",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
}


class Compared(Function):
    """z = (a op b) as 0 / 1 in a's dtype (a: the tensor compared in place, after promotion).
    VJP: zeros for both. PyTorch names the node ``EqBackward0`` for a number operand, ``EqBackward1``
    for a tensor (``form``)."""

    name = "compared"
    complex_ok = True  # eq_/ne_ of complex tensors: their gradient is zero too
    node_name_by = staticmethod(
        lambda attrs: f"{attrs.get('op', 'eq').capitalize()}Backward{attrs.get('form', 1)}"
    )

    @staticmethod
    def forward(ctx, a, b, op="eq", form=1):
        xp = array_module(a, b)
        return xp.asarray(getattr(xp, _COMPARED[op])(a, b)).astype(a.dtype)

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        xp = array_module(g)
        return (xp.zeros_like(g) if need[0] else None), (xp.zeros_like(g) if need[1] else None)


def recorded_comparison(a: Tensor, b: Any, op: str) -> Tensor | None:
    """``op`` (eq, ne, lt, le, gt, ge) of ``a`` and ``b`` recorded as ``Compared``, for ``a.eq_(b)``
    ..., when grad mode is on, ``a`` is floating (or complex) and an operand requires grad: PyTorch
    keeps ``a`` in the graph (``y = x * 2; y.eq_(t)``: ``x.grad`` zeros, not an error). None
    otherwise: the caller compares without a node."""
    if not is_grad_enabled() or a._data.dtype.kind not in "fc":
        return None  # (an integer tensor cannot hold a gradient)
    if not (a.requires_grad or (isinstance(b, Tensor) and b.requires_grad)):
        return None
    x, y = operands(a, b, op)
    if x._data.dtype.kind == "c" and op not in ("eq", "ne"):
        return None  # the plain comparison refuses unordered operands, naming the op
    return Compared.apply(x, y, op=op, form=1 if isinstance(b, Tensor) else 0)
