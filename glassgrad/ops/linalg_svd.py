"""The singular value decomposition ``A = U diag(S) Vh`` (``torch.linalg.svd``, ``torch.svd``).

One NumPy SVD gives the three factors; each is handed out by a primitive of its own (``SvdU``,
``SvdS``, ``SvdVh``) whose backward is that factor's share of the SVD's vector-Jacobian product
(Townsend, "Differentiating the Singular Value Decomposition", 2016), real matrices (complex ones:
``ops/linalg_complex_svd.py``'s twins), reduced factors (k = min(m, n)). With F_ij = 1 / (s_j² − s_i²)
off the diagonal (0 on it):

    Ā = U [(F ∘ (UᵀŪ − ŪᵀU)) S] Vᵀ + (I − UUᵀ) Ū S⁻¹ Vᵀ          from Ū
      + U diag(S̄) Vᵀ                                            from S̄
      + U [S (F ∘ (VᵀV̄ − V̄ᵀV))] Vᵀ + U S⁻¹ V̄ᵀ (I − VVᵀ)          from V̄ (V̄ = Vh̄ᵀ)

As in PyTorch, the gradient is that of a loss which does not depend on the factors' signs, and it
is infinite where two singular values are equal (or one is zero, for U's and V's share).
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.ops.linalg_solve import check_matrix, lapack
from glassgrad.ops.linalg_solve import mt as _mt
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor

__all__ = ["linalg_svd", "svd", "svdvals", "singular_values", "LinalgSvdResult", "SvdResult"]

#: Named results, as ``torch.return_types.linalg_svd`` and ``torch.return_types.svd``.
LinalgSvdResult = return_type("linalg_svd", ["U", "S", "Vh"])
SvdResult = return_type("svd", ["U", "S", "V"])


def _reduced(ctx: Any) -> tuple:
    """The saved factors cut to k = min(m, n) columns of U and rows of Vh, with S and F."""
    u, s, vh = ctx.saved
    xp, k = array_module(s), s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]  # (..., m, k), (..., k, n)
    s2 = s * s
    diff = s2[..., None, :] - s2[..., :, None]  # (..., k, k): s_j² − s_i²
    eye = xp.eye(k, dtype=bool)
    f = xp.where(eye, 0.0, quietly(xp.divide, 1.0, xp.where(eye, 1.0, diff)))  # inf at repeated values
    return u, s, vh, f


def _only_reduced(g: Any, k: int, axis: int) -> Any:
    """A full_matrices=True factor's gradient, cut to its first k vectors: the others are any
    basis of their subspace, so PyTorch ignores the gradient on them (its documented rule), and a
    loss on the whole of U or Vh trains as it does."""
    return g[..., :k] if axis == -1 else g[..., :k, :]


def _hand_out(ctx: Any, factors: tuple, i: int) -> Any:
    """Save the whole SVD for backward; hand out factor i in its own memory, so that an in-place
    change of it leaves the saved SVD intact."""
    ctx.save_for_backward(*factors)
    return factors[i].copy()


class SvdU(Function):
    """z = U of x = U diag(S) Vh (the ``factors`` attr holds the SVD). VJP: Ū's term above."""

    name = "svd_u"

    @staticmethod
    def forward(ctx, a, factors=None):
        return _hand_out(ctx, factors, 0)

    @staticmethod
    def backward(ctx, g):
        u, s, vh, f = _reduced(ctx)
        g = _only_reduced(g, s.shape[-1], -1)
        return quietly(_u_share, u, s, vh, f, g)  # inf / nan at repeated or zero values, as PyTorch


def _u_share(u: Any, s: Any, vh: Any, f: Any, g: Any) -> Any:
    """Ū's term of Ā: U [(F ∘ (UᵀŪ − ŪᵀU)) S] Vᵀ + (I − UUᵀ) Ū S⁻¹ Vᵀ."""
    ut_g = _mt(u) @ g  # (..., k, k)
    inner = (f * (ut_g - _mt(ut_g))) * s[..., None, :]  # (F ∘ (UᵀŪ − ŪᵀU)) S
    out = u @ inner @ vh
    if u.shape[-2] > s.shape[-1]:  # (I − UUᵀ) Ū S⁻¹ Vᵀ: only when m > k
        out = out + ((g - u @ ut_g) / s[..., None, :]) @ vh
    return out


