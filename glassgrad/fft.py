"""``torch.fft``: the discrete Fourier transforms, with PyTorch's values, dtypes, errors and gradients.

``fft``/``ifft`` (found missing by porting labml_nn's FNet, round 24) and their 2-d and n-d forms
are here; the real-input and Hermitian transforms (``rfft``, ``irfft``, ``hfft``, ``ihfft`` and
their 2-d and n-d forms) are in ``fft_real.py``, and ``fftfreq``, ``rfftfreq``, ``fftshift``,
``ifftshift`` in ``fft_freq.py``; all are names of this module.

Three primitives carry them all, as PyTorch's three (``FftC2CBackward0``, ``FftR2CBackward0``,
``FftC2RBackward0``), each over any set of dims at once. The transforms are linear, so the gradient
(PyTorch's convention, see ``ops/complex.py``) is the adjoint applied to the output's gradient: for
the complex-to-complex ones (``Fft``, ``Ifft``, here) it is the opposite transform under the dual
norm ("backward" <-> "forward", "ortho" itself); sizes ``s`` that padded the input are cut off
again, ones that cut it padded back with zeros; a real input gets the real part.
"""

from __future__ import annotations

from typing import Any

from glassgrad import dtypes
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.fft_common import DUAL as _DUAL  # (recorded_rules_complex imports it from here)
from glassgrad.fft_common import check_norm, n_dims, one_dim, points, prepare, resize
from glassgrad.fft_freq import fftfreq, fftshift, ifftshift, rfftfreq
from glassgrad.fft_real import (
    hfft,
    hfft2,
    hfftn,
    ihfft,
    ihfft2,
    ihfftn,
    irfft,
    irfft2,
    irfftn,
    rfft,
    rfft2,
    rfftn,
)
from glassgrad.tensor import Tensor

__all__ = [
    "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn",
    "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
    "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn",
    "fftfreq", "rfftfreq", "fftshift", "ifftshift",
]  # fmt: skip


def _c2c(a: Any, inverse: bool, s: tuple | None, dim: tuple, norm: str) -> Any:
    """The (inverse) DFT of ``a`` over ``dim``, padded or cut to ``s``, complex of ``a``'s precision."""
    xp = array_module(a)
    # no dims (fftn(x, dim=())): PyTorch still returns a complex copy
    out = (xp.fft.ifftn if inverse else xp.fft.fftn)(a, s=s, axes=dim, norm=norm) if dim else a.copy()
    return out.astype(dtypes.complex_of(a.dtype), copy=False)


def _node_name(attrs: dict) -> str | None:
    # PyTorch runs a one-dimensional transform of a real input through its real-to-complex op
    return "FftR2CBackward0" if attrs.get("r2c") else None


class _C2C(Function):
    register = False
    complex_ok = True
    inverse = False
    node_name = "FftC2CBackward0"
    node_name_by = staticmethod(_node_name)

    @classmethod
    def _forward(cls, ctx, a, s, dim, norm):
        ctx.save_for_backward(tuple(a.shape[d] for d in dim), a.dtype.kind != "c")  # lengths, real
        return _c2c(a, cls.inverse, s, dim, norm)

    @classmethod
    def _backward(cls, ctx, g):
        (lengths, real), (dim, norm) = ctx.saved, (ctx.attrs["dim"], ctx.attrs["norm"])
        gx = resize(_c2c(g, not cls.inverse, None, dim, _DUAL[norm]), lengths, dim)
        return gx.real.copy() if real else gx


class Fft(_C2C):
    """y = DFT of x over ``dim``, padded or cut to sizes ``s``, scaled as ``norm`` says: complex.
    VJP: ``ifftn`` of g under the dual norm, cut or zero-padded back to x's sizes; Re for a real x."""

    @staticmethod
    def forward(ctx, a, s, dim, norm, r2c=False):
        return Fft._forward(ctx, a, s, dim, norm)

    @staticmethod
    def backward(ctx, g):
        return Fft._backward(ctx, g)


class Ifft(_C2C):
    """y = inverse DFT of x over ``dim``, padded or cut to sizes ``s``, scaled as ``norm`` says.
    VJP: ``fftn`` of g under the dual norm, cut or zero-padded back to x's sizes; Re for a real x."""

    inverse = True

    @staticmethod
    def forward(ctx, a, s, dim, norm, r2c=False):
        return Ifft._forward(ctx, a, s, dim, norm)

    @staticmethod
    def backward(ctx, g):
        return Ifft._backward(ctx, g)


