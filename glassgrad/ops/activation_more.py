"""Activation primitives that cannot be composed soundly from the others: ``logsigmoid``,
``hardswish``, ``hardsigmoid`` and the sigmoid's inverse ``logit``; and ``softshrink``, fused for
speed (as a composite of clamp, sub and two selects it cost six times PyTorch's time).

The rest of PyTorch's long tail of activations (selu, celu, mish, hardshrink ...) is
built in ``nn/functional/activation_more.py`` from the primitives of ``activation``, ``unary``,
``trig`` and ``elementwise``: those composites are stable and take PyTorch's gradient at the kinks.
``logsigmoid`` is not: ``-softplus(-x)`` switches to the linear branch below x = -20 (an error of
e^x there, and the gradient 1 instead of sigmoid(-x)), and ``log(sigmoid(x))`` gives -inf at x = -1000.
``hardswish`` as ``x * relu6(x + 3) / 6`` gives a NaN gradient at x = +-inf (inf * 0), where
PyTorch's piecewise gradient gives 1 and 0. ``hardsigmoid``'s gradient is PyTorch's 1/6 rounded to
float32 in every dtype (0.16666667163372040 in float64), which no composite reproduces.
``logit`` as ``log(p / (1 - p))`` gives a finite gradient outside [0, 1] (where the value is NaN)
and NaN at 0 and 1; PyTorch's gradient is NaN outside [0, 1] and +-inf at 0 and 1.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.ops.bit_select import zero_where
from glassgrad.ops.elementwise import floating
from glassgrad.ops.operands import float_kernel
from glassgrad.tensor import Tensor

__all__ = ["logsigmoid", "hardsigmoid", "hardswish", "logit", "Softshrink", "softshrink"]


class LogSigmoid(Function):
    """z = log(sigmoid(x)) = min(x, 0) - log(1 + e^-|x|): no overflow, no log(0), at any x
    (logsigmoid(-1000) = -1000, logsigmoid(1000) = 0).

    VJP: g sigmoid(-x) = g / (1 + e) where x < 0, else g e / (1 + e), with e = e^-|x| <= 1 (as
    PyTorch; 1/2 at x = 0).
    """

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        e = xp.exp(-xp.abs(x))  # in (0, 1]: e^x for x < 0, e^-x for x >= 0
        ctx.save_for_backward(x, e)
        return xp.minimum(x, 0) - xp.log1p(e)

    @staticmethod
    def backward(ctx, g):
        x, e = ctx.saved
        xp = array_module(x)
        return g * xp.where(x < 0, 1 / (1 + e), e / (1 + e))


def logsigmoid(x: Tensor) -> Tensor:
    """log(1 / (1 + e^-x)), elementwise and stable at any magnitude.

    Shape:
        Any shape; the output has the input's shape.

    >>> import glassgrad as gg
    >>> logsigmoid(gg.tensor([-1000.0, 0.0, 1000.0])).tolist()
    [-1000.0, -0.6931471824645996, 0.0]
    """
    return LogSigmoid.apply(float_kernel(x, "logsigmoid", "log_sigmoid_cpu"))


class Hardswish(Function):
    """z = x * (clip(x, -3, 3) + 3) / 6: 0 for x <= -3, x for x >= 3 (NaN at -inf, as PyTorch).

    VJP (PyTorch's, piecewise): 0 for x <= -3, g (x / 3 + 1/2) for -3 < x < 3 and for NaN (NaN
    there, PyTorch's vectorised kernel; its scalar loop over a small tensor's tail gives g), g for
    x >= 3 (the one-sided values at the kinks: 0 at -3, 1 at 3).
    """

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        ctx.save_for_backward(x)
        xc = x.astype(xp.float32) if x.dtype == xp.float16 else x  # float16: float32, rounded once
        # clip x, not x + 3: for x one ulp below 3, x + 3 would round to 6; -inf * 0 = nan, as PyTorch
        return quietly(lambda: xc * (xp.clip(xc, -3, 3) + 3) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        xp = array_module(x)
        dtype = g.dtype
        if dtype == xp.float16:  # in float32, rounded once, as PyTorch's Half kernel
            x, g = x.astype(xp.float32), g.astype(xp.float32)
        return xp.where(x <= -3, 0, xp.where(x >= 3, g, g * (x / 3 + 0.5))).astype(dtype, copy=False)


def hardswish(x: Tensor) -> Tensor:
    """x * relu6(x + 3) / 6, elementwise, with PyTorch's gradient at every x (+-inf included).

    Shape:
        Any shape; the output has the input's shape.
    """
    return Hardswish.apply(float_kernel(x, "hardswish", "hardswish_cpu"))


# PyTorch's hardsigmoid backward multiplies by 1/6 held as a float32 constant, also for float64
_ONE_SIXTH_F32 = 0.1666666716337204


class Hardsigmoid(Function):
    """z = (clip(x, -3, 3) + 3) / 6: 0 for x <= -3, 1 for x >= 3, linear between.

    VJP: g * 1/6 (the float32-rounded constant, as PyTorch) strictly inside (-3, 3), 0 elsewhere
    (the kinks included).
    """

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        ctx.save_for_backward(x)
        return (xp.clip(x, -3, 3) + 3) / 6

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        xp = array_module(x)
        inside = (x > -3) & (x < 3)
        if g.dtype == xp.float16:  # multiplied in float32 and rounded once, as PyTorch's Half kernel
            return xp.where(inside, g.astype(xp.float32) * xp.float32(_ONE_SIXTH_F32), 0).astype(g.dtype)
        return xp.where(inside, g * _ONE_SIXTH_F32, 0).astype(g.dtype, copy=False)


def hardsigmoid(x: Tensor) -> Tensor:
    """relu6(x + 3) / 6, elementwise, with PyTorch's gradient (values and kinks).

    Shape:
        Any shape; the output has the input's shape.
    """
    return Hardsigmoid.apply(float_kernel(x, "hardsigmoid", "hardsigmoid_cpu"))


class Logit(Function):
    """z = log(p / (1 - p)), with p = x, or x clamped to [eps, 1 - eps] when ``eps`` is given.

    VJP, as PyTorch's vectorised kernel: g / (x (1 - x)); without ``eps`` NaN where x is outside
    [0, 1] (the value is NaN there), +-inf at 0 and 1 (-inf at -0.0 for g > 0); with ``eps`` 0 where
    x is not in [eps, 1 - eps] (NaN included). PyTorch's scalar loop over a small tensor's tail
    gives +inf at -0.0 and NaN at NaN with ``eps``. A negative ``eps`` counts as none here (PyTorch's
    backward kernel tests ``eps < 0``): NaN outside [0, 1], not 0. Under ``create_graph`` PyTorch
    clamps to [eps, 1 - eps] even for a negative eps; the recorded rule does the same.
    """

    @staticmethod
    def forward(ctx, x, eps=None):
        xp = array_module(x)
        ctx.save_for_backward(x)
        # PyTorch's kernel: eps where x < eps, else 1 - eps where x > 1 - eps. Not clip: for
        # eps > 0.5 every x is one or the other, where clip would give all of them 1 - eps
        p = x if eps is None else xp.where(x < eps, eps, xp.where(x > 1 - eps, 1 - eps, x)).astype(x.dtype)
        return quietly(lambda: xp.log(p / (1 - p)))  # +-inf at 0 and 1, without NumPy's warning

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        xp = array_module(x)
        eps = ctx.attrs.get("eps")
        if eps is not None and eps >= 0:
            return quietly(lambda: xp.where((x >= eps) & (x <= 1 - eps), g / (x * (1 - x)), 0))
        return quietly(lambda: xp.where((x < 0) | (x > 1), xp.nan, g / (x * (1 - x))))


def logit(input: Tensor, eps: float | None = None) -> Tensor:  # noqa: A002 - PyTorch's names
    """log(p / (1 - p)), with p = input clamped to [eps, 1 - eps] when ``eps`` is given.

    Shape:
        Any shape; the output has the input's shape.

    >>> import glassgrad as gg
    >>> logit(gg.tensor([0.5, 0.0, 1.0, 0.9]), eps=0.1).tolist()
    [0.0, -2.1972246170043945, 2.1972243785858154, 2.1972243785858154]
    """
    return Logit.apply(floating(input), eps=eps)


def _shrink_bound(x: Any, lambd: float, forward: bool) -> Any:
    """``lambd`` as PyTorch's softshrink kernels read it: in x's dtype, but float32 in the forward
    of a float16 x (its Half forward computes in float32 with lambd unrounded; its backward
    compares in float16, so that x = float16(0.3) = 0.30005 gives 5e-5 with a gradient of 0)."""
    xp = array_module(x)
    return (xp.float32 if forward and x.dtype == xp.float16 else x.dtype.type)(lambd)


class Softshrink(Function):
    """z = x - clamp(x, -lambd, lambd): x - lambd above lambd, x + lambd below -lambd, +0 between,
    NaN at NaN (PyTorch's vectorised kernel; float16 computed in float32, rounded once).

    VJP: g where x < -lambd or x > lambd, else 0 (the bounds and NaN included; a select, so an
    inf or NaN g gives 0 there, as PyTorch's vectorised backward); lambd in x's dtype, float16 too.
    """

    @staticmethod
    def forward(ctx, x, lambd=0.5):
        xp = array_module(x)
        ctx.save_for_backward(x)
        lam = _shrink_bound(x, lambd, True)  # (finite: F.softshrink refuses one past the dtype's range)
        return (x - xp.clip(x, -lam, lam)).astype(x.dtype, copy=False)  # (float16: in float32)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        lam = _shrink_bound(x, ctx.attrs.get("lambd", 0.5), False)
        return zero_where(~((x < -lam) | (x > lam)), g)


def softshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """Fused softshrink (no validation; see ``F.softshrink``); ``lambd`` >= 0.

    Shape:
        Any shape; the output has the input's shape.
    """
    return Softshrink.apply(x, lambd=float(lambd))
