"""PyTorch's long tail of activations: prelu, selu, celu, mish, hardswish, hardsigmoid, softsign,
logsigmoid, softmin, glu, threshold, hardshrink, softshrink, tanhshrink, rrelu.

Each keeps PyTorch's signature and formula, and its gradient at the kinks: every one is a composite
of primitives whose own one-sided choices give PyTorch's (hardswish'(-3) = 0 and hardswish'(3) = 1,
hardshrink' = 0 at +-lambd, threshold' = 0 at the threshold, prelu'(0) = weight), except
``logsigmoid``, a primitive (``ops.activation_more``) because no composite is stable, and
``softshrink``, one there for speed.
Integer inputs are promoted to the default float dtype by softsign and tanhshrink, and refused
by the rest (``float_kernel``) as PyTorch refuses them; threshold and prelu keep them.

``inplace=True`` writes the result into the input, as PyTorch (``activation.in_place``: the rules
of ``relu_``; a view is refused while recording, where PyTorch rebases the view's graph).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import named
from glassgrad.backend import array_module, quietly
from glassgrad.dtypes import scalar_into
from glassgrad.errors import _SCALAR_TYPE_NAMES, ArgumentError, DTypeError, ShapeError, kernel_dtype_error
from glassgrad.nn.functional.activation import _implicit_dim, in_place
from glassgrad.operand_errors import number_arg
from glassgrad.ops import activation as _A
from glassgrad.ops import activation_more as _AM
from glassgrad.ops import conversion as _K
from glassgrad.ops import elementwise as _E
from glassgrad.ops import softmax as _SM
from glassgrad.ops import unary as _U
from glassgrad.ops import views as _V
from glassgrad.ops.elementwise import floating
from glassgrad.ops.indexing import normalize_dim
from glassgrad.ops.movement import reshape
from glassgrad.ops.operands import float_kernel
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = [
    "celu", "glu", "hardshrink", "hardsigmoid", "hardswish", "logsigmoid", "mish", "prelu", "rrelu",
    "selu", "softmin", "softshrink", "softsign", "tanhshrink", "threshold",
]  # fmt: skip

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
    """x where x > 0, else weight * x, with one learned slope per channel (dim 1) or one for all.

    Gradients (as PyTorch): d/dx = 1 where x > 0, else weight (weight at x = 0); d/dweight = x where
    x <= 0, else 0, summed over every dim but the channel dim.

    Args:
        input: the activations; channels on dim 1 (a 1-d input has one channel).
        weight: a 0-d or 1-d tensor of 1 or C elements, in input's dtype.

    Shape:
        input: (*) or (N, C, *); weight: (), (1,) or (C,); returns input's shape.
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu: expected weight to be a Tensor, got {type(weight).__name__}")
    if weight.ndim > 1:
        raise ShapeError(f"prelu: expected weight to be a scalar or 1-D tensor, got shape {weight.shape}")
    n = weight.numel()
    if n != 1:
        if input.ndim == 0:
            raise ShapeError(
                f"prelu: expected a 1-element weight for a 0-d input, got weight shape {weight.shape}"
            )
        channels = input.shape[1] if input.ndim > 1 else 1
        if n != channels:
            raise ShapeError(
                f"prelu: expected weight of {channels} element(s), one per channel (dim 1) of input "
                f"shape {input.shape}, or 1 for all, got weight shape {weight.shape}"
            )
    if input.dtype != weight.dtype:
        raise DTypeError(
            f"prelu: expected weight of the input's dtype {input.dtype} (no type promotion, as "
            f"PyTorch), got {weight.dtype}"
        )
    w = weight
    if weight.ndim != input.ndim:
        w = reshape(weight, tuple(n if i == 1 else 1 for i in range(input.ndim)))  # (C,) -> (1, C, 1, ...)
    # PyTorch's one node for these composites (here and below), not our last op's (Where, Mul ...)
    return named(_E.where(input._data > 0, input, _E.mul(input, w)), "PreluKernelBackward0")


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale * (x if x > 0 else alpha (e^x - 1)), self-normalising.

    PyTorch's constants alpha = 1.6732632423543772, scale = 1.0507009873554805; ``e^x`` is taken
    on min(x, 0), so there is no overflow.

    Gradient scale where x > 0, scale alpha e^x otherwise (scale alpha at 0).

    Shape:
        input: (*); returns (*).
    """
    if inplace:  # one elu node saving its result, as PyTorch's selu_ (EluBackward1)
        return in_place(input, "selu", _selu_result)
    return named(
        _E.mul(_A.elu(float_kernel(input, "selu", "elu_cpu"), SELU_ALPHA), SELU_SCALE), "EluBackward0"
    )  # PyTorch's elu


def _selu_result(x: Tensor) -> Tensor:  # (named EluBackward1 by Elu, for its result=True)
    return _A.Elu.apply(float_kernel(x, "selu", "elu_cpu"), alpha=SELU_ALPHA, result=True, scale=SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x if x > 0 else alpha (e^(x / alpha) - 1): continuously differentiable for any alpha != 0.

    Gradient 1 where x > 0, e^(x / alpha) otherwise (1 at 0), e^(x / alpha) computed as such (not
    from expm1's result + 1, which cancels: float32's gradient at x = -20 alpha was 0). It is
    PyTorch's: elu with an input scale of 1 / alpha (the branch chosen on x itself, so a negative
    alpha gives PyTorch's values too; the second derivative at 0 is 0, its elu double backward's).

    Shape:
        input: (*); returns (*).
    """
    if alpha.__class__ is not float:
        alpha = number_arg("celu", "alpha", alpha, "Number")
    if alpha == 0:
        # a RuntimeError as PyTorch's ("ZeroDivisionError: alpha cannot be 0 for CELU"), and a ValueError
        raise ArgumentError("celu: expected alpha != 0 (x is divided by it), got 0 (ZeroDivisionError)")
    # in place: the result saved, as PyTorch's celu_ (so a negative alpha's backward is refused)
    if inplace:
        return in_place(input, "celu", _celu_result, alpha)
    # quietly: for alpha < 0 and a large negative x, e^(x / alpha) is inf, as in PyTorch
    return named(
        quietly(
            _A.elu, float_kernel(input, "celu", "elu_cpu"), alpha, False, 1.0 / alpha, _celu_grad_scale(alpha)
        ),
        "CeluBackward0",
    )


