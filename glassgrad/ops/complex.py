"""Complex tensors: the ops that make, take apart and compute on them, with PyTorch's gradients.

The convention (PyTorch's). For a real loss L and z = x + iy, ``z.grad = dL/dx + i dL/dy``; an op
receives its output's gradient g in that form and returns its inputs' in that form:

* a holomorphic f (add, sub, mul, div, neg, exp, matmul): ``grad_z = g * conj(f'(z))``; written
  once for all of them (``complex_twins._twin``) as the real rule applied to conj(g), conjugated back;
* an op with a real input (the real side of ``complex * real``, ``polar``'s magnitude): the real
  part of that, since only a real perturbation of the input exists;
* a real-valued op of z (``abs``, ``angle``, ``real``, ``imag``): ``grad_z = g * (dy/dx + i dy/dy)``.

The new primitives live here (``view_as_complex``, ``view_as_real``, ``polar``, ``complex``,
``real``, ``imag``, ``conj``, ``angle``) with their tensor-level functions. ``complex_twins.py``
holds the complex *twins* of real ops (``complex_mul`` ...), which ``Function.apply``'s complex
gate (``autograd/complex_gate.py``) runs in place of the real op when an operand is complex, and
marks complex-aware the real-linear ops with real coefficients (reshape, transpose, slices, cat,
sum ...), whose backward is already right (``AWARE``). Every other op refuses complex operands.

``conj`` is a copy here, not PyTorch's lazy conjugate view (``is_conj()`` is always False).
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops import complex_twins as complex_twins  # the twins and the AWARE marks, made at import
from glassgrad.ops import conversion as _K
from glassgrad.ops import elementwise
from glassgrad.tensor import Tensor

__all__ = [
    "view_as_complex", "view_as_real", "polar", "complex", "real", "imag", "conj", "conj_physical",
    "resolve_conj", "is_conj", "angle", "is_complex", "METHODS",
]  # fmt: skip


# ------------------------------------------------------------------ making and taking apart
class ViewAsComplex(Function):
    """z = x[..., 0] + i x[..., 1], a view of x's memory: (..., 2) float -> (...) complex.
    VJP: g's real and imaginary parts side by side, (...) complex -> (..., 2) float."""

    name = "view_as_complex"
    complex_ok = True

    @staticmethod
    def forward(ctx, a):
        return a.view(dtypes.complex_of(a.dtype))[..., 0]  # (..., 2) -> (..., 1) -> (...)

    @staticmethod
    def backward(ctx, g):
        return array_module(g).stack((g.real, g.imag), axis=-1)  # (...) -> (..., 2)


class ViewAsReal(Function):
    """z[..., 0] = Re x, z[..., 1] = Im x, a view of x's memory: (...) complex -> (..., 2) float.
    VJP: g[..., 0] + i g[..., 1], (..., 2) -> (...)."""

    name = "view_as_real"
    complex_ok = True

    @staticmethod
    def forward(ctx, z):
        return z[..., None].view(z.real.dtype)  # (...) -> (..., 1) complex -> (..., 2) float

    @staticmethod
    def backward(ctx, g):
        return _pack(g[..., 0], g[..., 1])  # (..., 2) -> (...)


def _pack(re: Any, im: Any) -> Any:
    """re + i im as a new complex array of their broadcast shape (no 0 * inf = nan on the way)."""
    xp = array_module(re)
    out = xp.empty(np.broadcast_shapes(re.shape, im.shape), dtype=dtypes.complex_of(re.dtype))
    out.real, out.imag = re, im
    return out


class Polar(Function):
    """z = r (cos t + i sin t) from real r and t (broadcast).
    VJP: (Re(g conj(e^{it})), Re(g conj(i z))) = (g_x cos t + g_y sin t, r (g_y cos t - g_x sin t))."""

    complex_ok = True

    @staticmethod
    def forward(ctx, r, t):
        xp = array_module(r)
        c, s = xp.cos(t), xp.sin(t)
        ctx.save_for_backward(r, c, s, t)  # (t for the recorded rule, create_graph)
        return _pack(r * c, r * s)

    @staticmethod
    def backward(ctx, g):
        r, c, s, _ = ctx.saved
        need = ctx.needs_input_grad
        gr = g.real * c + g.imag * s if need[0] else None
        gt = r * (g.imag * c - g.real * s) if need[1] else None
        return gr, gt


