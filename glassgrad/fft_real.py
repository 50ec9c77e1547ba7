"""``torch.fft``'s transforms of real signals and of Hermitian spectra: ``rfft``/``irfft``,
``hfft``/``ihfft`` and their 2-d and n-d forms (names of ``glassgrad.fft``).

Two primitives, PyTorch's ``_fft_r2c`` (one-sided) and ``_fft_c2r``, over any set of dims; the
last dim is the one-sided one. The Hermitian pair is built from them as PyTorch builds it: ``hfft``
is the c2r transform of conj(x) under the dual norm, ``ihfft`` the conj of the r2c one.

The gradients are PyTorch's, which are the exact adjoints, not the inverse transforms: the r2c
transform keeps m = n // 2 + 1 of n bins, so its VJP zero-fills g to n bins and takes the real
part of the complex-to-complex adjoint; the c2r transform reads each interior bin as itself and its
mirror image (and ignores the imaginary part of bin 0 and, for even n, of bin n / 2), so its VJP is
the r2c transform of g with the interior bins 1 .. n - m doubled.
"""

from __future__ import annotations

from typing import Any

from glassgrad import dtypes
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.fft_common import DUAL, c2r_dims, check_norm, n_dims, one_dim, points, prepare, real_of, resize
from glassgrad.ops.complex import conj
from glassgrad.tensor import Tensor

__all__ = [
    "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
    "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn",
]  # fmt: skip


def doubled(a: Any, n: int, d: int) -> Any:
    """``a`` (one-sided along ``d``: n // 2 + 1 bins of an n-point signal) with its interior bins
    doubled: the bins a c2r transform counts twice (PyTorch's ``fft_c2r_backward``)."""
    count = n - a.shape[d]
    if count > 0:
        a = a.copy()
        a[(slice(None),) * d + (slice(1, 1 + count),)] *= 2
    return a


class Rfft(Function):
    """y = the one-sided DFT of real x over ``dim``, padded or cut to ``s`` (the last dim keeps
    s[-1] // 2 + 1 bins), scaled as ``norm`` says.
    VJP: Re(``ifftn`` of g zero-filled to s[-1] bins, dual norm), cut or zero-padded back to x's sizes."""

    complex_ok = True
    node_name = "FftR2CBackward0"

    @staticmethod
    def forward(ctx, a, s, dim, norm):
        ctx.save_for_backward(tuple(a.shape[d] for d in dim))
        out = array_module(a).fft.rfftn(a, s=s, axes=dim, norm=norm)
        return out.astype(dtypes.complex_of(a.dtype), copy=False)

    @staticmethod
    def backward(ctx, g):
        (lengths,), (s, dim, norm) = ctx.saved, (ctx.attrs["s"], ctx.attrs["dim"], ctx.attrs["norm"])
        full = resize(g, (s[-1],), (dim[-1],))
        gx = array_module(g).fft.ifftn(full, axes=dim, norm=DUAL[norm]).real
        return resize(gx, lengths, dim).astype(real_of(g.dtype))


class Irfft(Function):
    """y = the real inverse DFT over ``dim`` of the one-sided spectrum x, of sizes ``s`` (x's last
    dim padded or cut to s[-1] // 2 + 1 bins, the others to s), scaled as ``norm`` says.
    VJP: ``rfftn`` of g under the dual norm, interior bins doubled, cut or zero-padded back to x's
    sizes; Re for a real x."""

    complex_ok = True
    node_name = "FftC2RBackward0"

    @staticmethod
    def forward(ctx, a, s, dim, norm):
        ctx.save_for_backward(tuple(a.shape[d] for d in dim), a.dtype.kind != "c")
        return array_module(a).fft.irfftn(a, s=s, axes=dim, norm=norm).astype(real_of(a.dtype), copy=False)

    @staticmethod
    def backward(ctx, g):
        (lengths, real), (s, dim, norm) = ctx.saved, (ctx.attrs["s"], ctx.attrs["dim"], ctx.attrs["norm"])
        gx = doubled(array_module(g).fft.rfftn(g, axes=dim, norm=DUAL[norm]), s[-1], dim[-1])
        gx = resize(gx, lengths, dim).astype(dtypes.complex_of(g.dtype), copy=False)
        return gx.real.copy() if real else gx


def _r2c(name: str, input: Tensor, s: Any, dim: Any, norm: str | None, inverse: bool, one: bool) -> Tensor:  # noqa: A002
    """rfft (``inverse`` False) or ihfft: the conj of the r2c transform under the dual norm."""
    x = prepare(name, input, real_only=True)
    if one:
        n, d = one_dim(name, x, s, dim)
        sizes, dims = (points(name, x.shape[d]) if n is None else n,), (d,)
    else:
        sizes, dims = n_dims(name, x, s, dim)
        if not dims:
            raise RuntimeError(f"{name}: must transform at least one axis")
    norm = check_norm(name, norm)
    y = Rfft.apply(x, s=sizes, dim=dims, norm=DUAL[norm] if inverse else norm)
    return conj(y) if inverse else y


