"""``torch.svd_lowrank`` and ``torch.pca_lowrank``: a truncated SVD by random projection
(Halko, Martinsson and Tropp 2009, Algorithms 4.4 and 5.1), built from differentiable ops.

For ``A`` of shape ``(*, m, n)`` and a rank guess ``q``: a Gaussian ``(n, q)`` matrix ``R`` gives
``Y = A R``, whose orthonormal basis ``Q`` (QR) spans nearly all of ``A``'s column space when
``A``'s rank is at most ``q``; ``niter`` power iterations (``Q <- qr(A Q_h)``, ``Q_h = qr(A^H Q)``)
sharpen it where the singular values decay slowly. The small matrix ``B = Q^H A`` (``(q, n)``)
has an exact SVD ``B = U_B S V^H``, and ``A ~= (Q U_B) S V^H``. For a matrix of rank at most
``q`` the result is its exact SVD up to rounding; otherwise an approximation of its top ``q``
singular triplets. The draws come from glassgrad's generator (``manual_seed`` repeats them).

Example:
    >>> import glassgrad as gg
    >>> _ = gg.manual_seed(0)
    >>> a = gg.tensor([[3.0, 0.0], [0.0, 2.0], [0.0, 0.0]], dtype=gg.float64)
    >>> u, s, v = gg.svd_lowrank(a, q=2)
    >>> [round(x, 6) for x in s.tolist()], tuple(u.shape), tuple(v.shape)
    ([3.0, 2.0], (3, 2), (2, 2))
"""

from __future__ import annotations

import operator
from typing import Any

from glassgrad import linalg
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.factories import randn
from glassgrad.sparse_tensor import strided
from glassgrad.tensor import Tensor

__all__ = ["pca_lowrank", "svd_lowrank"]


def _count(op: str, name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be int, not bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}") from None
    if value < 0:
        raise ValueError(f"{op}: expected {name} to be a non-negative int, got {value}")
    return value


def _matrix(op: str, a: Any) -> Tensor:
    if not isinstance(a, Tensor):
        raise TypeError(f"{op}(): expected A as a Tensor, got {type(a).__name__}")
    if a.dim() < 2:
        raise ShapeError(f"{op}: expected A of shape (*, m, n), got shape {tuple(a.shape)}")
    if not (a.dtype.is_floating_point or a.dtype.is_complex):
        raise DTypeError(f"{op}: expected a floating point or complex A, got {a.dtype}")
    if a.layout is not strided:  # a sparse matrix: its dense form (PyTorch multiplies it sparse)
        a = a.to_dense()
    return a


def _mh(x: Tensor) -> Tensor:
    return x.transpose(-2, -1).conj() if x.dtype.is_complex else x.transpose(-2, -1)


def _basis(a: Tensor, q: int, niter: int) -> Tensor:
    """An orthonormal ``(*, m, k)`` basis of nearly all of ``a``'s column space (Algorithm 4.4)."""
    r = randn(a.shape[-1], q, dtype=a.dtype)  # (n, q): the random test matrix
    basis = linalg.qr(a @ r).Q
    for _ in range(niter):  # power iterations: each multiplies by (A A^H) once, re-orthonormalised
        basis = linalg.qr(a @ linalg.qr(_mh(a) @ basis).Q).Q
    return basis


def svd_lowrank(
    A: Tensor, q: int | None = 6, niter: int = 2, M: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """``U, S, V`` with ``A - M ~= U diag(S) V^H`` for the top ``q`` singular values.

    Args:
        A: the matrices; q: the rank guess (default 6); niter: power iterations (default 2);
        M: subtracted from ``A`` first, broadcast to its shape (e.g. the column means).

    Shape:
        A: ``(*, m, n)``; returns U ``(*, m, k)``, S ``(*, k)``, V ``(*, n, k)`` with
        ``k = min(q, m, n)``.
    """
    a = _matrix("svd_lowrank", A)
    q = _count("svd_lowrank", "q", 6 if q is None else q)
    niter = _count("svd_lowrank", "niter", niter)
    if M is not None:
        if not isinstance(M, Tensor):
            raise TypeError(f"svd_lowrank(): expected M as a Tensor or None, got {type(M).__name__}")
        try:
            mean = M.expand(a.shape)
        except (ShapeError, RuntimeError, ValueError):
            raise ShapeError(
                f"svd_lowrank: expected M broadcastable to A's shape {tuple(a.shape)}, got shape {tuple(M.shape)}"
            ) from None
        a = a - mean
    basis = _basis(a, q, niter)  # (*, m, k)
    u_small, s, vh = linalg.svd(_mh(basis) @ a, full_matrices=False)  # B = Q^H A: (*, k, n)
    k = min(q, *a.shape[-2:])
    return (basis @ u_small)[..., :k], s[..., :k], _mh(vh)[..., :k]


def pca_lowrank(
    A: Tensor, q: int | None = None, center: bool = True, niter: int = 2
) -> tuple[Tensor, Tensor, Tensor]:
    """``svd_lowrank`` of ``A`` with each column's mean removed (``center=True``): V's columns are
    the principal directions, ``S**2 / (m - 1)`` the variances along them.

    Shape:
        A: ``(*, m, n)``; returns U ``(*, m, q)``, S ``(*, q)``, V ``(*, n, q)``; q defaults to
        ``min(6, m, n)`` and may not exceed ``min(m, n)``.
    """
    a = _matrix("pca_lowrank", A)
    m, n = a.shape[-2:]
    q = min(6, m, n) if q is None else _count("pca_lowrank", "q", q)
    if q > min(m, n):
        raise ValueError(
            f"pca_lowrank: expected q <= min(m, n) = {min(m, n)} for A of shape {tuple(a.shape)}, got q={q}"
        )
    niter = _count("pca_lowrank", "niter", niter)
    if not isinstance(center, bool):
        raise TypeError(f"pca_lowrank(): argument 'center' must be bool, not {type(center).__name__}")
    if center:
        a = a - a.mean(dim=-2, keepdim=True)
    return svd_lowrank(a, q, niter)
