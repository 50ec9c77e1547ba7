"""Activation primitives that cannot be composed soundly from the others: ``logsigmoid``.

The rest of PyTorch's long tail of activations (selu, celu, mish, hardswish, softshrink ...) is
built in ``nn/functional/activation_more.py`` from the primitives of ``activation``, ``unary``,
``trig`` and ``elementwise``: those composites are stable and take PyTorch's gradient at the kinks.
``logsigmoid`` is not: ``-softplus(-x)`` switches to the linear branch below x = -20 (an error of
e^x there, and the gradient 1 instead of sigmoid(-x)), and ``log(sigmoid(x))`` gives -inf at x = -1000.
"""

from __future__ import annotations

from glassgrad.autograd.function import Function
from glassgrad.backend import array_module
from glassgrad.ops.elementwise import floating
from glassgrad.tensor import Tensor

__all__ = ["logsigmoid"]


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
    return LogSigmoid.apply(floating(x))