def _c2r(name: str, input: Tensor, s: Any, dim: Any, norm: str | None, forward: bool, one: bool) -> Tensor:  # noqa: A002
    """irfft (``forward`` False) or hfft: the c2r transform of conj(x) under the dual norm."""
    x = prepare(name, input)
    if one:
        n, d = one_dim(name, x, s, dim)
        sizes, dims = (points(name, 2 * (x.shape[d] - 1)) if n is None else n,), (d,)
    else:
        sizes, dims = c2r_dims(name, x, s, dim)
    norm = check_norm(name, norm)
    return Irfft.apply(conj(x) if forward else x, s=sizes, dim=dims, norm=DUAL[norm] if forward else norm)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The one-sided DFT of a real signal along ``dim``, as ``torch.fft.rfft``.

    Shape:
        ``(*, L, *)`` real -> ``(*, n // 2 + 1, *)`` complex (``n`` pads or cuts, default L; the
        other bins are the conjugates of these). ``norm`` as ``fft``'s.
    """
    return _r2c("rfft", input, n, dim, norm, False, True)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The inverse of ``rfft``: a real signal of ``n`` points from its one-sided spectrum, as ``torch.fft.irfft``.

    Shape:
        ``(*, m, *)`` complex (or real) -> ``(*, n, *)`` real, ``n`` defaulting to 2 * (m - 1); the
        input is padded or cut to n // 2 + 1 bins, the imaginary parts of bin 0 (and n / 2 for an
        even n) are ignored. ``norm`` as ``ifft``'s.
    """
    return _c2r("irfft", input, n, dim, norm, False, True)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The DFT of a signal with a Hermitian-symmetric one-sided half, as ``torch.fft.hfft``.

    Shape:
        ``(*, m, *)`` -> ``(*, n, *)`` real, as ``irfft``'s; ``norm`` as ``fft``'s.
    """
    return _c2r("hfft", input, n, dim, norm, True, True)


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The inverse of ``hfft``: the one-sided inverse DFT of a real signal, as ``torch.fft.ihfft``.

    Shape:
        ``(*, L, *)`` real -> ``(*, n // 2 + 1, *)`` complex; ``norm`` as ``ifft``'s.
    """
    return _r2c("ihfft", input, n, dim, norm, True, True)


def rfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    """``rfft`` over several dims (the last one one-sided, the others full), as ``torch.fft.rfftn``.

    Shape:
        ``(*, L1, *, L2)`` real -> ``(*, s1, *, s2 // 2 + 1)`` complex; ``s`` and ``dim`` as ``fftn``'s.
    """
    return _r2c("rfftn", input, s, dim, norm, False, False)


def irfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    """The inverse of ``rfftn``, as ``torch.fft.irfftn``.

    Shape:
        ``(*, m1, *, m2)`` -> ``(*, s1, *, s2)`` real; the last size defaults to 2 * (m2 - 1), the
        others to the input's.
    """
    return _c2r("irfftn", input, s, dim, norm, False, False)


def hfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    """``hfft`` over several dims (the last one the Hermitian half), as ``torch.fft.hfftn``.

    Shape:
        as ``irfftn``'s; ``norm`` as ``fftn``'s.
    """
    return _c2r("hfftn", input, s, dim, norm, True, False)


def ihfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    """The inverse of ``hfftn``, as ``torch.fft.ihfftn``.

    Shape:
        as ``rfftn``'s; ``norm`` as ``ifftn``'s.
    """
    return _r2c("ihfftn", input, s, dim, norm, True, False)


def rfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    """``rfftn`` over the last two dims by default, as ``torch.fft.rfft2``.

    Shape:
        ``(*, H, W)`` real -> ``(*, s0, s1 // 2 + 1)`` complex.
    """
    return _r2c("rfft2", input, s, dim, norm, False, False)


def irfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    """``irfftn`` over the last two dims by default, as ``torch.fft.irfft2``.

    Shape:
        ``(*, H, m)`` -> ``(*, s0, s1)`` real (s1 defaults to 2 * (m - 1)).
    """
    return _c2r("irfft2", input, s, dim, norm, False, False)


def hfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    """``hfftn`` over the last two dims by default, as ``torch.fft.hfft2``.

    Shape:
        ``(*, H, m)`` -> ``(*, s0, s1)`` real (s1 defaults to 2 * (m - 1)).
    """
    return _c2r("hfft2", input, s, dim, norm, True, False)


def ihfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    """``ihfftn`` over the last two dims by default, as ``torch.fft.ihfft2``.

    Shape:
        ``(*, H, W)`` real -> ``(*, s0, s1 // 2 + 1)`` complex.
    """
    return _r2c("ihfft2", input, s, dim, norm, True, False)
