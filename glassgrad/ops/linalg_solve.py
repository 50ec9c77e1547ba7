"""The solve / inverse / determinant primitives of ``torch.linalg``, each with its hand-derived
backward: ``solve`` (A X = B), ``inv``, ``det``, ``logabsdet`` (the differentiable half of
``slogdet``) and ``lstsq`` (the minimum-norm least-squares solution, through the pseudo-inverse).
Batch dims broadcast as in matmul; the engine sums a broadcast input's gradient back to its shape.
Backward is first order. The wrappers (vectors as right-hand sides, ``left=False``, the ``*_ex``
forms, named tuples) live in ``glassgrad/linalg_solve.py``.

Singular matrices: ``solve``/``inv`` raise ``LinAlgError`` naming the first batch element whose
LU factorisation (with partial pivoting, as LAPACK's) meets an exactly zero pivot; ``lu_info``
gives that pivot's 1-based column per matrix (0 for none), as PyTorch's ``info``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.errors import DTypeError, LinAlgError, ShapeError
from glassgrad.meta_array import MetaArray, meta_array

__all__ = [
    "Solve", "Inv", "Det", "LogAbsDet", "Lstsq", "lu_info", "check_float", "check_square", "check_matrix", "mt",
    "lapack", "solve_forward", "inv_forward", "det_forward", "lstsq_forward",
]  # fmt: skip


def mt(x: Any) -> Any:
    """The matrix transpose of a batch: (..., m, n) -> (..., n, m) (a view). The one such helper of
    the linalg ops (``ops/linalg_decomp.py``, ``linalg_matfn.py`` and ``linalg_svd.py`` use it)."""
    return array_module(x).swapaxes(x, -1, -2)


def check_float(op: str, *arrays: Any, complex_ok: bool = False) -> None:
    """float32/float64 only (NumPy's and PyTorch's CPU linalg refuse the rest), one dtype for all;
    with ``complex_ok`` complex64/complex128 too (the ops that have a complex form)."""
    kinds, allowed = (
        ("fc", "a float32, float64, complex64 or complex128") if complex_ok else ("f", "a float32 or float64")
    )
    for a in arrays:
        if a.dtype.kind not in kinds or a.dtype.itemsize < 4:
            raise DTypeError(f"{op}: expected {allowed} input, got {a.dtype} (shape {a.shape})")
    if len({a.dtype for a in arrays}) > 1:
        got = " and ".join(f"{a.dtype} {a.shape}" for a in arrays)
        raise DTypeError(f"{op}: expected inputs of one dtype, got {got}")


def check_square(op: str, a: Any, name: str = "A") -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{op}: expected {name} to be square matrices (..., n, n), got shape {a.shape}")


def check_matrix(op: str, a: Any, square: bool = False, complex_ok: bool = False) -> None:
    """Refuse what LAPACK cannot take: fewer than 2 dims, non-square (if ``square``), not float32/64
    (nor complex64/128 when ``complex_ok``)."""
    if a.ndim < 2:
        raise ShapeError(f"{op}: expected a matrix or a batch of matrices (..., m, n), got shape {a.shape}")
    if square:
        check_square(op, a)
    check_float(op, a, complex_ok=complex_ok)


def lapack(op: str, fn: Any, a: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(a, ...)`` (a NumPy/CuPy linalg routine), its failure to converge (NaN or inf entries)
    raised as ``LinAlgError`` naming ``op`` and ``a``'s shape, as PyTorch's."""
    try:
        return fn(a, *args, **kwargs)
    except array_module(a).linalg.LinAlgError as e:
        raise LinAlgError(
            f"{op}: expected a finite matrix, got one of shape {a.shape} on which the algorithm did not "
            f"converge ({e})"
        ) from None


def lu_info(a: Any) -> Any:
    """Per matrix of ``a`` (..., n, n): the 1-based column of the first exactly-zero pivot of its
    LU factorisation with partial pivoting, or 0. Only matrices whose determinant is exactly 0 are
    factorised (a loop over the n columns, vectorised over those matrices)."""
    xp = array_module(a)
    if a.__class__ is MetaArray:  # no values: no pivot to find; the info is meta, as PyTorch's
        return meta_array(a.shape[:-2], np.int32)
    info = xp.zeros(a.shape[:-2], dtype=np.int32)
    sing = xp.linalg.det(a) == 0 if a.shape[-1] else xp.zeros(a.shape[:-2], dtype=bool)
    if not sing.any():
        return info
    u = a[sing].astype(a.dtype, copy=True)  # (s, n, n): the singular ones
    s, n = u.shape[0], u.shape[-1]
    first, rows = xp.zeros(s, dtype=np.int32), xp.arange(s)
    for j in range(n):
        p = j + xp.argmax(xp.abs(u[:, j:, j]), axis=1)  # the pivot row of each matrix
        u[rows, j], u[rows, p] = u[rows, p], u[rows, j].copy()  # swap rows j and p
        piv = u[:, j, j]
        first[(piv == 0) & (first == 0)] = j + 1
        f = u[:, j + 1 :, j] / xp.where(piv == 0, 1, piv)[:, None]  # (s, n-j-1); 0 below a zero pivot
        u[:, j + 1 :, j:] -= f[:, :, None] * u[:, None, j, j:]
    info[sing] = first
    return info