def _celu_result(x: Tensor, alpha: float) -> Tensor:
    return named(
        quietly(
            _A.elu, float_kernel(x, "celu", "elu_cpu"), alpha, True, 1.0 / alpha, _celu_grad_scale(alpha)
        ),
        "CeluBackward1",
    )


def _celu_grad_scale(alpha: float) -> float:
    """The 1 / alpha of PyTorch's celu derivative, alpha rounded to float32 (``alpha.toFloat()``)."""
    with np.errstate(over="ignore"):
        return 1.0 / float(np.float32(alpha))


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * tanh(softplus(x)) (softplus stable at any magnitude: mish(1000) = 1000, mish(-1000) = -0).

    Shape:
        input: (*); returns (*).
    """
    if inplace:
        return in_place(input, "mish", mish)
    x = float_kernel(input, "mish", "mish_cpu")
    if x._data.dtype == np.float16:  # in float32, rounded once (both ways), as PyTorch's Half kernel
        x32 = _K.cast(x, np.float32)
        return named(_K.cast(_E.mul(x32, _U.tanh(_A.softplus(x32))), np.float16), "MishBackward0")
    return named(_E.mul(x, _U.tanh(_A.softplus(x))), "MishBackward0")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * relu6(x + 3) / 6: 0 for x <= -3, x for x >= 3.

    Gradient (as PyTorch): 0 for x <= -3, x / 3 + 1/2 for -3 < x < 3, 1 for x >= 3 and NaN (the
    one-sided values at the kinks: 0 at -3, 1 at 3), by the primitive ``ops.activation_more.Hardswish``.

    Shape:
        input: (*); returns (*).
    """
    return in_place(input, "hardswish", _AM.hardswish) if inplace else _AM.hardswish(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """relu6(x + 3) / 6: 0 for x <= -3, 1 for x >= 3, linear between.

    Gradient 1/6 for -3 < x < 3 (PyTorch's float32-rounded 1/6, in every dtype), 0 elsewhere, the
    kinks included, by the primitive ``ops.activation_more.Hardsigmoid``.

    Shape:
        input: (*); returns (*).
    """
    if inplace:
        return in_place(input, "hardsigmoid", hardsigmoid)
    return _AM.hardsigmoid(input)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|).

    Shape:
        input: (*); returns (*).
    """
    x = floating(input)
    return _E.div(x, _E.add(_U.abs(x), 1.0))


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log(sigmoid(x)) = -softplus(-x), stable at any magnitude (logsigmoid(-1000) = -1000).

    Shape:
        input: (*); returns (*).
    """
    return _AM.logsigmoid(input)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """softmax(-x) along ``dim``: the smallest entries get the largest weights.

    Args:
        dim: the axis that sums to one; omitted, PyTorch's legacy choice with its warning.
        dtype: cast to this dtype before the softmax.

    Shape:
        input: (*); returns (*).
    """
    dim = _implicit_dim("softmin", input, dim)
    return _SM.softmax(_E.neg(input), dim, dtype)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """The gated linear unit: a * sigmoid(b), a and b the first and second halves along ``dim``.

    Shape:
        input: (*, 2M, *); returns (*, M, *).
    """
    if input.ndim == 0:
        raise ShapeError("glu: expected an input with at least 1 dim to halve, got a 0-d tensor")
    d = normalize_dim(dim, input.ndim, "glu", input.shape)
    size = input.shape[d]
    if size % 2:
        raise ShapeError(
            f"glu: expected an even size along dim {dim} to split into two halves, got size {size} "
            f"(input shape {input.shape})"
        )
    half = size // 2
    x = float_kernel(input, "glu", "glu_cpu")
    return named(_E.mul(_V.narrow(x, d, 0, half), _A.sigmoid(_V.narrow(x, d, half, half))), "GluBackward0")


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:  # noqa: A002
    """``value`` where x <= threshold, else x (NaN passes through, as PyTorch).

    Gradient 1 where x > threshold, else 0 (0 at the threshold). An integer input stays integer.

    Shape:
        input: (*); returns (*).
    """
    if threshold.__class__ is not float:
        threshold = number_arg("threshold", "threshold", threshold, "Number")
    if value.__class__ is not float:
        value = number_arg("threshold", "value", value, "Number")
    if inplace:  # PyTorch's threshold_ node: ThresholdBackward1
        return in_place(
            input, "threshold", lambda t: named(_threshold(t, threshold, value), "ThresholdBackward1")
        )
    d = input._data
    if d.dtype.kind == "b":  # PyTorch's kernel has no bool code (glassgrad compared True <= 0.5)
        raise kernel_dtype_error("threshold", "threshold_cpu", d.dtype)
    # an integer input takes value as PyTorch converts a Scalar (scalar_into: -9 is 247 in uint8,
    # 256 overflows), then truncated toward zero
    v = value if d.dtype.kind == "f" else d.dtype.type(scalar_into("threshold", value, d.dtype))
    below = quietly(lambda: d <= threshold)  # (quietly: as hardshrink's bounds)
    return named(_E.where(below, v, input), "ThresholdBackward0")


