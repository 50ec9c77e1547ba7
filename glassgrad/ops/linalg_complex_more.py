"""More complex twins of the linalg primitives: ``linalg.inv``, ``det``, ``matrix_exp``,
``cholesky`` and ``solve_triangular`` on complex64/complex128 matrices, and the complex log
determinant ``ComplexLogDet`` (``slogdet``'s and ``logdet``'s complex form), with PyTorch's complex
gradients.

As in ``ops/linalg_complex.py``: ``Function.apply``'s complex gate runs a twin in place of the real
primitive when an operand is complex (``TWINS``), each keeps its real op's node name, and for a real
loss L and z = x + iy, ``z.grad = dL/dx + i dL/dy``. So each VJP is the real one with transposes
turned into conjugate transposes (ᴴ); for a holomorphic f (inv, det, log det, exp) it is
ḡ · conj(f'(A)).
"""

from __future__ import annotations

import math
from typing import Any

from glassgrad.autograd.complex_gate import TWINS
from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.function import node_name
from glassgrad.backend import array_module
from glassgrad.errors import LinAlgError
from glassgrad.ops.linalg import Cholesky, SolveTriangular, _tril_solve
from glassgrad.ops.linalg_complex import mh
from glassgrad.ops.linalg_matfn import MatrixExp, expm
from glassgrad.ops.linalg_solve import (
    Det,
    Inv,
    _inverse_t,
    check_float,
    check_square,
    det_forward,
    inv_forward,
)

__all__ = [
    "ComplexInv", "ComplexDet", "ComplexLogDet", "ComplexMatrixExp", "ComplexCholesky",
    "ComplexSolveTriangular", "cofactor_h", "complex_slogdet",
]  # fmt: skip


def cofactor_h(a: Any) -> Any:
    """adj(A)ᴴ, the conjugate of the cofactor matrix adj(A)ᵀ (= conj(det A) A⁻ᴴ for invertible A),
    defined for every complex A. Shape: (..., n, n) -> (..., n, n).

    From the SVD A = U S Vᴴ (U, V unitary): adj(A) = adj(Vᴴ) adj(S) adj(U) = det(Vᴴ) det(U) V adj(S) Uᴴ,
    so adj(A)ᴴ = conj(det U det Vᴴ) U adj(S) Vᴴ, adj(S) diagonal with entries ∏_{j≠i} s_j (prefix
    times suffix products, as ``ops/linalg_solve.cofactor``: exact at rank n-1, zero below).
    """
    xp = array_module(a)
    u, s, vh = xp.linalg.svd(a)
    ones = xp.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)  # ∏_{j<i} s_j
    after = xp.cumprod(xp.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]  # ∏_{j>i} s_j
    phase = xp.conj(xp.linalg.det(u) * xp.linalg.det(vh))  # |phase| = 1
    return phase[..., None, None] * (u * (before * after)[..., None, :]) @ vh


class ComplexInv(Inv):
    """Y = A⁻¹ for complex A. Shape: (..., n, n) -> (..., n, n); ``LinAlgError`` if singular.

    VJP: Ā = −Yᴴ Ȳ Yᴴ (from dY = −Y dA Y, holomorphic).
    """

    name = "complex_linalg_inv"
    node_name = node_name(Inv)
    complex_ok = True

    @staticmethod
    def forward(ctx, a):
        check_float("linalg.inv", a, complex_ok=True)
        return inv_forward(ctx, a)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        yh = mh(y)
        return -(yh @ g @ yh)


class ComplexDet(Det):
    """d = det(A) for complex A. Shape: (..., n, n) -> (...); 1 for a 0x0 matrix.

    VJP: Ā = ḡ adj(A)ᴴ (det is holomorphic with derivative the cofactor matrix adj(A)ᵀ):
    ḡ conj(d) A⁻ᴴ for invertible A, and at a singular A the SVD form of ``cofactor_h`` (non-zero at
    rank n-1, zero below), the limit of the gradient at nearby invertible matrices.
    """

    name = "complex_linalg_det"
    node_name = node_name(Det)
    complex_ok = True

    @staticmethod
    def forward(ctx, a):
        check_float("linalg.det", a, complex_ok=True)
        return det_forward(ctx, a)

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved
        xp = array_module(a)
        inv_t, sing = _inverse_t(a, d)  # A⁻ᵀ, the identity standing in for a singular A
        cof = xp.conj(d[..., None, None] * inv_t)  # adj(A)ᴴ = conj(d A⁻ᵀ), (..., n, n)
        if sing.any():
            cof[sing] = cofactor_h(a[sing])
        return g[..., None, None] * cof


