"""The piecewise activations: leaky_relu, elu (celu's and selu's kernel too) and hardtanh
(relu6's), kept apart from the smooth ones of ``activation.py``, which re-exports them.

Their in-place forms save the result (``result=True``), as PyTorch's ``leaky_relu_`` and ``elu_``,
whose nodes are then ``LeakyReluBackward1`` and ``EluBackward1`` (``node_name_by``): a write into the
result before backward is caught, and the backward of a negative slope or alpha is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, GraphError
from glassgrad.operand_errors import number_arg
from glassgrad.ops.bit_select import select, zero_where
from glassgrad.ops.operands import float_kernel
from glassgrad.tensor import Tensor

__all__ = ["LeakyRelu", "Elu", "Hardtanh", "leaky_relu", "elu", "hardtanh"]


def _refuse_negative(op: str, name: str, value: float) -> None:
    """PyTorch's backward of an in-place leaky_relu_/elu_ with a negative slope or alpha, whose
    sign the result no longer tells."""
    if value < 0:
        raise GraphError(
            f"{op}: expected {name} >= 0 for the backward of the in-place op (inplace=True), got "
            f"{value} (PyTorch refuses it too): please call out-of-place version instead"
        )


class LeakyRelu(Function):
    """z = x if x > 0 else slope x.   VJP: g if x > 0 else slope g (slope at 0 and at NaN, as
    PyTorch).

    ``result=True`` (``leaky_relu(x, inplace=True)``) saves z instead of x and tests z > 0, as
    PyTorch's ``leaky_relu_``: a later in-place change of the result is then caught at backward,
    and a change through ``.data`` gives PyTorch's gradient."""

    name = "leaky_relu"
    node_name_by = staticmethod(lambda attrs: "LeakyReluBackward1" if attrs.get("result") else None)

    @staticmethod
    def forward(ctx, x, slope=0.01, result=False):
        out = select(x > 0, x, x * slope)  # (bit masks: ``bit_select.py``)
        ctx.save_for_backward(out if result else x)  # an array, not a mask: the version check sees it
        return out

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        slope = ctx.attrs["slope"]
        if ctx.attrs.get("result"):
            _refuse_negative("leaky_relu_", "negative_slope", slope)
        return select(a > 0, g, g * slope)


class Elu(Function):
    """z = x if x > 0 else alpha (e^(s x) - 1), s = ``input_scale`` (celu's 1 / alpha).   VJP: g if
    x > 0 else g s alpha e^(s x), as PyTorch's (z / alpha + 1 would cancel); NaN at NaN, as its
    vectorised kernel (its scalar tail of under one SIMD width passes g). ``result=True`` (``elu_``)
    saves z alone, as PyTorch's: VJP g where z > 0 (or NaN), else g s (z + alpha). The VJP's s is
    ``grad_scale`` when given: celu's derivative in PyTorch takes 1 / alpha with alpha rounded to
    float32 (``1.0/alpha.toFloat()``), its forward the exact 1 / alpha. ``scale`` multiplies both
    branches (selu's, so that ``selu_`` is one node saving its result, as PyTorch's elu_): VJP
    g scale where x > 0, else scale times the above; from the result, g s (z + scale alpha)."""

    node_name_by = staticmethod(lambda attrs: "EluBackward1" if attrs.get("result") else None)

    @staticmethod
    def forward(ctx, x, alpha=1.0, result=False, input_scale=1.0, grad_scale=1.0, scale=1.0):
        xp = array_module(x)
        xn = zero_where(x > 0, x)  # no overflow in the branch not taken; elu(-0.0) = -0.0, as PyTorch
        neg = alpha * xp.expm1(xn * input_scale if input_scale != 1 else xn)
        out = select(x > 0, x, neg)
        if scale != 1:
            out = out * scale
        ctx.save_for_backward(out if result else x, None)
        return out

    @staticmethod
    def backward(ctx, g):
        a, _ = ctx.saved
        alpha, s, xp = ctx.attrs["alpha"], ctx.attrs.get("grad_scale", 1.0), array_module(g)
        scale = ctx.attrs.get("scale", 1.0)
        if scale != 1:  # selu_ (from its result) or selu: both branches scaled
            if ctx.attrs.get("result"):
                return select(a <= 0, g * s * (a + alpha * scale), g * scale)
            with np.errstate(over="ignore"):
                return select(a > 0, g * scale, g * (s * alpha * scale) * xp.exp(a * s))
        if ctx.attrs.get("result"):  # saved the result
            _refuse_negative("elu_", "alpha", alpha)
            return select(a <= 0, g * (a + alpha) if s == 1 else g * s * (a + alpha), g)
        with np.errstate(over="ignore"):  # (e^(s x) of the branch not taken)
            return select(a > 0, g, g * s * alpha * xp.exp(a * s) if s != 1 else g * alpha * xp.exp(a))


