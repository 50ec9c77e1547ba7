"""Linear algebra for the distributions: ``cholesky`` and ``solve_triangular`` (``torch.linalg``'s
names) and the solve from a Cholesky factor under ``torch.cholesky_solve``, each with its
hand-derived backward. Batch dims broadcast as in matmul.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.errors import DTypeError, LinAlgError, ShapeError, kernel_dtype_error
from glassgrad.tensor import Tensor

__all__ = ["cholesky", "solve_triangular", "lapack_kernel", "CholeskySolve", "chol_solve"]


def _tril_solve(xp: Any, a: Any, b: Any, upper: bool) -> Any:
    """A⁻¹ b for triangular A (only its triangle is read). (..., n, n), (..., n, k) -> (..., n, k)."""
    tri = xp.triu(a) if upper else xp.tril(a)
    try:
        return xp.linalg.solve(tri, b)
    except xp.linalg.LinAlgError:  # a zero on the diagonal: substitution gives PyTorch's inf / nan
        return quietly(_substitute, xp, tri, b, upper)


def _substitute(xp: Any, tri: Any, b: Any, upper: bool) -> Any:
    """Forward (back, if ``upper``) substitution, one row at a time, vectorised over the batch and
    the columns of b; the rows not reached yet are zero. (..., n, n), (..., n, k) -> (..., n, k)."""
    n = tri.shape[-1]
    x = xp.zeros(xp.broadcast_shapes(tri.shape[:-2], b.shape[:-2]) + b.shape[-2:], xp.result_type(tri, b))
    for i in range(n - 1, -1, -1) if upper else range(n):
        x[..., i, :] = (b[..., i, :] - (tri[..., i, :, None] * x).sum(-2)) / tri[..., i, i, None]
    return x


class Cholesky(Function):
    """L = cholesky(A): the lower-triangular L with L Lᵀ = A, for symmetric positive-definite A.
    Shape: (..., n, n) -> (..., n, n). Only A's lower triangle is read (``upper``: its upper one,
    as Aᵀ's lower one; the VJP is the same, in terms of L).

    VJP (Murray, 2016): with Φ(X) = the lower triangle of X with its diagonal halved,
    P = Φ(Lᵀ Ḡ), S = L⁻ᵀ P L⁻¹, and Ā = (S + Sᵀ) / 2 — a symmetric gradient, as PyTorch's.
    """

    meta_identity = True  # on meta, A's stand-in is the identity (zeros are not positive-definite)

    @staticmethod
    def forward(ctx, a, upper=False):
        xp = array_module(a)
        if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
            raise ShapeError(f"cholesky: expected square matrices (..., n, n), got shape {a.shape}")
        a = xp.swapaxes(a, -1, -2) if upper else a  # see ``cholesky``
        try:
            low = xp.linalg.cholesky(xp.tril(a) + xp.swapaxes(xp.tril(a, -1), -1, -2))
        except np.linalg.LinAlgError as e:
            raise LinAlgError(  # PyTorch's type: torch.linalg.LinAlgError, a RuntimeError
                f"cholesky: expected a positive-definite matrix of shape {a.shape}, got one that is not ({e})"
            ) from None
        # NumPy factors a NaN or infinite A without raising (NaNs out); LAPACK in PyTorch refuses it
        if not xp.isfinite(low).all():
            raise LinAlgError(
                f"cholesky: expected a positive-definite matrix of shape {a.shape}, got one with non-finite "
                "entries (its factor is not finite)"
            )
        ctx.save_for_backward(low)
        return low

    @staticmethod
    def backward(ctx, g):
        (low,) = ctx.saved
        xp = array_module(low)
        p = xp.tril(xp.swapaxes(low, -1, -2) @ g)  # Φ(Lᵀ Ḡ) ...
        p -= 0.5 * xp.tril(xp.triu(p))  # ... with the diagonal halved
        low_t = xp.swapaxes(low, -1, -2)
        y = _tril_solve(xp, low_t, p, upper=True)  # Y = L⁻ᵀ P
        s = xp.swapaxes(
            _tril_solve(xp, low_t, xp.swapaxes(y, -1, -2), upper=True), -1, -2
        )  # S = Y L⁻¹ = (L⁻ᵀ Yᵀ)ᵀ
        return 0.5 * (s + xp.swapaxes(s, -1, -2))


class SolveTriangular(Function):
    """X = A⁻¹ B for triangular A (lower unless ``upper``), solving A X = B.
    Shape: (..., n, n), (..., n, k) -> (..., n, k), batch dims broadcast.

    VJP: B̄ = A⁻ᵀ X̄ (a solve with the transposed triangle), Ā = −B̄ Xᵀ restricted to A's triangle.
    """

    meta_identity = True

    @staticmethod
    def forward(ctx, a, b, upper=False):
        xp = array_module(a)
        if a.ndim < 2 or a.shape[-1] != a.shape[-2] or b.ndim < 2 or b.shape[-2] != a.shape[-1]:
            raise ShapeError(
                f"solve_triangular: expected A (..., n, n) and B (..., n, k), got {a.shape} and {b.shape}"
            )
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a_b = xp.broadcast_to(a, batch + a.shape[-2:])
        x = _tril_solve(xp, a_b, xp.broadcast_to(b, batch + b.shape[-2:]), upper)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved
        xp = array_module(a)
        upper = ctx.attrs.get("upper", False)
        a_t = xp.swapaxes(xp.broadcast_to(a, x.shape[:-2] + a.shape[-2:]), -1, -2)
        gb = _tril_solve(xp, a_t, g, not upper)  # A⁻ᵀ X̄: Aᵀ has the other triangle
        ga = None
        if ctx.needs_input_grad[0]:
            ga = -(gb @ xp.swapaxes(x, -1, -2))
            ga = xp.triu(ga) if upper else xp.tril(ga)
        return ga, gb


def chol_solve(xp: Any, low: Any, b: Any, upper: bool) -> Any:
    """(L Lᴴ)⁻¹ b (``upper``: (Uᴴ U)⁻¹ b), two triangular solves reading only L's triangle.
    (..., n, n), (..., n, k) -> (..., n, k), batch dims broadcast."""
    tri = xp.triu(low) if upper else xp.tril(low)
    tri_h = xp.conj(xp.swapaxes(tri, -1, -2))
    first, second = (tri_h, tri) if upper else (tri, tri_h)  # Uᴴ Y = b, U X = Y  /  L Y = b, Lᴴ X = Y
    return _tril_solve(xp, second, _tril_solve(xp, first, b, upper=False), upper=True)


class CholeskySolve(Function):
    """X = (L Lᴴ)⁻¹ B from a Cholesky factor L (``upper``: X = (Uᴴ U)⁻¹ B), real or complex.
    Shape: B (..., n, k), L (..., n, n) -> (..., n, k), batch dims broadcast.

    The value reads only L's triangle, but the derivatives are PyTorch's: those of (L Lᴴ)⁻¹ B in
    the whole of L (a program's L from ``torch.linalg.cholesky`` has a zero other triangle, which
    still gets a gradient), not those of the two triangular solves.
    VJP: B̄ = A⁻¹ X̄, C = B̄ Xᴴ + X B̄ᴴ, L̄ = −C L (upper: Ū = −U C).
    """

    meta_identity = True
    complex_ok = True  # the VJP is written with ᴴ: PyTorch's complex gradients

    @staticmethod
    def forward(ctx, b, low, upper=False):
        xp = array_module(low)
        batch = np.broadcast_shapes(b.shape[:-2], low.shape[:-2])
        x = chol_solve(
            xp, xp.broadcast_to(low, batch + low.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:]), upper
        )
        ctx.save_for_backward(low, x)
        return x

    @staticmethod
    def backward(ctx, g):
        low, x = ctx.saved
        xp = array_module(low)
        upper = ctx.attrs.get("upper", False)
        gb = chol_solve(xp, xp.broadcast_to(low, x.shape[:-2] + low.shape[-2:]), g, upper)
        gl = None
        if ctx.needs_input_grad[1]:
            c = gb @ xp.conj(xp.swapaxes(x, -1, -2))
            c = c + xp.conj(xp.swapaxes(c, -1, -2))
            gl = -(low @ c) if upper else -(c @ low)
        return gb, gl


def lapack_kernel(op: str, kernel: str, *tensors: Tensor) -> None:
    """Refuse what PyTorch's LAPACK kernel ``kernel`` has no code for (integers, bool, float16):
    its NotImplementedError ("triangular_solve_cpu" not implemented for 'Long'), where NumPy
    would compute a float64 answer from the integers and the program would run on."""
    for t in tensors:
        dt = t._data.dtype
        if dt.kind not in "fc" or dt.itemsize < 4:
            raise kernel_dtype_error(op, kernel, dt)


def cholesky(a: Tensor, *, upper: bool = False, out: Any = None) -> Tensor:
    """The lower Cholesky factor L of symmetric positive-definite ``a`` (``torch.linalg.cholesky``),
    read from a's lower triangle; with ``upper`` the U with a = Uᴴ U read from a's upper triangle.

    Shape:
        (..., n, n) -> (..., n, n)
    """
    from glassgrad.out_keyword import with_out

    if a._data.dtype.kind not in "fc":  # PyTorch's check of its own, before the kernel's (float16)
        raise DTypeError(f"linalg.cholesky: expected a floating point or complex input, got {a.dtype}")
    lapack_kernel("linalg.cholesky", "cholesky_cpu", a)
    # LAPACK's uplo='U' reads a's upper triangle (a need not be symmetric), but PyTorch's gradient
    # is that of the lower factor L = Uᴴ, not conjugate-transposed as a's would be through aᴴ
    low = Cholesky.apply(a, upper=True) if upper else Cholesky.apply(a)
    return with_out(low.mH if upper else low, out, "linalg.cholesky")


def solve_triangular(
    a: Tensor, b: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False, out: Any = None
) -> Tensor:
    """Solve ``a @ x = b`` (``x @ a = b`` with ``left=False``) for triangular ``a``, as
    ``torch.linalg.solve_triangular``; ``unitriangular`` takes a's diagonal as ones (not read).

    Shape:
        a (..., n, n), b (..., n, k) -> (..., n, k) (left=False: b (..., k, n)), batch dims broadcast.
    """
    from glassgrad.out_keyword import with_out

    lapack_kernel("solve_triangular", "triangular_solve_cpu", a, b)
    if (a._data.dtype.kind == "c" or b._data.dtype.kind == "c") and a._data.dtype != b._data.dtype:
        if a._data.dtype.kind != "c":  # PyTorch casts b to a's real dtype, dropping b's imaginary part
            raise DTypeError(
                f"solve_triangular: expected B of A's dtype {a._data.dtype} (or a complex A), got B "
                f"{b._data.dtype} {tuple(b.shape)} (its imaginary part would be lost)"
            )
        b = b.to(a._data.dtype)  # PyTorch's: B in A's dtype; the cast's VJP gives a real B a real gradient
    if unitriangular:  # the stored diagonal is ignored, and gets no gradient
        n = a.shape[-1]
        eye = Tensor(array_module(a._data).eye(n, dtype=a._data.dtype), _wrap=True)
        a = (a.triu(1) if upper else a.tril(-1)) + eye
    if not left:  # x a = b  <=>  aᵀ xᵀ = bᵀ
        x = SolveTriangular.apply(a.mT, b.mT, upper=not upper).mT
    else:
        x = SolveTriangular.apply(a, b, upper=upper)
    return with_out(x, out, "solve_triangular")