def singular_error(op: str, a: Any, *others: Any) -> LinAlgError:
    """The error for a singular input, naming the first bad batch element and its zero pivot."""
    info = lu_info(a)
    bad = array_module(a).argwhere(info > 0)
    where = ""
    if bad.size:
        idx = tuple(int(i) for i in bad[0])
        elem = f"batch element {idx}: " if idx else ""
        where = f" ({elem}pivot {int(info[idx])} of its LU factorisation is zero)"
    shapes = " and ".join(str(x.shape) for x in (a, *others))
    return LinAlgError(
        f"{op}: expected invertible matrices, got a singular one{where}; input shapes {shapes}"
    )


class Solve(Function):
    """X = A⁻¹ B, the solution of A X = B. Shape: A (..., n, n), B (..., n, k) -> X (..., n, k),
    batch dims broadcast.

    VJP: B̄ = A⁻ᵀ X̄ (one solve with Aᵀ), Ā = −B̄ Xᵀ.
    """

    name = "linalg_solve"
    meta_identity = True  # on meta, A's stand-in is the identity (zeros are singular)

    @staticmethod
    def forward(ctx, a, b):
        check_float("linalg.solve", a, b)
        return solve_forward(ctx, a, b)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved
        xp = array_module(a)
        gb = xp.linalg.solve(mt(a), g)  # A⁻ᵀ X̄, (..., n, k)
        ga = -(gb @ mt(x)) if ctx.needs_input_grad[0] else None  # (..., n, n)
        return ga, gb


def solve_forward(ctx: Any, a: Any, b: Any) -> Any:
    """X = A⁻¹ B once the dtypes are checked (``Solve``'s and its complex twin's), saving (A, X)."""
    check_square("linalg.solve", a)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ShapeError(f"linalg.solve: expected B (..., {a.shape[-1]}, k) for A {a.shape}, got {b.shape}")
    xp = array_module(a, b)
    try:
        x = xp.linalg.solve(a, b)  # a gufunc: batch dims broadcast
    except xp.linalg.LinAlgError:
        raise singular_error("linalg.solve", a, b) from None
    ctx.save_for_backward(a, x)
    return x


class Inv(Function):
    """Y = A⁻¹. Shape: (..., n, n) -> (..., n, n).

    VJP: Ā = −Yᵀ Ȳ Yᵀ (from dY = −Y dA Y).
    """

    name = "linalg_inv"
    meta_identity = True

    @staticmethod
    def forward(ctx, a):
        check_float("linalg.inv", a)
        return inv_forward(ctx, a)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        yt = mt(y)
        return -(yt @ g @ yt)


def inv_forward(ctx: Any, a: Any) -> Any:
    """A⁻¹ once the dtype is checked (``Inv``'s and its complex twin's), saving A⁻¹."""
    check_square("linalg.inv", a)
    xp = array_module(a)
    try:
        y = xp.linalg.inv(a)
    except xp.linalg.LinAlgError:
        raise singular_error("linalg.inv", a) from None
    ctx.save_for_backward(y)
    return y


def det_forward(ctx: Any, a: Any) -> Any:
    """det(A) once the dtype is checked (``Det``'s and its complex twin's), saving (A, det A)."""
    check_square("linalg.det", a)
    d = quietly(array_module(a).linalg.det, a)  # NaN entries give NaN, without a warning
    ctx.save_for_backward(a, d)
    return d


def cofactor(a: Any) -> Any:
    """The cofactor matrix adj(A)ᵀ (= det(A) A⁻ᵀ when A is invertible), defined for every A.

    From the SVD A = U S Vᵀ: adj(A)ᵀ = det(U) det(V) U adj(S) Vᵀ, where adj(S) is diagonal with
    entries ∏_{j≠i} s_j (prefix times suffix products: no division, so it is exact at rank n-1 and
    zero below). Shape: (..., n, n) -> (..., n, n).
    """
    xp = array_module(a)
    u, s, vh = xp.linalg.svd(a)
    ones = xp.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)  # ∏_{j<i} s_j
    after = xp.cumprod(xp.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]  # ∏_{j>i} s_j
    sign = xp.linalg.det(u) * xp.linalg.det(vh)  # ±1
    return sign[..., None, None] * (u * (before * after)[..., None, :]) @ vh