class Complex(Function):
    """z = a + i b from real a and b (broadcast).   VJP: (Re g, Im g)."""

    complex_ok = True

    @staticmethod
    def forward(ctx, a, b):
        return _pack(a, b)

    @staticmethod
    def backward(ctx, g):
        return g.real, g.imag


class Real(Function):
    """y = Re z, a view of z's memory (writable).   VJP: g + 0i."""

    complex_ok = True

    @staticmethod
    def forward(ctx, z):
        return z.real

    @staticmethod
    def backward(ctx, g):
        return g.astype(dtypes.complex_of(g.dtype))


class Imag(Function):
    """y = Im z, a view of z's memory (writable).   VJP: 0 + i g."""

    complex_ok = True

    @staticmethod
    def forward(ctx, z):
        return z.imag

    @staticmethod
    def backward(ctx, g):
        return _pack(array_module(g).zeros_like(g), g)


class Conj(Function):
    """w = conj z (a copy; PyTorch returns a lazy conjugate view).   VJP: conj g."""

    complex_ok = True

    @staticmethod
    def forward(ctx, z):
        return array_module(z).conj(z)

    @staticmethod
    def backward(ctx, g):
        return array_module(g).conj(g)


class ConjPhysical(Conj):
    """w = conj z, a copy.   VJP: conj g."""

    name = "conj_physical"


# ------------------------------------------------------------------ real-valued functions of z
class Angle(Function):
    """y = arg z = atan2(Im z, Re z) in (-pi, pi]; for a real x, pi where x < 0 else 0 (NaN stays).
    VJP: g i z / |z|^2 = g (-y + i x) / (x^2 + y^2), 0 at z = 0 (PyTorch's choice); 0 for real x."""

    complex_ok = True

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        ctx.save_for_backward(a)
        if a.dtype.kind == "c":
            return xp.angle(a)
        return xp.where(a < 0, a.dtype.type(math.pi), xp.where(a != a, a, 0)).astype(a.dtype)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        xp = array_module(g)
        if a.dtype.kind != "c":
            return xp.zeros_like(g)
        r2 = a.real * a.real + a.imag * a.imag
        zero = r2 == 0
        return xp.where(zero, 0, g * (1j * a) / xp.where(zero, 1, r2))