def _one(op: type[Function], name: str, input: Tensor, n: Any, dim: Any, norm: str | None) -> Tensor:  # noqa: A002
    x = prepare(name, input)
    n, dim = one_dim(name, x, n, dim)
    norm = check_norm(name, norm)
    n = points(name, x.shape[dim]) if n is None else n  # a size-0 dim: PyTorch's error, not NumPy's
    return op.apply(x, s=(n,), dim=(dim,), norm=norm, r2c=x._data.dtype.kind != "c")


def _many(op: type[Function], name: str, input: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:  # noqa: A002
    x = prepare(name, input)
    s, dim = n_dims(name, x, s, dim)
    return op.apply(x, s=s, dim=dim, norm=check_norm(name, norm))


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The one-dimensional discrete Fourier transform along ``dim``, as ``torch.fft.fft``.

    Shape:
        ``(*, L, *)`` real or complex -> ``(*, n, *)`` complex of its precision (``n`` defaults to
        L; a larger ``n`` zero-pads, a smaller one cuts). ``norm``: "backward" (default, no scaling),
        "ortho" (1/sqrt(n)) or "forward" (1/n).

    >>> import glassgrad as gg
    >>> gg.fft.fft(gg.tensor([1.0, 0.0, -1.0, 0.0]))
    tensor([0.+0.j, 2.+0.j, 0.+0.j, 2.+0.j])
    """
    return _one(Fft, "fft", input, n, dim, norm)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The inverse of ``fft`` (its ``norm`` names the same convention), as ``torch.fft.ifft``.

    Shape:
        as ``fft``'s; "backward" scales by 1/n here, "forward" not at all.
    """
    return _one(Ifft, "ifft", input, n, dim, norm)


def fftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    """The n-dimensional discrete Fourier transform over ``dim`` (default: every dim), as ``torch.fft.fftn``.

    Shape:
        ``(*, L1, *, L2, *)`` real or complex -> ``(*, s1, *, s2, *)`` complex of its precision:
        ``s[i]`` pads or cuts ``dim[i]`` (-1 keeps it); ``s`` alone names the last ``len(s)`` dims.
        ``norm`` scales by the product of the sizes: "backward" (default) not at all, "ortho"
        1/sqrt(prod), "forward" 1/prod.
    """
    return _many(Fft, "fftn", input, s, dim, norm)


def ifftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    """The inverse of ``fftn``, as ``torch.fft.ifftn``.

    Shape:
        as ``fftn``'s; "backward" scales by 1/prod(s) here, "forward" not at all.
    """
    return _many(Ifft, "ifftn", input, s, dim, norm)


def fft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    """``fftn`` over the last two dims by default, as ``torch.fft.fft2``.

    Shape:
        ``(*, H, W)`` -> ``(*, s0, s1)`` complex (``s`` defaults to ``(H, W)``).
    """
    return _many(Fft, "fft2", input, s, dim, norm)


def ifft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    """``ifftn`` over the last two dims by default, as ``torch.fft.ifft2``.

    Shape:
        ``(*, H, W)`` -> ``(*, s0, s1)`` complex (``s`` defaults to ``(H, W)``).
    """
    return _many(Ifft, "ifft2", input, s, dim, norm)


def _with_out() -> None:
    """PyTorch's keyword-only ``out=`` on every transform and on ``fftfreq``/``rfftfreq`` (not the
    shifts, which have none): a transform's result may be cast into a wider out (complex64 into
    complex128), not into a real one ("cast"); the real result of a complex-to-real transform
    (``irfft*``, ``hfft*``) not into a complex one either ("real": PyTorch's "expects a floating
    point output tensor"); the frequencies are computed in out's dtype."""
    from glassgrad.out_keyword import out_keyword  # (imports the ops package: after the names above)

    names = globals()
    for name in __all__:
        if name.endswith("freq"):
            names[name] = out_keyword(names[name], name, "compute")
        elif not name.endswith("shift"):
            names[name] = out_keyword(
                names[name], name, "real" if name.startswith(("irfft", "hfft")) else "cast"
            )


_with_out()
# PyTorch's TypeError for an operand that is not a tensor, fft(np_array), and NumPy's axis= as its
# parser takes it on every torch.fft function (operand_errors.py)
from glassgrad import operand_errors as _operand_errors  # noqa: E402

_operand_errors.install(globals(), __all__, native=True)