def _inverse_t(a: Any, d: Any) -> tuple[Any, Any]:
    """(A⁻ᵀ, mask of the singular matrices, those with d = 0): the identity stands in for each
    singular A, whose row the caller fills from ``cofactor``."""
    xp = array_module(a)
    sing = d == 0
    eye = xp.eye(a.shape[-1], dtype=a.dtype)
    inv_t = mt(xp.linalg.inv(xp.where(sing[..., None, None], eye, a)))  # A⁻ᵀ (identity where singular)
    return inv_t, sing


class Det(Function):
    """d = det(A). Shape: (..., n, n) -> (...). det of a 0x0 matrix is 1.

    VJP: Ā = ḡ adj(A)ᵀ, the cofactor matrix: ḡ d A⁻ᵀ for invertible A; for a singular A the SVD
    cofactor (non-zero at rank n-1, zero below), so the gradient is continuous there.
    """

    name = "linalg_det"
    node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, a):
        check_float("linalg.det", a)
        return det_forward(ctx, a)

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved
        inv_t, sing = _inverse_t(a, d)
        cof = d[..., None, None] * inv_t  # (..., n, n)
        if sing.any():
            cof[sing] = cofactor(a[sing])
        return g[..., None, None] * cof


class LogAbsDet(Function):
    """l = log|det A|, the ``logabsdet`` of ``slogdet``. Shape: (..., n, n) -> (...); -inf for a
    singular A.

    VJP: Ā = ḡ A⁻ᵀ. At a singular A it is ±inf (nan where the cofactor is 0), as PyTorch's.
    """

    name = "linalg_logabsdet"
    node_name = "LinalgSlogdetBackward0"  # PyTorch records slogdet as one node

    @staticmethod
    def forward(ctx, a):
        check_float("linalg.slogdet", a)
        check_square("linalg.slogdet", a)
        sign, logabs = array_module(a).linalg.slogdet(a)
        ctx.save_for_backward(a, sign)
        return logabs

    @staticmethod
    def backward(ctx, g):
        a, sign = ctx.saved
        inv_t, sing = _inverse_t(a, sign)
        if sing.any():
            inv_t[sing] = quietly(
                array_module(a).divide, cofactor(a[sing]), 0.0
            )  # adj(A)ᵀ / det A with det = 0
        return g[..., None, None] * inv_t


class Lstsq(Function):
    """X = A⁺ B, the minimum-norm least-squares solution of A X ≈ B (A⁺ the pseudo-inverse from
    the SVD, singular values at most ``rcond`` times the largest counted as zero).
    Shape: A (..., m, n), B (..., m, k) -> X (..., n, k), batch dims broadcast.

    VJP (constant rank, e.g. full rank, tall or wide), with R = B − A X, P = I − A⁺A and
    Z = A⁺ᵀ X̄: B̄ = Z, Ā = −Z Xᵀ + R (A⁺ Z)ᵀ + A⁺ᵀ X (P X̄)ᵀ.
    """

    name = "linalg_lstsq"

    @staticmethod
    def forward(ctx, a, b, rcond=None):
        check_float("linalg.lstsq", a, b)
        return lstsq_forward(ctx, a, b, rcond)

    @staticmethod
    def backward(ctx, g):
        a, b, pinv, x = ctx.saved
        z = mt(pinv) @ g  # A⁺ᵀ X̄, (..., m, k)
        ga = None
        if ctx.needs_input_grad[0]:
            r = b - a @ x  # (..., m, k)
            pg = g - pinv @ (a @ g)  # (I − A⁺A) X̄, (..., n, k)
            ga = -(z @ mt(x)) + r @ mt(pinv @ z) + mt(pinv) @ (x @ mt(pg))  # (..., m, n)
        return ga, z


def lstsq_forward(ctx: Any, a: Any, b: Any, rcond: float | None) -> Any:
    """``Lstsq``'s forward, real or complex (its complex twin's too): X = A⁺ B, A⁺ from the SVD.
    Shape: A (..., m, n), B (..., m, k) -> X (..., n, k)."""
    if a.ndim < 2 or b.ndim < 2 or b.shape[-2] != a.shape[-2]:
        raise ShapeError(
            f"linalg.lstsq: expected A (..., m, n) and B (..., m, k), got {a.shape} and {b.shape}"
        )
    xp = array_module(a, b)
    pinv = lapack("linalg.lstsq", xp.linalg.pinv, a, rcond=rcond_of(a, rcond))  # (..., n, m)
    x = pinv @ b  # (..., n, k)
    ctx.save_for_backward(a, b, pinv, x)
    return x


def rcond_of(a: Any, rcond: float | None) -> Any:
    """PyTorch's default cut-off: the dtype's epsilon times max(m, n)."""
    return np.finfo(a.dtype).eps * max(a.shape[-2:]) if rcond is None else rcond
