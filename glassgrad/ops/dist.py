# ruff: noqa: A002 - PyTorch's parameter names (input) are the API
"""``torch.dist``: the p-norm of the broadcast difference of two tensors, one primitive, as
PyTorch's ``DistBackward0``, not ``norm(input - other)``.

PyTorch's node saves ``self``, ``other`` and the result and recomputes the difference in backward,
so a write into either input between forward and backward is caught there; the composite saved
the difference, and such a write ran on. The VJP is PyTorch's ``norm_backward`` of that difference
term by term (the same roundings, and under ``create_graph`` the same second derivatives, NaN
where PyTorch's masked division gives 0 / 0: ``recorded_rules_math2.py``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.shapes import broadcast_shape
from glassgrad.backend import array_module, c_layout
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.operand_errors import number_arg
from glassgrad.ops import statistics
from glassgrad.ops.elementwise import refuse_bool_sub
from glassgrad.ops.statistics import vector_norm_array
from glassgrad.tensor import Tensor
from glassgrad.type_promotion import result_type_of

__all__ = ["Dist", "dist", "norm_backward_array"]


def _difference(x: Any, y: Any, dtype: Any) -> Any:
    """x - y in ``dtype`` (PyTorch's promotion of the two, given when they differ)."""
    if dtype is not None:
        x, y = x.astype(dtype, copy=False), y.astype(dtype, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: NaN, as PyTorch
        return x - y


def norm_backward_array(g: Any, d: Any, z: Any, p: float) -> Any:
    """PyTorch's ``norm_backward(grad, self, p, norm)`` over every element of ``d`` (``z`` its
    p-norm, ``g`` the 0-d gradient): p = 1: sgn(d) g; p = 2: g (d / z), 0 where z = 0; +-inf:
    sgn(d) (g / count) on the extremes (and NaNs); p < 1: sgn(d) |d|^(p-1) (0 where d = 0) g z^(1-p);
    p < 2: sgn(d) |d|^(p-1) (g / z^(p-1)); else d |d|^(p-2) (g / z^(p-1)), 0 where z = 0.
    sgn(NaN) = 0, as PyTorch's. Shape: ``d``'s."""
    xp = array_module(d)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if p == 2:
            return g * xp.where(z == 0, 0, d / z)
        sgn = xp.where(xp.isnan(d), 0, xp.sign(d))
        if p == 1:
            return sgn * g
        ad = xp.abs(d)
        if p in (math.inf, -math.inf):
            mask = (ad == z) | xp.isnan(ad)
            return sgn * ((g / mask.sum(dtype=d.dtype)) * mask)
        if p < 1:
            return sgn * xp.where(d == 0, 0, ad ** (p - 1)) * g * z ** (1 - p)
        scale = xp.where(z == 0, 0, g / z ** (p - 1))
        return (sgn * ad ** (p - 1) if p < 2 else d * ad ** (p - 2)) * scale


class Dist(Function):
    """z = ||x - y||_p over every element of the broadcast difference (0-d; p = 0 counts the
    non-zeros, +-inf takes the largest / smallest |x - y|).   VJP: ``norm_backward_array`` of
    d = x - y to x, minus it to y (unbroadcast by the engine); none for p = 0, as PyTorch's.

    ``dtype``: the promoted dtype when the inputs' differ. float16 is measured in float32 and
    rounded once, as ``Norm``; its VJP rounds at each step, as PyTorch's op-by-op formula."""

    node_name = "DistBackward0"

    @staticmethod
    def forward(ctx, x, y, p=2.0, dtype=None):
        xp = array_module(x)
        d = _difference(x, y, dtype)
        w = d.astype(xp.float32) if d.dtype == xp.float16 else d
        out = c_layout(xp.asarray(vector_norm_array(w, p, None, False)).astype(d.dtype, copy=False))
        ctx.save_for_backward(x, y, out)  # the inputs, not d: a write into either is then caught
        return out

    @staticmethod
    def backward(ctx, g):
        p = ctx.attrs["p"]
        if p == 0:  # a count of non-zeros: no gradient, as PyTorch's
            return None, None
        x, y, z = ctx.saved
        gd = norm_backward_array(g, _difference(x, y, ctx.attrs.get("dtype")), z, p)
        need = ctx.needs_input_grad
        return (gd if need[0] else None), (-gd if need[1] else None)


def dist(input: Tensor, other: Any, p: Any = 2) -> Tensor:
    """The p-norm of ``input - other`` (broadcast), a 0-d tensor; ``p`` any number (a negative
    one too, as PyTorch), ``inf`` or ``-inf``.

    Shape:
        ``input`` and ``other`` broadcast together; the result is 0-d.
    """
    for name, pos, t in (("input", 1, input), ("other", 2, other)):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"dist(): argument '{name}' (position {pos}) must be Tensor, not {type(t).__name__}"
            )
    if p.__class__ is not float:
        p = number_arg("dist", "p", p, "Number")
    p = float(p)
    refuse_bool_sub(input, other)  # PyTorch subtracts first
    dt = dtypes.to_np_dtype(result_type_of(input, other))
    if dt.kind == "c":  # the norm of the moduli (a complex gradient through norm's own rules)
        return statistics.norm(input - other, p)
    if dt.kind != "f":
        raise DTypeError(
            f"dist: expected floating point or complex inputs, got {input.dtype} and {other.dtype}"
        )
    shape = broadcast_shape(input.shape, other.shape, op="dist")
    if (p < 0 or p == math.inf) and math.prod(shape) == 0:  # no identity, as norm's
        raise ShapeError(
            f"dist: expected non-empty inputs for p = {p}, got shapes {input.shape} and {other.shape}"
        )
    if input._data.dtype != dt or other._data.dtype != dt:
        return Dist.apply(input, other, p=p, dtype=dt)
    return Dist.apply(input, other, p=p)