class SvdS(Function):
    """z = S of x = U diag(S) Vh, largest first. VJP: U diag(S̄) Vh."""

    name = "svd_s"

    @staticmethod
    def forward(ctx, a, factors=None):
        return _hand_out(ctx, factors, 1)

    @staticmethod
    def backward(ctx, g):
        u, _, vh, _ = _reduced(ctx)
        return (u * g[..., None, :]) @ vh


class SvdVh(Function):
    """z = Vh of x = U diag(S) Vh. VJP: V̄'s term above, with V̄ = Vh̄ᵀ."""

    name = "svd_vh"

    @staticmethod
    def forward(ctx, a, factors=None):
        return _hand_out(ctx, factors, 2)

    @staticmethod
    def backward(ctx, g):
        u, s, vh, f = _reduced(ctx)
        gv = _mt(_only_reduced(g, s.shape[-1], -2))  # V̄: (..., n, k)
        return quietly(_v_share, u, s, vh, f, gv)  # inf / nan at repeated or zero values, as PyTorch


def _v_share(u: Any, s: Any, vh: Any, f: Any, gv: Any) -> Any:
    """V̄'s term of Ā: U [S (F ∘ (VᵀV̄ − V̄ᵀV))] Vᵀ + U S⁻¹ V̄ᵀ (I − VVᵀ)."""
    v = _mt(vh)
    vt_g = vh @ gv  # VᵀV̄: (..., k, k)
    inner = s[..., :, None] * (f * (vt_g - _mt(vt_g)))  # S (F ∘ (VᵀV̄ − V̄ᵀV))
    out = u @ inner @ vh
    if v.shape[-2] > s.shape[-1]:  # U S⁻¹ V̄ᵀ (I − VVᵀ): only when n > k
        out = out + (u / s[..., None, :]) @ _mt(gv - v @ vt_g)
    return out


def linalg_svd(A: Tensor, full_matrices: bool = True, *, driver: Any = None) -> LinalgSvdResult:
    """``torch.linalg.svd``: ``(U, S, Vh)`` with ``A = U[..., :k] diag(S) Vh[..., :k, :]``.

    Shape:
        A ``(..., m, n)`` -> U ``(..., m, m)`` (``(..., m, k)`` if not ``full_matrices``),
        S ``(..., k)``, Vh ``(..., n, n)`` (``(..., k, n)``), k = min(m, n).
    """
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.svd: expected a Tensor, got {type(A).__name__}")
    check_matrix("linalg.svd", A._data, complex_ok=True)
    xp = array_module(A._data)
    u, s, vh = lapack("linalg.svd", xp.linalg.svd, A._data, full_matrices=full_matrices)
    factors = tuple(xp.ascontiguousarray(p) for p in (u, s, vh))
    return LinalgSvdResult(*(P.apply(A, factors=factors) for P in (SvdU, SvdS, SvdVh)))


def singular_values(A: Tensor, op: str) -> Tensor:
    """The singular values of ``A``, largest first, as one ``SvdS`` node (no U or Vh handed out);
    ``op`` names the caller in errors. ``(..., m, n) -> (..., min(m, n))``."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    check_matrix(op, A._data, complex_ok=True)
    xp = array_module(A._data)
    u, s, vh = lapack(op, xp.linalg.svd, A._data, full_matrices=False)
    return SvdS.apply(A, factors=tuple(xp.ascontiguousarray(p) for p in (u, s, vh)))


def svdvals(A: Tensor, *, driver: Any = None) -> Tensor:
    """The singular values of ``A``, largest first (``torch.linalg.svdvals``).

    Shape:
        ``(..., m, n) -> (..., min(m, n))``.
    """
    return singular_values(A, "linalg.svdvals")


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SvdResult:  # noqa: A002
    """``torch.svd`` (the older spelling): ``(U, S, V)`` with V = Vhᴴ, not Vh; reduced unless
    ``some=False``. With ``compute_uv=False``, U and V are zeros, as PyTorch's.

    Shape:
        input ``(..., m, n)`` -> U ``(..., m, k)``, S ``(..., k)``, V ``(..., n, k)`` (some=True).
    """
    u, s, vh = linalg_svd(input, full_matrices=not some or not compute_uv)
    if not compute_uv:  # zero-filled (..., m, m) and (..., n, n), whatever ``some`` says
        xp = array_module(u._data)
        return SvdResult(
            Tensor(xp.zeros_like(u._data), _wrap=True), s, Tensor(xp.zeros_like(vh._data), _wrap=True)
        )
    return SvdResult(u, s, vh.mH if vh._data.dtype.kind == "c" else vh.mT)  # A = U diag(S) Vᴴ
