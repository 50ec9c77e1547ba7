"""``torch.fft``'s one-dimensional complex transforms, ``fft`` and ``ifft``, with PyTorch's gradients.

Found missing by porting labml_nn's FNet (``torch.fft.fft(x, dim=2)``, then ``.real``), round 24.
The transforms are linear, so the gradient (PyTorch's convention, see ``ops/complex.py``) is the
adjoint applied to the output's gradient: the adjoint of ``fft`` with a norm is ``ifft`` with the
dual norm ("backward" <-> "forward", "ortho" itself), and the other way round; a length ``n`` that
padded the input is cut off again, one that cut it is padded back with zeros; a real input gets the
real part. The rest of ``torch.fft`` (rfft, fftn, fftfreq ...) is not here yet.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.function import Function
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError
from glassgrad.ops import elementwise
from glassgrad.tensor import Tensor

__all__ = ["fft", "ifft"]

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _transform(a: Any, inverse: bool, n: int, dim: int, norm: str) -> Any:
    """The (inverse) DFT of ``a`` along ``dim``, padded or cut to length ``n``, complex of ``a``'s precision."""
    xp = array_module(a)
    out = (xp.fft.ifft if inverse else xp.fft.fft)(a, n=n, axis=dim, norm=norm)
    return out.astype(dtypes.complex_of(a.dtype), copy=False)


def _forward(ctx: Any, a: Any, inverse: bool, n: int, dim: int, norm: str) -> Any:
    ctx.save_for_backward(a.shape[dim], a.dtype.kind != "c")  # the input's length, whether it is real
    return _transform(a, inverse, n, dim, norm)


def _backward(ctx: Any, g: Any, inverse: bool) -> Any:
    """The adjoint transform of g, cut or zero-padded back to the input's length; real for a real input."""
    (length, real), (n, dim, norm) = ctx.saved, (ctx.attrs["n"], ctx.attrs["dim"], ctx.attrs["norm"])
    gx = _transform(g, not inverse, n, dim, _DUAL[norm])
    if n != length:  # undo the forward's zero-padding (cut) or cut (zero-pad)
        gx = _resize(gx, length, dim)
    return gx.real.copy() if real else gx


class Fft(Function):
    """y = DFT of x along ``dim`` (length ``n``), scaled as ``norm`` says: (..., L, ...) -> (..., n, ...) complex.
    VJP: the adjoint transform of g (``ifft`` under the dual norm), cut or zero-padded back to L."""

    complex_ok = True

    @staticmethod
    def forward(ctx, a, n, dim, norm):
        return _forward(ctx, a, False, n, dim, norm)

    @staticmethod
    def backward(ctx, g):
        return _backward(ctx, g, False)


class Ifft(Function):
    """y = inverse DFT of x along ``dim`` (length ``n``), scaled as ``norm`` says.
    VJP: ``fft`` of g under the dual norm, cut or zero-padded back to L."""

    complex_ok = True

    @staticmethod
    def forward(ctx, a, n, dim, norm):
        return _forward(ctx, a, True, n, dim, norm)

    @staticmethod
    def backward(ctx, g):
        return _backward(ctx, g, True)


def _resize(a: Any, length: int, dim: int) -> Any:
    """``a`` cut or zero-padded to ``length`` along ``dim``."""
    xp = array_module(a)
    if a.shape[dim] >= length:
        return xp.take(a, xp.arange(length), axis=dim)
    pad = [(0, 0)] * a.ndim
    pad[dim] = (0, length - a.shape[dim])
    return xp.pad(a, pad)


def _apply(op: type[Function], name: str, input: Tensor, n: int | None, dim: int, norm: str | None) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    kind = input._data.dtype.kind
    if input._data.dtype == np.float16 or kind not in "biufc":
        raise DTypeError(f"{name}: Unsupported dtype {input.dtype}")
    x = input if kind in "fc" else elementwise.floating(input)  # integers: the default float first
    # ints only, as in PyTorch (not n=4.7 cut to 4, nor a tuple dim)
    for arg, value in (("dim", dim), ("n", n)):
        if value is not None and (isinstance(value, bool) or not hasattr(type(value), "__index__")):
            raise TypeError(f"{name}: argument '{arg}' must be int, not {type(value).__name__}")
    dim = operator.index(dim)
    if x.dim() == 0:
        raise IndexError(f"{name}: Dimension specified as {dim} but tensor has no dimensions")
    if not -x.dim() <= dim < x.dim():
        raise IndexError(
            f"{name}: Dimension out of range (expected to be in range of [{-x.dim()}, {x.dim() - 1}], but got {dim})"
        )
    dim %= x.dim()
    n = x.shape[dim] if n is None else operator.index(n)
    if n < 1:
        raise RuntimeError(f"{name}: Invalid number of data points ({n}) specified")
    norm = "backward" if norm is None else norm
    if norm not in _DUAL:
        raise RuntimeError(f'{name}: Invalid normalization mode: "{norm}"')
    dtypes.note_complex()
    return op.apply(x, n=n, dim=dim, norm=norm)


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
    return _apply(Fft, "fft", input, n, dim, norm)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The inverse of ``fft`` (its ``norm`` names the same convention), as ``torch.fft.ifft``.

    Shape:
        as ``fft``'s; "backward" scales by 1/n here, "forward" not at all.
    """
    return _apply(Ifft, "ifft", input, n, dim, norm)
