# ruff: noqa: A002 - PyTorch's parameter names (input) are the API
"""``glassgrad.linalg``'s solve / inverse / determinant family and its ``torch.*`` spellings, on top
of the primitives of ``ops/linalg_solve.py``: ``solve`` (a vector or matrix B, ``left=False``),
``solve_ex``, ``inv``/``inv_ex``, ``det``, ``slogdet``/``logdet``, ``matrix_power``, ``lstsq``,
``cholesky_ex``, ``vander``, ``tensorsolve``/``tensorinv``, ``cholesky_solve``/``cholesky_inverse``.
Everything here composes primitives; the ``*_ex`` forms return PyTorch's int32 ``info``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.backend import array_module, quietly
from glassgrad.errors import ArgumentError, LinAlgError, ShapeError
from glassgrad.meta_array import MetaArray, on_device_of
from glassgrad.operand_errors import scalar_int
from glassgrad.ops import linalg as _tri
from glassgrad.ops import linalg_complex as _linalg_complex  # noqa: F401 - solve's complex twin, made at import
from glassgrad.ops import linalg_complex_pinv as _linalg_complex_pinv  # noqa: F401 - lstsq's complex twin
from glassgrad.ops.carried import carried
from glassgrad.ops.composite import with_out
from glassgrad.ops.elementwise import where
from glassgrad.ops.linalg_complex_more import ComplexLogDet, complex_slogdet  # (other twins too, at import)
from glassgrad.ops.linalg_solve import (
    Det,
    Inv,
    LogAbsDet,
    Lstsq,
    Solve,
    check_float,
    check_square,
    lu_info,
    rcond_of,
    singular_error,
)
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor

__all__ = [
    "solve", "solve_ex", "inv", "inv_ex", "det", "slogdet", "logdet", "matrix_power", "lstsq", "cholesky_ex",
    "cholesky_solve", "cholesky_inverse", "LinAlgError",
]  # fmt: skip

#: PyTorch's type names (``torch.slogdet`` gives ``slogdet``, ``linalg.slogdet`` ``linalg_slogdet``).
SolveExResult = return_type("linalg_solve_ex", ["result", "info"])
InvExResult = return_type("linalg_inv_ex", ["inverse", "info"])
SlogdetResult = return_type("slogdet", ["sign", "logabsdet"])
LinalgSlogdetResult = return_type("linalg_slogdet", ["sign", "logabsdet"])  # torch.linalg.slogdet's
LstsqResult = return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
CholeskyExResult = return_type("linalg_cholesky_ex", ["L", "info"])


def _const(arr: Any) -> Tensor:
    return Tensor(arr, _wrap=True)


def _any(bad: Any) -> bool:
    """Whether any matrix is flagged; on meta none is (no values: PyTorch's meta kernels check none)."""
    return bad.__class__ is not MetaArray and bool(bad.any())


def _vector_rhs(A: Tensor, B: Tensor) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) if it is 1-D, or if its shape is A's without the last dim."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A: Tensor, B: Tensor, *, left: bool = True, out: Any = None) -> Tensor:
    """X with A X = B (``left=False``: X A = B), for invertible A; raises ``LinAlgError`` if singular.
    A and B may be complex (of one dtype, as PyTorch's); their gradients are PyTorch's.

    Shape:
        A (..., n, n), B (..., n, k) or a vector B (..., n) -> X of B's shape; batch dims broadcast.
    """
    vec = _vector_rhs(A, B)
    if vec and not left:  # PyTorch's refusal: X A = b for a vector b is B / A.squeeze(-1)
        raise ShapeError(
            f"linalg.solve: expected a matrix B (..., k, n) for left=False, got the vector {B.shape}"
        )
    b = B.unsqueeze(-1) if vec else B  # (..., n) -> (..., n, 1)
    if left:
        x = Solve.apply(A, b)
    else:  # X A = B  <=>  Aᵀ Xᵀ = Bᵀ
        if A.ndim >= 2 and b.shape[-1] != A.shape[-1]:
            raise ShapeError(f"linalg.solve: expected B (..., k, {A.shape[-1]}) for XA = B, got {B.shape}")
        x = Solve.apply(A.mT, b.mT).mT
    return with_out(x.squeeze(-1) if vec else x, out, "linalg.solve")


def _masked(result: Tensor, bad: Any, batch_dims: int) -> Tensor:
    """``result`` with the matrices flagged in ``bad`` (A's batch shape) set to NaN (nan + nan·i
    when complex, as PyTorch's)."""
    nan = complex(math.nan, math.nan) if result._data.dtype.kind == "c" else math.nan
    return where(bad.reshape(bad.shape + (1,) * batch_dims), nan, result)


