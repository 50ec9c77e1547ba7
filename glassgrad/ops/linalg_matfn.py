"""Matrix functions as primitives: the matrix exponential (``MatrixExp``, scaling and squaring with
a degree-13 Padé approximant) and the pseudo-inverse (``Pinv``, through the SVD or, for symmetric
input, the eigendecomposition). Batch dims lead, as in ``torch.linalg``; backward is first-order.
"""

from __future__ import annotations

import math
from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.ops.linalg_solve import lapack, mt

__all__ = ["MatrixExp", "Pinv", "expm"]

# Padé [13/13] for exp: p(X) = Σ_j c_j X^j, q(X) = p(-X), with
# c_j = (26 - j)! 13! / (26! j! (13 - j)!). exp(X) ≈ q(X)⁻¹ p(X) is accurate to double precision
# for ||X||₁ <= 5.37 (Higham, 2005); larger X is scaled by 2^-s and the result squared s times.
_PADE = [
    math.factorial(26 - j)
    * math.factorial(13)
    / (math.factorial(26) * math.factorial(j) * math.factorial(13 - j))
    for j in range(14)
]
_THETA13 = 5.371920351148152


def expm(xp: Any, a: Any) -> Any:
    """exp(A) for a batch of square matrices (..., n, n), in A's dtype."""
    wide = {"f": "d", "F": "D"}.get(a.dtype.char)  # float32/complex64: computed in 64 bits, rounded once:
    if wide is not None:  # the squarings' float32 rounding grew to 1e-5 (PyTorch's kernel: 1e-6)
        return expm(xp, a.astype(wide)).astype(a.dtype)
    n = a.shape[-1]
    if n == 0 or a.size == 0:
        return a.copy()
    norm1 = xp.abs(a).sum(-2).max(-1)  # (...,) the 1-norm: the largest column sum
    ratio = quietly(xp.log2, xp.maximum(norm1 / _THETA13, 1.0))
    steps = xp.clip(xp.nan_to_num(xp.ceil(ratio), nan=0.0, posinf=64.0), 0, 64).astype(int)  # (...,)
    x = a * (0.5**steps)[..., None, None].astype(a.dtype)  # each matrix scaled by its own 2^-s
    c, eye = _PADE, xp.eye(n, dtype=a.dtype)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    odd = x @ (x6 @ (c[13] * x6 + c[11] * x4 + c[9] * x2) + c[7] * x6 + c[5] * x4 + c[3] * x2 + c[1] * eye)
    even = x6 @ (c[12] * x6 + c[10] * x4 + c[8] * x2) + c[6] * x6 + c[4] * x4 + c[2] * x2 + c[0] * eye
    out = quietly(xp.linalg.solve, even - odd, even + odd)  # q(X)⁻¹ p(X): p = even + odd, q = even - odd
    for i in range(int(steps.max())):  # square back: only the matrices that still need it
        out = xp.where((steps > i)[..., None, None], quietly(xp.matmul, out, out), out)  # may overflow to inf
    return out


class MatrixExp(Function):
    """Z = exp(A) = Σ_k A^k / k!. Shape: (..., n, n) -> (..., n, n).

    VJP: Ā is the upper-right block of exp([[Aᵀ, Z̄], [0, Aᵀ]]): the block-triangular identity
    gives the Fréchet derivative L(A, E) as that block of exp([[A, E], [0, A]]), and
    <Z̄, L(A, E)> = <L(Aᵀ, Z̄), E>.
    """

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return expm(array_module(a), a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        xp = array_module(a)
        n = a.shape[-1]
        at = mt(a)
        big = xp.zeros(a.shape[:-2] + (2 * n, 2 * n), dtype=a.dtype)  # (..., 2n, 2n)
        big[..., :n, :n] = at
        big[..., n:, n:] = at
        big[..., :n, n:] = g
        return expm(xp, big)[..., :n, n:]


def _adjoint(x: Any) -> Any:
    """The transpose of a batch of matrices, conjugated when complex (``Pinv``'s and its twin's ᵀ/ᴴ)."""
    return array_module(x).conj(mt(x)) if x.dtype.kind == "c" else mt(x)


class Pinv(Function):
    """P = A⁺, the Moore-Penrose pseudo-inverse: V diag(1/S) Uᵀ over the singular values
    S > max(atol, rtol * S_max) (the others count as 0); with ``hermitian`` the eigenvalues of
    symmetric A (by |L|) stand in for S. Shape: (..., m, n) -> (..., n, m); ``atol``/``rtol``
    are floats or arrays broadcasting against the batch dims. (Complex A: its twin,
    ``linalg_complex_pinv.py``, runs this with ᵀ read as ᴴ.)

    VJP (rank held fixed): Ā = -Pᵀ P̄ Pᵀ + (I - A P) P̄ᵀ P Pᵀ + Pᵀ P P̄ᵀ (I - P A).
    """

    @staticmethod
    def forward(ctx, a, atol=0.0, rtol=0.0, hermitian=False):
        xp = array_module(a)
        if hermitian:
            w, v = lapack("linalg.pinv", xp.linalg.eigh, a)
            size, left, right = xp.abs(w), v, v  # A = V diag(w) Vᵀ (w real)
        else:
            u, w, vh = lapack("linalg.pinv", xp.linalg.svd, a, full_matrices=False)
            size, left, right = w, _adjoint(vh), u  # A⁺ = V diag(1/S) Uᵀ
        real = size.dtype  # the tolerances compare in the (real) dtype of the singular values
        biggest = size.max(-1, initial=0.0)  # (...,)
        cut = xp.maximum(xp.asarray(atol, dtype=real), xp.asarray(rtol, dtype=real) * biggest)
        keep = size > cut[..., None]
        inv = xp.where(keep, 1.0 / xp.where(keep, w, 1.0), 0.0).astype(a.dtype)
        p = (left * inv[..., None, :]) @ _adjoint(right)  # (..., n, m)
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, g):
        a, p = ctx.saved
        xp = array_module(a)
        pt, gt = _adjoint(p), _adjoint(g)  # (..., m, n)
        m, n = a.shape[-2:]
        left = xp.eye(m, dtype=a.dtype) - a @ p  # I - A P, (..., m, m)
        right = xp.eye(n, dtype=a.dtype) - p @ a  # I - P A, (..., n, n)
        return -(pt @ g @ pt) + left @ (gt @ (p @ pt)) + (pt @ p) @ gt @ right
