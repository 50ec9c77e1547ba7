"""Alpha dropout (Klambauer et al., 2017, "Self-Normalizing Neural Networks") and PyTorch's names
for the in-place activations (``F.relu_`` ...).

Plain dropout would break what SELU networks rely on: activations with mean 0 and variance 1.
Alpha dropout sets a dropped unit to SELU's negative saturation value α' = −λα ≈ −1.7581 instead
of 0, then applies y = a x̃ + b with a and b chosen so that, for an input of mean 0 and variance 1,
the output keeps them:

    a = ((1 − p) (1 + p α'²))^(−1/2),   b = −a α' p.

A kept unit gives a x + b, a dropped one a α' + b. There is no 1 / (1 − p) scaling: a and b
do that work. In evaluation (``training=False``, the functions' default as in PyTorch) the input
is returned as is.
"""

from __future__ import annotations

import math

from glassgrad.errors import DTypeError, ShapeError
from glassgrad.factories import empty
from glassgrad.nn.functional.activation import elu, hardtanh, in_place, leaky_relu, relu
from glassgrad.nn.functional.activation_more import celu, rrelu, selu
from glassgrad.nn.functional.activation_more import threshold as _threshold
from glassgrad.operand_errors import number_arg
from glassgrad.ops import elementwise as _E
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = [
    "alpha_dropout", "feature_alpha_dropout",
    "relu_", "elu_", "celu_", "selu_", "leaky_relu_", "hardtanh_", "rrelu_", "threshold_",
]  # fmt: skip

_SATURATION = 1.7580993408473766  # −α' = λα of SELU (λ ≈ 1.0507, α ≈ 1.6733)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:  # noqa: A002
    """Alpha dropout of each element (see the module's docstring); ``training`` is False by
    default, as PyTorch's ``F.alpha_dropout``.

    Shape:
        input: (*); returns (*).
    """
    return _alpha("alpha_dropout", input, p, training, inplace, feature=False)


def feature_alpha_dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Alpha dropout of whole channels: one draw per (sample, channel), shared over the rest.

    Shape:
        input: (N, C, *), at least 2 dims; returns the same shape.
    """
    return _alpha("feature_alpha_dropout", input, p, training, inplace, feature=True)


def _alpha(op: str, input: Tensor, p: float, training: bool, inplace: bool, feature: bool) -> Tensor:  # noqa: A002
    if p.__class__ is not float:
        p = number_arg(op, "p", p, compared=True)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: expected a probability p between 0 and 1, got {p}")
    if not training or p == 0.0:  # before the rank check: PyTorch returns any input unchanged here
        return input
    if feature and input.ndim < 2:
        raise ShapeError(f"{op}: expected an input of at least 2 dims (N, C, *), got shape {input.shape}")
    if inplace:
        return in_place(input, op, lambda t: _alpha(op, t, p, training, False, feature))
    x = input._data
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating-point input, got {input.dtype}")
    if p == 1.0:
        return input * 0.0  # everything dropped; still in the graph, with zero gradient (PyTorch's)
    shape = x.shape[:2] + (1,) * (x.ndim - 2) if feature else x.shape  # (N, C, 1, ...) or (*)
    a = 1.0 / math.sqrt((1.0 - p) * (1.0 + p * _SATURATION**2))
    if input.is_meta:  # no values: no draw, a meta scale of the mask's shape
        scale = empty(shape, dtype=input.dtype, device="meta")
        return _E.add(_E.mul(input, scale), scale)
    draw_dtype = x.dtype if x.dtype.itemsize >= 4 else "float32"  # NumPy draws float32/float64 only
    keep = (get_generator().random(shape, dtype=draw_dtype) >= p).astype(x.dtype)  # P(keep) = 1 - p
    # kept: a x + b; dropped: a α' + b, with b = a λα p and α' = −λα
    shift = (keep - 1.0) * (_SATURATION * a) + _SATURATION * a * p
    scale = keep * x.dtype.type(a)
    return _E.add(_E.mul(input, Tensor(scale, _wrap=True)), Tensor(shift.astype(x.dtype), _wrap=True))


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    """``relu`` in place; returns ``input``."""
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """``elu`` in place; returns ``input``."""
    return elu(input, alpha, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """``celu`` in place; returns ``input``."""
    return celu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    """``selu`` in place; returns ``input``."""
    return selu(input, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """``leaky_relu`` in place; returns ``input``."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """``hardtanh`` in place; returns ``input``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:  # noqa: A002
    """``rrelu`` in place; returns ``input``."""
    return rrelu(input, lower, upper, training, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    """``threshold`` in place: x where x > threshold, else ``value``; returns ``input``."""
    return _threshold(input, threshold, value, inplace=True)