class ComplexLogDet(Function):
    """z = log det A, the principal complex logarithm, for complex A: log|det A| + i arg(det A)
    (``logdet``'s complex value; ``slogdet`` takes logabsdet = Re z and sign = exp(i Im z) from
    it, so that sign, PyTorch's det / |det|, carries its gradient). Shape: (..., n, n) -> (...);
    at a singular A, -inf + nan·i (the argument of 0 is undefined), as PyTorch's ``logdet``.

    VJP: Ā = ḡ A⁻ᴴ (log det is holomorphic with derivative A⁻ᵀ); at a singular A it is NaN, as
    PyTorch's.
    """

    name = "complex_linalg_logdet"
    node_name = "LinalgSlogdetBackward0"  # PyTorch records slogdet as one node
    complex_ok = True

    @staticmethod
    def forward(ctx, a):
        check_float("linalg.slogdet", a, complex_ok=True)
        check_square("linalg.slogdet", a)
        xp = array_module(a)
        sign, logabs = xp.linalg.slogdet(a)  # sign: complex, |sign| = 1, or 0 when singular
        z = xp.empty(sign.shape, dtype=a.dtype)
        z.real = logabs
        z.imag = xp.where(sign == 0, math.nan, xp.angle(sign))
        ctx.save_for_backward(a, sign)
        return z

    @staticmethod
    def backward(ctx, g):
        a, sign = ctx.saved
        xp = array_module(a)
        inv_t, sing = _inverse_t(a, sign)
        inv_h = xp.conj(inv_t)  # A⁻ᴴ, (..., n, n)
        if sing.any():
            inv_h[sing] = complex(math.nan, math.nan)  # adj(A)ᴴ / 0: PyTorch's NaN
        return g[..., None, None] * inv_h


class ComplexMatrixExp(MatrixExp):
    """Z = exp(A) for complex A. Shape: (..., n, n) -> (..., n, n).

    VJP: Ā = L(Aᴴ, Z̄), the upper-right block of exp([[Aᴴ, Z̄], [0, Aᴴ]]): for the holomorphic exp,
    the adjoint of the Fréchet derivative L(A, ·) under Re<X, Y> = Re tr(Xᴴ Y) is L(Aᴴ, ·).
    """

    name = "complex_matrix_exp"
    node_name = node_name(MatrixExp)
    complex_ok = True

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        xp = array_module(a)
        n = a.shape[-1]
        ah = mh(a)
        big = xp.zeros(a.shape[:-2] + (2 * n, 2 * n), dtype=a.dtype)  # (..., 2n, 2n)
        big[..., :n, :n] = ah
        big[..., n:, n:] = ah
        big[..., :n, n:] = g
        return expm(xp, big)[..., :n, n:]


def hermitian_from_lower(xp: Any, a: Any) -> Any:
    """The Hermitian matrix LAPACK's potrf reads from A's lower triangle: its strict lower triangle,
    that triangle's conjugate above, and the real part of the diagonal. (..., n, n) -> (..., n, n)."""
    low = xp.tril(a, -1)
    diag = xp.diagonal(a, axis1=-2, axis2=-1).real
    return low + mh(low) + diag[..., None, :] * xp.eye(a.shape[-1], dtype=a.dtype)


