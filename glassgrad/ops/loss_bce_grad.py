"""Binary cross-entropy's input gradient as an op of its own, for ``create_graph=True``.

PyTorch's ``binary_cross_entropy_backward`` is a node with a double backward written by hand
(``binary_cross_entropy_double_backward`` and its ``_target`` and ``_grad_output`` twins): it does
not differentiate the clamped first derivative ``(p - y) / max(p (1 - p), 1e-12)`` but biases the
denominators by eps = 1e-12 instead. So at a saturated p (exactly 0 or 1, with y = p) the second
derivative is 0 where the exact derivative of the clamped formula is about 1e12, and elsewhere the
two differ by about 1e-10 relative. This op gives the first derivative (the loss's own backward,
the same roundings) and those formulas as its VJP; its recorded rule
(``autograd/recorded_rules_nn2.py``) writes them on Tensors, for a third derivative.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive
from glassgrad.backend import array_module

__all__ = ["BinaryCrossEntropyBackward", "bce_input_grad", "bce_backward", "BCE_DOUBLE_EPS"]

# PyTorch's first derivative clamps at the float32 constant 1e-12 (9.99999996e-13 in float64); its
# double backward adds and clamps at the double 1e-12
BCE_DOUBLE_EPS = 1e-12
_BCE_EPS = float(np.float32(1e-12))


def bce_input_grad(g: Any, p: Any, y: Any, weight: Any, reduction: str, count: int) -> Any:
    """d loss / d p times g: w (p - y) / max(p (1 - p), 1e-12) g, over count for 'mean'.

    Shape: p, y: (*); g: () or (*) ('none'); weight broadcasts to (*); returns (*)."""
    xp = array_module(p)
    if reduction == "mean":
        g = g / count if count != 0 else g * xp.nan
    if weight is not None:
        g = g * weight
    return g * (p - y) / xp.maximum(p * (1 - p), _BCE_EPS)


class BinaryCrossEntropyBackward(Primitive):
    """z = ``bce_input_grad(g, p, y, weight)`` (the first derivative of BCE w.r.t. p).

    VJP (PyTorch's, eps = 1e-12, G the incoming gradient, w the weight, n the 'mean' count):
        dp = (p^2 - 2 p y + y) / ((p + eps)^2 (1 - p + eps)^2) G g w / n
        dy = -G g w / max(p (1 - p), eps) / n
        dg = (p - y) / ((p + eps) (1 - p + eps)) G w, summed (and / n) for 'mean' and 'sum'.
    ``weight`` gets no gradient.
    """

    name = "binary_cross_entropy_backward"
    node_name = "BinaryCrossEntropyBackwardBackward0"  # PyTorch's node name
    register = False

    @staticmethod
    def forward(ctx, g, p, y, weight, reduction="mean", count=1):
        ctx.save_for_backward(g, p, y, weight)
        return bce_input_grad(g, p, y, weight, reduction, count)

    @staticmethod
    def backward(ctx, gz):
        g, p, y, weight = ctx.saved
        reduction, count = ctx.attrs["reduction"], ctx.attrs["count"]
        need = ctx.needs_input_grad
        xp = array_module(p)
        mean = reduction == "mean"
        dg = dp = dy = None
        if need[0]:
            dg = (p - y) / ((p + BCE_DOUBLE_EPS) * (1 - p + BCE_DOUBLE_EPS)) * gz
            if weight is not None:
                dg = dg * weight
            if reduction != "none":
                dg = dg.sum()
                dg = dg / count if mean else dg
        gzg = gz * g  # PyTorch's order: (G g) times the formula, then w, then / n
        if need[1]:
            num = p * p - 2 * p * y + y
            dp = num / ((p + BCE_DOUBLE_EPS) ** 2 * (1 - p + BCE_DOUBLE_EPS) ** 2) * gzg
            if weight is not None:
                dp = dp * weight
            dp = dp / count if mean else dp
        if need[2]:
            dy = -gzg if weight is None else -gzg * weight
            dy = dy / xp.maximum((1 - p) * p, BCE_DOUBLE_EPS)
            dy = dy / count if mean else dy
        return dg, dp, dy, None


def bce_backward(g: Any, p: Any, y: Any, weight: Any, reduction: str, count: int) -> Any:
    """BCE's recorded input gradient: a ``BinaryCrossEntropyBackward`` node on Tensors g, p, y
    (weight an array or None)."""
    return BinaryCrossEntropyBackward.apply(g, p, y, weight, reduction=reduction, count=count)