def _safe(A: Tensor, bad: Any) -> Tensor:
    """A with its flagged matrices replaced by the identity (so that a primitive can run on it)."""
    eye = array_module(A._data).eye(A.shape[-1], dtype=A._data.dtype)
    return where(bad[..., None, None], _const(eye), A)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> SolveExResult:
    """``(result, info)``: ``solve`` that does not raise for a singular A unless ``check_errors``;
    ``info`` (int32, the batch shape) is the 1-based column of the first zero pivot, else 0. The
    result for a singular matrix is unspecified (NaN here)."""
    check_float("linalg.solve_ex", A._data, B._data, complex_ok=True)
    check_square("linalg.solve_ex", A._data)
    info = lu_info(A._data)
    bad = info > 0
    if check_errors and _any(bad):
        raise singular_error("linalg.solve_ex", A._data, B._data)
    x = solve(_safe(A, bad) if _any(bad) else A, B, left=left)
    mat = 1 if _vector_rhs(A, B) else 2
    if _any(bad):
        x = _masked(x, bad, mat)
    info = array_module(info).broadcast_to(info, x.shape[: x.ndim - mat]).copy()
    return SolveExResult(x, _const(info))


def inv(A: Tensor, *, out: Any = None) -> Tensor:
    """A⁻¹ for invertible A; raises ``LinAlgError`` if singular.

    Shape:
        (..., n, n) -> (..., n, n)
    """
    return with_out(Inv.apply(A), out, "linalg.inv")


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvExResult:
    """``(inverse, info)``: ``inv`` that does not raise for a singular A unless ``check_errors``
    (its inverse is then NaN; ``info`` as in ``solve_ex``)."""
    check_float("linalg.inv_ex", A._data, complex_ok=True)
    check_square("linalg.inv_ex", A._data)
    info = lu_info(A._data)
    bad = info > 0
    if check_errors and _any(bad):
        raise singular_error("linalg.inv_ex", A._data)
    y = _masked(Inv.apply(_safe(A, bad)), bad, 2) if _any(bad) else Inv.apply(A)
    return InvExResult(y, _const(info))


def det(A: Tensor, *, out: Any = None) -> Tensor:
    """det(A); 1 for a 0x0 matrix. Its gradient is the cofactor matrix, also at a singular A.

    Shape:
        (..., n, n) -> (...)
    """
    return with_out(Det.apply(A), out, "linalg.det")


def slogdet(A: Tensor) -> SlogdetResult:
    """``(sign, logabsdet)`` with det(A) = sign · exp(logabsdet); sign is 0 and logabsdet -inf for
    a singular A. A real A's sign is recorded with no gradient, as PyTorch's; a complex A's, det / |det|, has one.

    Shape:
        (..., n, n) -> (...), (...)
    """
    if A._data.dtype.kind == "c":
        return SlogdetResult(*complex_slogdet(A))
    logabs = LogAbsDet.apply(A)
    xp = array_module(A._data)
    sign = xp.asarray(xp.linalg.slogdet(A._data)[0], dtype=A._data.dtype)
    return SlogdetResult(carried(sign, A, node="LinalgSlogdetBackward0"), logabs)


def linalg_slogdet(A: Tensor) -> LinalgSlogdetResult:
    """``torch.linalg.slogdet``: :func:`slogdet`'s result, named as PyTorch names it there
    (``return_types.linalg_slogdet``; ``torch.slogdet`` gives ``return_types.slogdet``)."""
    return LinalgSlogdetResult(*slogdet(A))


def logdet(input: Tensor) -> Tensor:
    """log det(A): nan for a negative determinant (with a zero gradient), -inf for a singular A.
    For complex A the principal complex logarithm log|det A| + i arg(det A) (-inf + nan·i when
    singular), as PyTorch's.

    Shape:
        (..., n, n) -> (...)
    """
    if input._data.dtype.kind == "c":
        return ComplexLogDet.apply(input)
    sign, logabs = slogdet(input)
    return where(sign._data < 0, math.nan, logabs)


