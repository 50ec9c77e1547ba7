"""Integer and floating-point bit arithmetic: ``gcd``, ``lcm``, ``heaviside``, ``frexp``,
``ldexp``, as PyTorch's (elementwise, broadcasting)."""

from __future__ import annotations

from typing import Any

from glassgrad import dtypes
from glassgrad.autograd.function import Primitive
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, GraphError, KernelDTypeError
from glassgrad.operand_errors import refuse_sequence
from glassgrad.ops.elementwise import operands
from glassgrad.ops.out_write import refuse_grad_inputs
from glassgrad.out_keyword import with_out
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor

__all__ = ["gcd", "lcm", "heaviside", "frexp", "ldexp"]

_frexp_type = return_type("frexp", ["mantissa", "exponent"])


def _ints(op: str, a: Tensor, b: Tensor) -> tuple[Any, Any]:
    """The arrays of integer tensors ``a`` and ``b`` in their result dtype; one may be bool (read
    as 0 and 1 of the other's type, as PyTorch), not both (PyTorch has no bool kernel)."""
    if not isinstance(b, Tensor):  # PyTorch has no Scalar overload: gcd(t, 2) is its TypeError
        raise TypeError(f"{op}(): argument 'other' must be Tensor, not {type(b).__name__}")
    ka, kb = a._data.dtype.kind, b._data.dtype.kind
    if ka not in "iub" or kb not in "iub" or ka == kb == "b":
        # PyTorch has no kernel for them ("gcd_cpu" not implemented for 'Float')
        raise KernelDTypeError(f"{op}: expected integer tensors, got {a.dtype} and {b.dtype}")
    a, b = operands(a, b)  # PyTorch's result dtype: a 0-d int8 beside a uint8 (2,) stays uint8
    x, y = a._data, b._data  # (two integer types: NumPy's kernel promotes them, as PyTorch)
    if x.dtype.kind == "b" or y.dtype.kind == "b":
        return (x.astype(y.dtype), y) if x.dtype.kind == "b" else (x, y.astype(x.dtype))
    return x, y


def gcd(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
    """The greatest common divisor, elementwise (non-negative; gcd(0, 0) = 0). Shape: broadcast."""
    a, b = _ints("gcd", input, other)
    return with_out(Tensor(array_module(a).gcd(a, b), _wrap=True), out, "gcd")


def lcm(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The least common multiple, elementwise (non-negative; 0 where either is 0). Shape: broadcast."""
    a, b = _ints("lcm", input, other)
    return with_out(Tensor(array_module(a).lcm(a, b), _wrap=True), out, "lcm")


class Heaviside(Primitive):
    """0 where input < 0, ``values`` where input == 0, 1 where input > 0. No derivative (PyTorch's
    ``NotImplemented`` node): reaching it in backward raises."""

    name = "heaviside"
    node_name = "NotImplemented"
    register = False

    @staticmethod
    def forward(ctx, x, values):
        # PyTorch's kernel, x == 0 ? values : x > 0: NaN steps to 0 (NumPy's heaviside gives NaN);
        # the bool mask promotes to values' dtype: back to the input's
        return array_module(x).where(x == 0, values, x > 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        raise GraphError("heaviside: the derivative for heaviside is not implemented")


def heaviside(input: Tensor, values: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The Heaviside step of ``input`` with ``values`` at 0; the two must share a dtype (as PyTorch).
    Shape: broadcast."""
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside: expected values to be a Tensor, got {type(values).__name__}")
    if input.dtype != values.dtype:
        raise DTypeError(f"heaviside: expected values of the input's dtype {input.dtype}, got {values.dtype}")
    if input._data.dtype.kind == "c":
        raise DTypeError("heaviside: expected a real input, got a complex one")
    return with_out(Heaviside.apply(input, values), out, "heaviside")


class Frexp(Primitive):
    """The mantissa m = x / 2^e of ``frexp`` (e its int exponent, saved).
    VJP: g / exp2(e), exp2 taken in the default float dtype as PyTorch's derivative formula
    (``grad / exponent.exp2()`` of an int32 exponent): its 0 or inf where 2^e leaves that dtype
    (|x| beyond 2^128 or below 2^-149 in float32) give PyTorch's 0 and inf gradients."""

    name = "frexp"

    @staticmethod
    def forward(ctx, x):
        mantissa, exponent = array_module(x).frexp(x)
        ctx.save_for_backward(exponent)
        return mantissa

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        (exponent,) = ctx.saved
        scale = xp.exp2(exponent.astype(dtypes.get_default_dtype().np))
        return (g / scale).astype(g.dtype, copy=False)


def frexp(input: Tensor, *, out: Any = None) -> Any:  # noqa: A002
    """``(mantissa, exponent)`` with input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1)
    (0 for 0); the exponent is int32. Float inputs only; the mantissa is differentiable (as
    PyTorch's), the exponent not. Shape: both as input's."""
    if input._data.dtype.kind != "f":
        raise DTypeError(f"frexp: expected a floating-point input, got {input.dtype}")
    xp = array_module(input._data)
    if out is not None:
        refuse_grad_inputs("frexp", (input,))  # (PyTorch's out= refuses an input that wants a gradient)
    mantissa = Frexp.apply(input)
    exponent = xp.frexp(input._data)[1].astype(xp.int32)
    result = _frexp_type(mantissa, Tensor(exponent, _wrap=True))
    if out is not None:
        for dest, src in zip(out, result, strict=True):
            with_out(src, dest, "frexp")
        return _frexp_type(*out)
    return result


def ldexp(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """input * 2 ** other (differentiable in both, as PyTorch's composite). Shape: broadcast.

    The result's dtype is PyTorch's: the two operands' result type (a 0-d float64 beside an int16
    tensor gives float64, a float16 tensor beside one float16), or the default float dtype where
    that is an integer type. A 16-bit float result is computed in float32 and rounded once, so
    ``ldexp(2**-10, 20)`` in float16 is 1024, not the overflow of a float16 ``2**20``.
    """
    import glassgrad as gg

    refuse_sequence("ldexp", "other", other)
    other_t = other if isinstance(other, Tensor) else gg.tensor(other)
    want = gg.result_type(input, other_t)
    if not (want.is_floating_point or want.is_complex):
        want = gg.get_default_dtype()
    compute = gg.float32 if want.itemsize < 4 else want
    scale = gg.pow(2.0, other_t.to(compute))
    result = input.to(compute) * scale
    return with_out(result.to(want), out, "ldexp")