class ComplexCholesky(Cholesky):
    """L = cholesky(A): the lower-triangular L with real positive diagonal and L Lᴴ = A, for
    Hermitian positive-definite complex A; only A's lower triangle (and its diagonal's real part)
    is read. Shape: (..., n, n) -> (..., n, n).

    VJP (PyTorch's ``cholesky_backward``, Murray 2016 with ᴴ): P = tril(Lᴴ Ḡ),
    M = (P + tril(P, -1)ᴴ) / 2, Ā = L⁻ᴴ M L⁻¹. (M's diagonal may have an imaginary part: Ā is then
    Hermitian plus i times a Hermitian matrix, whose part no Hermitian change of A sees.)
    """

    name = "complex_cholesky"
    node_name = node_name(Cholesky)
    complex_ok = True

    @staticmethod
    def forward(ctx, a, upper=False):
        check_float("cholesky", a, complex_ok=True)
        check_square("cholesky", a)
        xp = array_module(a)
        a = mh(a) if upper else a  # A's upper triangle, read as Aᴴ's lower one
        try:
            low = xp.linalg.cholesky(hermitian_from_lower(xp, a))
        except xp.linalg.LinAlgError as e:
            raise LinAlgError(
                f"cholesky: expected a positive-definite matrix of shape {a.shape} ({a.dtype}), got one "
                f"that is not ({e})"
            ) from None
        ctx.save_for_backward(low)
        return low

    @staticmethod
    def backward(ctx, g):
        (low,) = ctx.saved
        xp = array_module(low)
        p = xp.tril(mh(low) @ g)  # (..., n, n)
        m = 0.5 * (p + mh(xp.tril(p, -1)))
        low_h = mh(low)  # upper triangular
        y = _tril_solve(xp, low_h, m, upper=True)  # L⁻ᴴ M
        return mh(_tril_solve(xp, low_h, mh(y), upper=True))  # Y L⁻¹ = (L⁻ᴴ Yᴴ)ᴴ


class ComplexSolveTriangular(SolveTriangular):
    """X = A⁻¹ B for triangular complex A (lower unless ``upper``; only that triangle is read), B of
    A's dtype (the wrapper promotes a real or narrower operand, as PyTorch's result type).
    Shape: (..., n, n), (..., n, k) -> (..., n, k), batch dims broadcast.

    VJP: B̄ = A⁻ᴴ X̄ (a solve with the conjugate transposed triangle), Ā = −B̄ Xᴴ on A's triangle.
    """

    name = "complex_solve_triangular"
    node_name = node_name(SolveTriangular)
    complex_ok = True

    @staticmethod
    def forward(ctx, a, b, upper=False):
        check_float("linalg.solve_triangular", a, b, complex_ok=True)
        return SolveTriangular.forward(ctx, a, b, upper=upper)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved
        xp = array_module(a)
        upper = ctx.attrs.get("upper", False)
        a_h = mh(xp.broadcast_to(a, x.shape[:-2] + a.shape[-2:]))
        gb = _tril_solve(xp, a_h, g, not upper)  # A⁻ᴴ X̄: Aᴴ has the other triangle
        ga = None
        if ctx.needs_input_grad[0]:
            ga = -(gb @ mh(x))
            ga = xp.triu(ga) if upper else xp.tril(ga)
        return ga, gb


def complex_slogdet(a: Any) -> tuple[Any, Any]:
    """``(sign, logabsdet)`` of a complex Tensor ``a`` (..., n, n) from z = log det A: logabsdet =
    Re z (real, -inf at a singular A) and sign = exp(i Im z) = det / |det| (complex, 0 at a singular
    A), both carrying their gradients, as PyTorch's."""
    from glassgrad.ops.complex import polar
    from glassgrad.ops.elementwise import where
    from glassgrad.tensor import Tensor

    z = ComplexLogDet.apply(a)
    sing = z._data.real == -math.inf  # (...,): singular, Im z is NaN there
    angle = where(Tensor(sing, _wrap=True), 0.0, z.imag)  # a finite angle: no NaN into the gradient
    return polar(Tensor((~sing).astype(angle._data.dtype), _wrap=True), angle), z.real


TWINS[Inv] = ComplexInv
TWINS[Det] = ComplexDet
TWINS[MatrixExp] = ComplexMatrixExp
TWINS[Cholesky] = ComplexCholesky
TWINS[SolveTriangular] = ComplexSolveTriangular
