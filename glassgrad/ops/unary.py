"""Unary math primitives: exp, log, log1p, sqrt, rsqrt, reciprocal, abs, sin, cos, tanh.

Each keeps its input's shape; integer inputs are promoted to the default float dtype first
(``elementwise.floating``), as PyTorch does, except ``abs``, which keeps them. Non-differentiable
point: abs'(0) = 0 (PyTorch's choice at the kink). Where the math gives inf or nan (log(0),
sqrt(-1), exp(1000), and their gradients), so do these ops, as PyTorch does, without NumPy's
RuntimeWarning (``backend.quietly``).
"""

from __future__ import annotations

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.errors import DTypeError, kernel_dtype_error
from glassgrad.ops.elementwise import floating
from glassgrad.tensor import Tensor

__all__ = ["exp", "log", "log1p", "sqrt", "rsqrt", "reciprocal", "abs", "sin", "cos", "tanh"]


# ------------------------------------------------------------------ primitives
def _rsqrt(xp, a):
    if a.dtype == xp.float16:  # in float32, rounded once, as PyTorch's Half kernel (not twice)
        return (1 / xp.sqrt(a.astype(xp.float32))).astype(xp.float16)
    return 1 / xp.sqrt(a)


class Exp(Function):
    """z = e^a.   VJP: g * z."""

    @staticmethod
    def forward(ctx, a):
        out = quietly(array_module(a).exp, a)  # overflow gives inf, as PyTorch
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        return g * out


class Log(Function):
    """z = ln a.   VJP: g / a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return quietly(array_module(a).log, a)  # log(0) = -inf, log(-1) = nan, as PyTorch

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return quietly(array_module(a).divide, g, a)


class Log1p(Function):
    """z = ln(1 + a).   VJP: g / (1 + a)."""

    node_name = "Log1PBackward0"  # PyTorch's spelling

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return quietly(array_module(a).log1p, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return quietly(array_module(a).divide, g, 1 + a)


class Sqrt(Function):
    """z = sqrt(a).   VJP: g / (2 z)."""

    @staticmethod
    def forward(ctx, a):
        out = quietly(array_module(a).sqrt, a)  # sqrt(-1) = nan, as PyTorch
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        return quietly(array_module(out).divide, g, 2 * out)  # inf at 0, as PyTorch


class Rsqrt(Function):
    """z = 1 / sqrt(a).   VJP: -g z^3 / 2."""

    @staticmethod
    def forward(ctx, a):
        out = quietly(_rsqrt, array_module(a), a)  # inf at 0, nan below, as PyTorch
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        # PyTorch's grouping, (-g / 2) z^3 with z^3 = z z z (float16: z^3 in float32, rounded once)
        xp = array_module(out)
        z3 = (out.astype(xp.float32) ** 3).astype(out.dtype) if out.dtype == xp.float16 else out * out * out
        return -0.5 * g * z3


class Reciprocal(Function):
    """z = 1 / a.   VJP: -g (z z), PyTorch's grouping and rounding (-g / a^2 differs in the last
    bit on half the arguments), and through z its second derivative 2 g z^3: +-inf at +-0, 0 at
    +-inf (-g / a^2 differentiated gave NaN there)."""

    @staticmethod
    def forward(ctx, a):
        out = quietly(lambda: 1 / a)  # 1 / 0 = inf, as PyTorch
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        return -g * (out * out)


def slope_sign(a):
    """sign(a) as abs's slope: 0 at 0 (PyTorch's choice at the kink) and at NaN (PyTorch's sgn)."""
    xp = array_module(a)
    s = xp.sign(a)
    if s.dtype.kind == "f" and s.flags.writeable:  # (a meta array is a read-only view: no values)
        xp.nan_to_num(s, copy=False, nan=0.0)
    return s


class Abs(Function):
    """z = |a|.   VJP: g * sign(a), with sign(0) = sign(NaN) = 0 (as PyTorch)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)  # a, not its sign: the version check sees an in-place change of a
        return array_module(a).abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return g * slope_sign(a)


class Sin(Function):
    """z = sin a.   VJP: g cos a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return array_module(a).sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return g * array_module(a).cos(a)


class Cos(Function):
    """z = cos a.   VJP: -g sin a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return array_module(a).cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return -g * array_module(a).sin(a)


class Tanh(Function):
    """z = tanh a.   VJP: g (1 - z^2)."""

    @staticmethod
    def forward(ctx, a):
        # (NumPy's float32 tanh is within 1.4 ulp, PyTorch's 0.56: through float64 it would be
        # within 0.5, but 6 to 25 times slower, so the float32 one it is)
        out = array_module(a).tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        # 1 - z^2 cancels as |z| -> 1 (tanh(5) = 0.99991): z*z rounded first loses the digits
        # left (4.5e-5 off at 5 in float32). 1 - z is exact there (Sterbenz), so (1 - z)(1 + z)
        # is within about an ulp, as PyTorch's fused kernel; float16 is computed in float32,
        # the product with g too, and rounded once (as PyTorch: rounding 1 - z^2 first is an ulp off).
        if out.dtype.itemsize < 4:
            f32 = array_module(out).float32
            wide = out.astype(f32)
            return (g.astype(f32) * ((1 - wide) * (1 + wide))).astype(out.dtype)
        return g * ((1 - out) * (1 + out))


# ------------------------------------------------------------------ tensor-level functions
def exp(a: Tensor) -> Tensor:
    return Exp.apply(floating(a))


def log(a: Tensor) -> Tensor:
    return Log.apply(floating(a))


def log1p(a: Tensor) -> Tensor:
    return Log1p.apply(floating(a))


def sqrt(a: Tensor) -> Tensor:
    return Sqrt.apply(floating(a))


def rsqrt(a: Tensor) -> Tensor:
    return Rsqrt.apply(floating(a))


def reciprocal(a: Tensor) -> Tensor:
    """1 / a (a real floating tensor; ``composite.reciprocal`` promotes integers first)."""
    return Reciprocal.apply(a)


def abs(a: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    if a._data.dtype.kind == "b":  # PyTorch has no bool kernel; NumPy's abs gave the bools back
        raise kernel_dtype_error("abs", "abs_cpu", "bool")
    return Abs.apply(a)


def abs_inplace(a: Tensor) -> Tensor:
    """``abs`` for ``x.abs_()``/``x.absolute_()``: a complex tensor is refused, as PyTorch refuses it
    ("In-place abs is not supported for complex tensors"), where the real result would be written
    back as complex numbers with no imaginary part."""
    if a._data.dtype.kind == "c":
        raise DTypeError(
            f"abs_: in-place abs is not supported for complex tensors (got {a.dtype}); x.abs() gives one"
        )
    return abs(a)


def sin(a: Tensor) -> Tensor:
    return Sin.apply(floating(a))


def cos(a: Tensor) -> Tensor:
    return Cos.apply(floating(a))


def tanh(a: Tensor) -> Tensor:
    return Tanh.apply(floating(a))