def matrix_power(A: Tensor, n: int, *, out: Any = None) -> Tensor:
    """A to the integer power n by repeated squaring; A⁰ = I, negative n through ``inv``.

    Shape:
        (..., m, m) -> (..., m, m)
    """
    # an int, a NumPy integer or a 0-d integer tensor, as PyTorch's parser reads an int (not a bool)
    if (m := scalar_int(n)) is None:
        raise TypeError(f"linalg.matrix_power: expected an integer power n, got {n!r}")
    check_square("linalg.matrix_power", A._data)
    if m == 0:
        xp = array_module(A._data)
        eye = xp.eye(A.shape[-1], dtype=A._data.dtype)
        res = where(xp.ones(A.shape, dtype=bool), _const(eye), A)  # I, with a zero gradient for A
    else:
        base, k, res = (inv(A) if m < 0 else A), abs(m), None
        while k:  # binary exponentiation: about 2 log2(|n|) products
            if k & 1:
                res = base if res is None else res @ base
            k >>= 1
            if k:
                base = base @ base
        res = res.clone() if res is A else res
    return with_out(res, out, "linalg.matrix_power")


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> LstsqResult:
    """The minimum-norm least-squares solution of A X ≈ B, with PyTorch's extras per ``driver``
    (default 'gelsy'): ``rank`` (int64, not for 'gels'), ``singular_values`` ('gelsd', 'gelss'),
    ``residuals`` (squared column norms of A X − B; not for 'gelsy', only when m > n and A has
    full rank); the rest are empty tensors. B of ``A.ndim - 1`` dims is a batch of vectors.

    Shape:
        A (..., m, n), B (..., m, k) or (..., m) -> solution (..., n, k) or (..., n).
    """
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise ArgumentError(
            f"linalg.lstsq: expected driver to be one of gels, gelsy, gelsd, gelss, got {driver!r}"
        )
    if A.ndim < 2 or not 0 <= A.ndim - B.ndim <= 1:
        raise ShapeError(
            f"linalg.lstsq: expected A (..., m, n) and B (..., m, k) or (..., m), got {A.shape} and {B.shape}"
        )
    vec = B.ndim == A.ndim - 1
    b = B.unsqueeze(-1) if vec else B  # (..., m) -> (..., m, 1)
    a = A._data
    check_float("linalg.lstsq", a, B._data, complex_ok=True)  # before the dtype's epsilon is read
    cut = _lstsq_rcond(driver, a, rcond)
    x = Lstsq.apply(A, b, rcond=cut)
    xp = array_module(a)
    m, n = a.shape[-2:]
    s = xp.linalg.svd(a, compute_uv=False)  # (..., min(m, n))
    rank = xp.zeros(a.shape[:-2], dtype=np.int64)
    if s.shape[-1]:
        rank = (s > cut * s[..., :1]).sum(-1).astype(np.int64)
    real = s.dtype  # the residuals and singular values are real, a complex A's too
    empty = _const(xp.zeros(0, dtype=real))
    residuals = carried(xp.zeros(0, dtype=real), A, B, node="LinalgLstsqBackward0")
    if driver != "gelsy" and m > n and (driver == "gels" or bool((rank == n).all())):
        residuals = ((A @ x - b).abs() ** 2).sum(-2)  # (..., k)
    return LstsqResult(
        x.squeeze(-1) if vec else x,
        residuals,
        _const(xp.zeros(0, dtype=np.int64) if driver == "gels" else rank),
        _const(s) if driver in ("gelsd", "gelss") else empty,
    )


def _lstsq_rcond(driver: str, a: Any, rcond: float | None) -> float:
    """The relative cut-off on the singular values that PyTorch's LAPACK driver applies for
    ``rcond``: 'gels' ignores it (the default's); 'gelsd' (xLALSD) reads one outside (0, 1) as the
    machine precision, so rcond=1 keeps every singular value; 'gelss' reads a negative one so.
    A negative one for 'gelsy' keeps every non-zero singular value (no division by zero)."""
    eps = float(np.finfo(a.dtype).eps) / 2  # LAPACK's xLAMCH('Epsilon'): the unit roundoff
    if rcond is None or driver == "gels":
        return rcond_of(a, None)
    if driver == "gelsd" and not 0 < rcond < 1:
        return eps
    if rcond < 0:
        return eps if driver == "gelss" else 0.0
    return rcond


def _cholesky_partial(a: Any) -> tuple[Any, Any]:
    """The column-by-column Cholesky of ``a`` (its lower triangle), vectorised over the batch:
    (L, info) with info the order of the first leading minor that is not positive-definite (0 if
    none); a failed matrix keeps the columns before that one, zeros after."""
    xp = array_module(a)
    n = a.shape[-1]
    low = xp.zeros_like(a)
    info = xp.zeros(a.shape[:-2], dtype=np.int32)
    for j in range(n):
        d = a[..., j, j].real - (xp.abs(low[..., j, :j]) ** 2).sum(-1)  # real, also for complex A
        info = xp.where(~(d > 0) & (info == 0), j + 1, info).astype(np.int32)
        ok = info == 0
        root = xp.sqrt(xp.where(ok, d, 1))
        low[..., j, j] = xp.where(ok, root, 0)
        dot = (low[..., j + 1 :, :j] @ xp.conj(low[..., j, :j, None]))[..., 0]  # Σ_k L_ik conj(L_jk)
        col = (a[..., j + 1 :, j] - dot) / root[..., None]
        low[..., j + 1 :, j] = xp.where(ok[..., None], col, 0)
    return low, info