_threshold = threshold  # for the in-place path, where the argument shadows the function


def _outside(x: Tensor, lambd: float) -> Any:
    """Where x < -lambd or x > lambd: the shrinks' slope-1 part (a NaN is not in it)."""
    d = x._data
    # quietly: a lambd past float16's range is inf to NumPy's comparison, which warns of the cast
    return quietly(lambda: (d < -lambd) | (d > lambd))


def _shrunk(x: Tensor, outside: Any, kept: Tensor) -> Tensor:
    """``kept`` outside [-lambd, lambd], 0 inside, NaN at NaN with gradient 0 there (PyTorch's
    vectorised kernels; their scalar loop over a small tensor's tail passes g at NaN)."""
    nan_or_zero = _E.where(array_module(x._data).isnan(x._data), x.detach(), 0.0)
    return _E.where(outside, kept, nan_or_zero)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """0 where -lambd <= x <= lambd, else x.   Gradient 0 there (the bounds included) and at NaN,
    else 1.

    Shape:
        input: (*); returns (*).
    """
    if lambd.__class__ is not float:
        lambd = number_arg("hardshrink", "lambd", lambd, "Number")
    x = float_kernel(input, "hardshrink", "hardshrink_cpu", complex_ok=False)
    return named(_shrunk(x, _outside(x, lambd), x), "HardshrinkBackward0")


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x - lambd for x > lambd, x + lambd for x < -lambd, else 0 (= x - clamp(x, -lambd, lambd)).

    Gradient 1 outside [-lambd, lambd], 0 inside, the bounds included, and at NaN (as PyTorch).

    Shape:
        input: (*); returns (*).
    """
    if lambd.__class__ is not float:
        lambd = number_arg("softshrink", "lambd", lambd, "Number")
    if not lambd >= 0:
        raise ArgumentError(f"softshrink: expected lambd >= 0, got {lambd}")  # a RuntimeError too
    x = float_kernel(input, "softshrink", "softshrink_check", complex_ok=False)
    dtype = x._data.dtype
    top = float(np.finfo(dtype).max)
    if not lambd <= top:  # past the dtype's range (inf too): PyTorch's RuntimeError, in its words
        raise ArgumentError(
            f"softshrink: lambda must be in range [0, {top:g}] for input dtype "
            f"{_SCALAR_TYPE_NAMES.get(dtype.name, dtype.name)}, but found {lambd:g}"
        )
    return _AM.softshrink(x, lambd)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """x - tanh(x).

    Shape:
        input: (*); returns (*).
    """
    x = floating(input)
    return _E.sub(x, _U.tanh(x))


def rrelu(
    input: Tensor,  # noqa: A002
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky ReLU: x where x > 0, else a * x.

    In training, ``a`` is drawn per element from U(lower, upper) by the generator that
    ``glassgrad.manual_seed`` seeds (the gradient is ``a`` there, 1 where x > 0); in evaluation
    it is the mean slope (lower + upper) / 2, i.e. ``leaky_relu(x, (lower + upper) / 2)``.

    Shape:
        input: (*); returns (*).
    """
    if lower.__class__ is not float:
        lower = number_arg("rrelu", "lower", lower, "Number")
    if upper.__class__ is not float:
        upper = number_arg("rrelu", "upper", upper, "Number")
    if not lower <= upper:
        # an ArgumentError is a RuntimeError, as PyTorch's, and still a ValueError
        raise ArgumentError(f"rrelu: expected lower <= upper, got lower={lower} > upper={upper}")
    if inplace:  # PyTorch's rrelu_with_noise_ node (in evaluation, leaky_relu_: it saves its result)
        return in_place(input, "rrelu", _rrelu_in_place, lower, upper, training)
    # PyTorch's kernel writes a fresh row-major result whatever x's layout (also in training)
    x = float_kernel(input, "rrelu", "leaky_relu_cpu").contiguous()
    if not training:
        return named(_A.leaky_relu(x, (lower + upper) / 2), "RreluWithNoiseBackward0")  # as PyTorch's
    d = x._data
    draw_dtype = d.dtype if d.dtype.itemsize >= 4 else "float32"  # NumPy draws float32/64 only
    slope = get_generator().random(d.shape, dtype=draw_dtype) * (upper - lower) + lower
    noise = array_module(d).where(d <= 0, slope, 1)  # the slope where x <= 0, else 1 (NaN too)
    return named(_E.mul(x, Tensor(noise.astype(d.dtype, copy=False), _wrap=True)), "RreluWithNoiseBackward0")


def _rrelu_in_place(x: Tensor, lower: float, upper: float, training: bool) -> Tensor:
    if training:
        return named(rrelu(x, lower, upper, True), "RreluWithNoiseBackward1")
    return named(_A.leaky_relu(x, (lower + upper) / 2, True), "RreluWithNoiseBackward1")