# ------------------------------------------------------------------ tensor-level functions
def _tensor(x: Any, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def _float_pair(op: str, a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Two real tensors of one float32/float64 dtype, as PyTorch's ``polar``/``complex`` ask."""
    a, b = _tensor(a, op), _tensor(b, op)
    da, db = a._data.dtype, b._data.dtype
    if da.kind != "f" or db.kind != "f" or da == np.float16 or db == np.float16:
        raise DTypeError(
            f"{op}: expected float32 or float64 tensors (NumPy has no complex32), got {da} and {db}"
        )
    if da != db:
        raise DTypeError(f"{op}: expected both inputs of one dtype, got {da} and {db}")
    dtypes.note_complex()
    return a, b


def view_as_complex(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """A complex view of a float tensor whose last dim holds (real, imaginary) pairs.

    Shape:
        ``(*, 2)`` float32/float64 -> ``(*)`` complex64/complex128, sharing memory (and the version
        counter). As in PyTorch, the last dim must have size 2 and stride 1, the other strides
        (of dims larger than 1) and the storage offset must be even.

    >>> import glassgrad as gg
    >>> gg.view_as_complex(gg.tensor([[1.0, 2.0], [0.0, -1.0]]))
    tensor([1.+2.j, 0.-1.j])
    """
    a = _tensor(input, "view_as_complex")._data
    if a.dtype not in (np.float32, np.float64):
        raise DTypeError(
            f"view_as_complex: expected a float32 or float64 tensor (NumPy has no complex32), got {a.dtype}"
        )
    if a.ndim == 0:  # PyTorch checks the rank first, with its own message
        raise ShapeError("view_as_complex: Input tensor must have one or more dimensions, got a 0-d tensor")
    if a.shape[-1] != 2:
        raise ShapeError(f"view_as_complex: Tensor must have a last dimension of size 2, got shape {a.shape}")
    steps = [s // a.itemsize for s in a.strides]
    if a.size == 0:
        steps = [2] * (a.ndim - 1) + [1]  # (NumPy gives an empty array zero strides; PyTorch's are dense)
    if steps[-1] != 1:
        raise ShapeError(f"view_as_complex: Tensor must have a last dimension with stride 1, got {steps[-1]}")
    if any(s % 2 for s, n in zip(steps[:-1], a.shape) if n != 1):
        raise ShapeError(
            f"view_as_complex: Tensor must have a stride divisible by 2 for all but last dimension, got {steps}"
        )
    if _offset_bytes(a) % (2 * a.itemsize):
        raise ShapeError("view_as_complex: Tensor must have a storage_offset divisible by 2")
    dtypes.note_complex()
    return ViewAsComplex.apply(input)


def _offset_bytes(a: Any) -> int:
    """How far ``a``'s first element lies from the start of the memory it views, in bytes."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    return a.__array_interface__["data"][0] - root.__array_interface__["data"][0]


def view_as_real(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """A float view of a complex tensor: real and imaginary parts side by side in a new last dim.

    Shape:
        ``(*)`` complex64/complex128 -> ``(*, 2)`` float32/float64, sharing memory.
    """
    z = _tensor(input, "view_as_real")
    if z._data.dtype.kind != "c":
        raise DTypeError(f"view_as_real: view_as_real is only supported for complex tensors, got {z.dtype}")
    return ViewAsReal.apply(z)


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
    """``abs * (cos(angle) + i sin(angle))``, elementwise, as ``torch.polar``.

    Shape:
        ``abs`` and ``angle`` (one float dtype) broadcast together; complex of that precision.
    """
    return Polar.apply(*_float_pair("polar", abs, angle))


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """``real + i imag``, elementwise, as ``torch.complex``.

    Shape:
        ``real`` and ``imag`` (one float dtype) broadcast together; complex of that precision.
    """
    return Complex.apply(*_float_pair("complex", real, imag))


def real(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """The real part of a complex tensor, a view of its memory; a real tensor itself."""
    x = _tensor(input, "real")
    return Real.apply(x) if x._data.dtype.kind == "c" else x


def imag(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """The imaginary part of a complex tensor, a view of its memory (real tensors have none)."""
    x = _tensor(input, "imag")
    if x._data.dtype.kind != "c":
        raise DTypeError(f"imag: imag is not implemented for tensors with non-complex dtypes, got {x.dtype}")
    return Imag.apply(x)


def conj(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """The complex conjugate (a copy here); a real tensor itself."""
    x = _tensor(input, "conj")
    return Conj.apply(x) if x._data.dtype.kind == "c" else x


def conj_physical(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """The complex conjugate, a copy; a real tensor itself."""
    x = _tensor(input, "conj_physical")
    return ConjPhysical.apply(x) if x._data.dtype.kind == "c" else x


def resolve_conj(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """The tensor itself: ``conj`` copies here, so no tensor carries a lazy conjugate bit."""
    return _tensor(input, "resolve_conj")


def is_conj(input: Tensor) -> bool:  # noqa: A002 - PyTorch's name
    """False: ``conj`` copies here (see ``resolve_conj``)."""
    _tensor(input, "is_conj")
    return False


def angle(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """The argument of each element (real output; integers become the default float first)."""
    x = _tensor(input, "angle")
    return Angle.apply(x if x._data.dtype.kind in "fc" else elementwise.floating(x))


def is_complex(input: Tensor) -> bool:  # noqa: A002 - PyTorch's name
    """Whether ``input`` holds complex numbers."""
    return _tensor(input, "is_complex")._data.dtype.kind == "c"


def _set_part(part: Any) -> Any:
    def setter(self: Tensor, value: Any) -> None:  # ``z.real = v`` writes v into z's real part
        part(self).copy_(value)

    return setter


#: The Tensor methods (``methods.py`` attaches them): ``z.real``/``z.imag`` are writable views.
METHODS = {
    "real": property(real, _set_part(real)),
    "imag": property(imag, _set_part(imag)),
    "conj": conj,
    "conj_physical": conj_physical,
    "resolve_conj": resolve_conj,
    "is_conj": is_conj,
    "angle": angle,
    "__complex__": lambda self: _K.python_scalar(self, builtins.complex),  # complex(t), one element
}