class Hardtanh(Function):
    """z = clip(x, lo, hi).   VJP: g where lo < x < hi, else 0 (0 at the bounds, as PyTorch; 0 at
    NaN too, as PyTorch's vectorised kernel: its scalar tail of under one SIMD width passes g).
    A select, not a product by the mask: an inf or NaN g (sqrt or log of a clipped 0 downstream)
    gives 0 outside, as PyTorch's ``hardtanh_backward``, where g * 0 would be NaN, and a negative
    g gives +0 there, as PyTorch's, where g * 0 would be -0."""

    @staticmethod
    def forward(ctx, x, lo=-1.0, hi=1.0):
        ctx.save_for_backward(x)  # x, not a mask: the version check sees an in-place change of x
        return array_module(x).clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        outside = ~((x > ctx.attrs["lo"]) & (x < ctx.attrs["hi"]))
        return zero_where(outside, g)  # (bits ANDed with a mask: as fast as the product was)


def leaky_relu(x: Tensor, negative_slope: float = 0.01, result: bool = False) -> Tensor:
    """x where x > 0, else ``negative_slope`` x; ``result``: save the result for backward, as the
    in-place op does (``LeakyRelu``).

    Shape:
        Any shape; the output has the input's shape.
    """
    if negative_slope.__class__ is not float:
        negative_slope = number_arg("leaky_relu", "negative_slope", negative_slope, "Number")
    if result:
        return LeakyRelu.apply(
            float_kernel(x, "leaky_relu", "leaky_relu_cpu"), slope=negative_slope, result=True
        )
    return LeakyRelu.apply(float_kernel(x, "leaky_relu", "leaky_relu_cpu"), slope=negative_slope)


def elu(
    x: Tensor, alpha: float = 1.0, result: bool = False, input_scale: float = 1.0, grad_scale: Any = None
) -> Tensor:
    """x where x > 0, else alpha (e^(input_scale x) - 1); ``result``: save the result for
    backward, as the in-place op does (``Elu``); ``input_scale``: celu's 1 / alpha;
    ``grad_scale``: the one its gradient takes (default ``input_scale``; see ``Elu``).

    Shape:
        Any shape; the output has the input's shape.
    """
    if alpha.__class__ is not float:
        alpha = number_arg("elu", "alpha", alpha, "Number")
    grad_scale = input_scale if grad_scale is None else grad_scale
    scaled = {"input_scale": input_scale, "grad_scale": grad_scale} if input_scale != 1 else {}
    if result:
        return Elu.apply(float_kernel(x, "elu", "elu_cpu"), alpha=alpha, result=True, **scaled)
    return Elu.apply(float_kernel(x, "elu", "elu_cpu"), alpha=alpha, **scaled)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient is 0 at and beyond the bounds (as PyTorch).
    Integer inputs keep their dtype (bounds truncated toward zero) and bool inputs raise, as PyTorch.

    Shape:
        Any shape; the output has the input's shape.
    """
    if min_val.__class__ is not float:
        min_val = number_arg("hardtanh", "min_val", min_val, "Number", compared=True)
    if max_val.__class__ is not float:
        max_val = number_arg("hardtanh", "max_val", max_val, "Number", compared=True)
    if min_val > max_val:
        raise ValueError(f"hardtanh: expected min_val <= max_val, got {min_val} > {max_val}")
    kind = x._data.dtype.kind
    if kind == "b":
        raise DTypeError("hardtanh: expected a numeric tensor, got bool (PyTorch: not supported)")
    if kind in "iu":  # PyTorch keeps the integer dtype, its bounds truncated toward zero; no gradient
        if kind == "u" and min(min_val, max_val) < 0:
            raise ValueError(
                f"hardtanh: expected non-negative limits for {x.dtype}, got {min_val} and {max_val}"
            )
        clipped = array_module(x._data).clip(x._data, int(min_val), int(max_val))
        return Tensor(clipped.astype(x._data.dtype, copy=False), _wrap=True)
    return Hardtanh.apply(x, lo=min_val, hi=max_val)