def _lapack_refused(a: Any, info: Any) -> Any:
    """``info`` with the matrices LAPACK refuses but the partial factor accepted (entries near the
    float's underflow) given the order of the first leading minor LAPACK refuses."""
    xp = array_module(a)

    def refused(m: Any) -> bool:
        try:
            xp.linalg.cholesky(xp.tril(m) + xp.swapaxes(xp.tril(m, -1), -1, -2))
        except np.linalg.LinAlgError:
            return True
        return False

    mats, flat = a.reshape((-1,) + a.shape[-2:]), info.reshape(-1).copy()
    for i in range(flat.shape[0]):
        if flat[i] == 0 and refused(mats[i]):
            flat[i] = next(k for k in range(1, a.shape[-1] + 1) if refused(mats[i][:k, :k]))
    return flat.reshape(info.shape)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> CholeskyExResult:
    """``(L, info)``: the Cholesky factor (``upper``: U, read from A's upper triangle) without
    raising for a matrix that is not positive-definite unless ``check_errors``; ``info`` (int32)
    is the order of the first leading minor that is not, else 0. The factor of such a matrix is
    partial (unspecified in PyTorch).

    Shape:
        (..., n, n) -> (..., n, n), info (...)
    """
    check_float("linalg.cholesky_ex", A._data, complex_ok=True)
    check_square("linalg.cholesky_ex", A._data)
    read = A._data.swapaxes(-1, -2).conj() if upper else A._data  # upper: Aᴴ's lower triangle
    info = on_device_of(A._data, np.zeros(A.shape[:-2], dtype=np.int32))
    try:
        low = _tri.cholesky(A, upper=upper)
    except LinAlgError:
        partial, info = quietly(_cholesky_partial, read)  # NaN input: NaN pivots, no warnings
        info = _lapack_refused(read, info)
        bad = info > 0
        if check_errors:
            k = int(info[bad].flat[0])
            raise LinAlgError(
                f"linalg.cholesky_ex: expected positive-definite matrices, got one whose leading minor of "
                f"order {k} is not (input shape {A.shape})"
            ) from None
        partial = partial.swapaxes(-1, -2).conj() if upper else partial
        low = where(bad[..., None, None], _const(partial), _tri.cholesky(_safe(A, bad), upper=upper))
    return CholeskyExResult(low, _const(info))


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:
    """X = (L Lᴴ)⁻¹ B from the Cholesky factor L (``upper``: A = Uᴴ U), real or complex (one dtype):
    only L's triangle is read; L's gradient is PyTorch's, in all of L (``ops/linalg.CholeskySolve``).

    Shape:
        B (..., n, k), L (..., n, n) -> (..., n, k), batch dims broadcast.
    """
    # integers, bool, float16: PyTorch's kernel has none (NotImplementedError, a DTypeError here too)
    _tri.lapack_kernel("cholesky_solve", "cholesky_solve_cpu", B, L)
    check_float("cholesky_solve", B._data, L._data, complex_ok=True)
    check_square("cholesky_solve", L._data, "L")
    if B.ndim < 2 or B.shape[-2] != L.shape[-1]:
        raise ShapeError(
            f"cholesky_solve: expected B (..., {L.shape[-1]}, k) for L {tuple(L.shape)}, got shape {tuple(B.shape)}"
        )
    return with_out(_tri.CholeskySolve.apply(B, L, upper=bool(upper)), out, "cholesky_solve")


def cholesky_inverse(L: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:
    """(L Lᴴ)⁻¹ (``upper``: (Uᴴ U)⁻¹) from a Cholesky factor: ``cholesky_solve(I, L)``.

    Shape:
        (..., n, n) -> (..., n, n)
    """
    _tri.lapack_kernel("cholesky_inverse", "cholesky_inverse_out_cpu", L)
    check_square("cholesky_inverse", L._data, "L")
    diag = L._data.diagonal(0, -2, -1)  # (..., n): a zero there left inf/NaN where PyTorch raises
    if diag.__class__ is not MetaArray and bool((diag == 0).any()):
        bad = np.argwhere(diag == 0)[0]
        where = (
            f"(Batch element {int(np.ravel_multi_index(bad[:-1], diag.shape[:-1]))}): " if L.ndim > 2 else ""
        )
        raise LinAlgError(
            f"cholesky_inverse: {where}The diagonal element {int(bad[-1]) + 1} is zero, the inversion could "
            f"not be completed because the input matrix is singular (L of shape {tuple(L.shape)})"
        )
    eye = _const(array_module(L._data).eye(L.shape[-1], dtype=L._data.dtype))
    return with_out(cholesky_solve(eye, L, upper), out, "cholesky_inverse")
