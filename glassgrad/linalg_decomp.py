# ruff: noqa: A002 - PyTorch's parameter names (input) are the API
"""``glassgrad.linalg`` decompositions and matrix functions: ``qr``, ``eigh``, ``eigvalsh``,
``matrix_exp``, ``pinv``, ``matrix_rank``, ``cond``, ``householder_product``, and the torch-level
spellings ``torch_qr`` and ``pinverse`` (the SVD is ``ops/linalg_svd.py``'s). They call the
primitives of ``ops/linalg_decomp.py``, ``ops/linalg_matfn.py`` and ``ops/linalg_svd.py``, and cut
their packed outputs.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from glassgrad import factories
from glassgrad.backend import array_module
from glassgrad.dtypes import float16
from glassgrad.errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError
from glassgrad.linalg_more import matrix_norm
from glassgrad.linalg_solve import inv_ex
from glassgrad.ops import linalg_complex as _linalg_complex  # noqa: F401 - eigh's complex twin, made at import
from glassgrad.ops import linalg_complex_pinv as _linalg_complex_pinv  # noqa: F401 - pinv's complex twin
from glassgrad.ops import linalg_complex_svd as _linalg_complex_svd  # noqa: F401 - the SVD's complex twins
from glassgrad.ops.composite import with_out
from glassgrad.ops.elementwise import where
from glassgrad.ops.linalg import lapack_kernel
from glassgrad.ops.linalg_decomp import QR, Eigh
from glassgrad.ops.linalg_eig import Eig
from glassgrad.ops.linalg_matfn import MatrixExp, Pinv
from glassgrad.ops.linalg_solve import check_matrix, lapack, rcond_of
from glassgrad.ops.linalg_svd import linalg_svd
from glassgrad.ops.pieces import unsafe_split_with_sizes
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "qr",
    "eigh",
    "eigvalsh",
    "eig",
    "eigvals",
    "matrix_exp",
    "pinv",
    "matrix_rank",
    "cond",
    "householder_product",
    "torch_qr",
    "pinverse",
]

#: Named results, read as ``Q, R = ...`` or by field, like ``torch.return_types``.
#: The type names are PyTorch's: ``linalg.qr`` gives ``linalg_qr``, the older ``torch.qr`` ``qr``.
QRResult = return_type("linalg_qr", ["Q", "R"])
TorchQRResult = return_type("qr", ["Q", "R"])
EighResult = return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
EigResult = return_type("linalg_eig", ["eigenvalues", "eigenvectors"])


def _cut(packed: Tensor, batch: tuple, *shapes: tuple) -> list[Tensor]:
    """Cut a primitive's packed output (*batch, total) into tensors of shapes ``batch + shape``.

    PyTorch's outputs (Q and R, eigenvalues and eigenvectors) are tensors of their own, not views
    of a multi-view function: they may change in place while recording (geoopt's Stiefel retraction
    flips Q's columns; PyTorch refuses only a backward through the decomposition afterwards, as
    it saved the output), so the pieces are ``unsafe_split``'s, tracked as slices: the primitives
    here save arrays of their own, and such a backward gives the right gradient."""
    pieces = unsafe_split_with_sizes(packed, [math.prod(s) for s in shapes], -1)
    return [p.reshape(*batch, *s) for p, s in zip(pieces, shapes, strict=True)]


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """``A = Q R`` (``torch.linalg.qr``). ``mode``: 'reduced' (Q (..., m, k), R (..., k, n),
    k = min(m, n)), 'complete' (Q (..., m, m), R (..., m, n)) or 'r' (R only; Q is an empty
    tensor). Differentiable in 'reduced' mode and in 'complete' mode when m <= n.

    Shape:
        (..., m, n) -> Q, R as above.
    """
    if mode not in ("reduced", "complete", "r"):
        # a RuntimeError too, as PyTorch's ("qr received unrecognized mode"), and a ValueError
        raise ArgumentError(f"linalg.qr: expected mode 'reduced', 'complete' or 'r', got {mode!r}")
    check_matrix("linalg.qr", A._data, complex_ok=True)
    (m, n), batch = A.shape[-2:], tuple(A.shape[:-2])
    if mode == "r":
        return QRResult(factories.zeros(0, dtype=A.dtype), QR.apply(A, mode="r"))
    k = min(m, n) if mode == "reduced" else m
    q, r = _cut(QR.apply(A, mode=mode), batch, (m, k), (k, n))
    return QRResult(q, r)


_QR_WARNED = [False]


def torch_qr(input: Tensor, some: bool = True) -> TorchQRResult:
    """``torch.qr``: ``linalg.qr`` with mode 'reduced' (``some=True``) or 'complete'; PyTorch's
    deprecation ``UserWarning`` on the first call of the process."""
    if not _QR_WARNED[0]:
        _QR_WARNED[0] = True
        warnings.warn(
            "torch.qr is deprecated in favor of torch.linalg.qr (PyTorch's warning, once a process): "
            "write Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete') for torch.qr(A, some)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return TorchQRResult(*qr(input, "reduced" if some else "complete"))


def _uplo(op: str, UPLO: str) -> str:
    """'L' or 'U' from ``UPLO``, in either case as PyTorch reads it ('l' is 'L')."""
    if not isinstance(UPLO, str):
        raise ArgumentTypeError(f"{op}: expected UPLO to be a str, got {type(UPLO).__name__}")
    if UPLO.upper() not in ("L", "U"):
        raise ArgumentError(f"{op}: expected UPLO to be 'L' or 'U', got {UPLO!r}")
    return UPLO.upper()


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending, real) and orthonormal eigenvectors (the columns) of symmetric or
    complex Hermitian ``A``, reading only its ``UPLO`` triangle (``torch.linalg.eigh``). The
    gradient assumes distinct eigenvalues and is symmetric (Hermitian). A complex eigenvector is
    unique only up to a phase: a loss that depends on it raises GraphError in backward, as PyTorch.

    Shape:
        (..., n, n) -> eigenvalues (..., n) real, eigenvectors (..., n, n) of A's dtype.
    """
    check_matrix("linalg.eigh", A._data, square=True, complex_ok=True)
    n, batch = A.shape[-1], tuple(A.shape[:-2])
    w, v = _cut(Eigh.apply(A, uplo=_uplo("linalg.eigh", UPLO)), batch, (n,), (n, n))
    if w.is_complex():  # complex A packs the real eigenvalues with the complex vectors
        w = w.real
    return EighResult(w, v)


def eig(A: Tensor) -> EigResult:
    """Eigenvalues and unit-norm eigenvectors (the columns) of a general square ``A``
    (``torch.linalg.eig``): complex whatever A's dtype, each vector's largest component real. The
    gradient assumes distinct eigenvalues; a loss that depends on the vectors' phases raises
    GraphError in backward, as PyTorch.

    Shape:
        (..., n, n) -> eigenvalues (..., n), eigenvectors (..., n, n), complex64 or complex128.
    """
    n, batch = A.shape[-1] if A.ndim else 0, tuple(A.shape[:-2])
    w, v = _cut(Eig.apply(A), batch, (n,), (n, n))
    return EigResult(w, v)


def eigvals(A: Tensor) -> Tensor:
    """The eigenvalues of a general square ``A`` (``torch.linalg.eigvals``), complex; VJP
    V⁻ᴴ diag(ḡ) Vᴴ (Re of it for a real A).

    Shape:
        (..., n, n) -> (..., n), complex64 or complex128.
    """
    return Eig.apply(A, vectors=False)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending, real) of symmetric or complex Hermitian ``A``
    (``torch.linalg.eigvalsh``); VJP V diag(ḡ) Vᴴ.

    Shape:
        (..., n, n) -> (..., n).
    """
    check_matrix("linalg.eigvalsh", A._data, square=True, complex_ok=True)
    return Eigh.apply(A, uplo=_uplo("linalg.eigvalsh", UPLO), vectors=False)


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential ``exp(A) = Σ_k A^k / k!`` (``torch.linalg.matrix_exp``).

    Shape:
        (..., n, n) -> (..., n, n).
    """
    if A.dtype == float16:  # PyTorch's CPU kernel takes float16: computed in float32, rounded once
        return matrix_exp(A.float()).half()
    check_matrix("linalg.matrix_exp", A._data, square=True, complex_ok=True)
    return MatrixExp.apply(A)


def _tolerances(op: str, A: Tensor, atol: Any, rtol: Any) -> tuple[Any, Any]:
    """PyTorch's defaults: no rtol means eps * max(m, n) when atol is absent or 0, else 0. A
    complex tolerance is refused, as PyTorch: compared with real singular values it has no order
    (NumPy would drop its imaginary part, or cut at its real part, without a word)."""
    unwrap = lambda t: t._data if isinstance(t, Tensor) else t  # noqa: E731
    atol, rtol = unwrap(atol), unwrap(rtol)
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if tol is not None and np.iscomplexobj(tol):
            raise DTypeError(f"{op}: expected a real {name}, got one of complex type {type(tol).__name__}")
    if rtol is None:
        atol_zero = atol is None or (np.ndim(atol) == 0 and float(atol) == 0.0)
        rtol = rcond_of(A._data, None) if atol_zero else 0.0
    return (0.0 if atol is None else atol), rtol


def pinv(
    A: Tensor,
    rcond: Any = None,
    hermitian: bool = False,
    *,
    atol: Any = None,
    rtol: Any = None,
    out: Any = None,
) -> Tensor:
    """The Moore-Penrose pseudo-inverse (``torch.linalg.pinv``): singular values at or below
    ``max(atol, rtol * S_max)`` count as zero. ``hermitian`` uses the eigendecomposition of
    symmetric ``A`` (its lower triangle). The gradient holds the rank fixed. ``rcond`` (also
    positional) is PyTorch's older spelling of ``rtol`` with ``atol=0``, as NumPy's.

    Shape:
        (..., m, n) -> (..., n, m).
    """
    check_matrix("linalg.pinv", A._data, square=hermitian, complex_ok=True)
    if rcond is not None:
        atol, rtol = _older_tolerance("linalg.pinv", "rcond", atol, rtol, 0.0, rcond)
    atol, rtol = _tolerances("linalg.pinv", A, atol, rtol)
    return with_out(Pinv.apply(A, atol=atol, rtol=rtol, hermitian=bool(hermitian)), out, "linalg.pinv")


def _older_tolerance(op: str, name: str, atol: Any, rtol: Any, *pair: Any) -> tuple[Any, Any]:
    """The (atol, rtol) ``pair`` of PyTorch's older overload (``pinv(A, rcond)``,
    ``matrix_rank(A, tol)``), which takes neither atol nor rtol: its argument parser refuses both."""
    if atol is not None or rtol is not None:
        raise TypeError(f"{op}() received an invalid combination of arguments: {name} with atol/rtol")
    return pair


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv`` with ``rtol=rcond``."""
    return pinv(input, rtol=rcond)


def matrix_rank(
    A: Tensor,
    tol: Any = None,
    hermitian: bool = False,
    *,
    atol: Any = None,
    rtol: Any = None,
) -> Tensor:
    """The number of singular values above ``max(atol, rtol * S_max)`` (``torch.linalg.matrix_rank``;
    ``tol``, also positional, is the older spelling of ``atol`` with ``rtol=0``). Not
    differentiable; an int64 tensor.

    Shape:
        (..., m, n) -> (...).
    """
    check_matrix("linalg.matrix_rank", A._data, square=hermitian, complex_ok=True)
    if tol is not None:
        atol, rtol = _older_tolerance("linalg.matrix_rank", "tol", atol, rtol, tol, 0.0)
    atol, rtol = _tolerances("linalg.matrix_rank", A, atol, rtol)
    a = A._data
    xp = array_module(a)
    if hermitian:
        s = xp.abs(lapack("linalg.matrix_rank", xp.linalg.eigvalsh, a))
    else:
        s = lapack("linalg.matrix_rank", xp.linalg.svd, a, compute_uv=False)
    cut = xp.maximum(  # in the singular values' real dtype (a complex A's too)
        xp.asarray(atol, dtype=s.dtype), xp.asarray(rtol, dtype=s.dtype) * s.max(-1, initial=0.0)
    )
    return Tensor(xp.asarray((s > cut[..., None]).sum(-1), dtype=np.int64), _wrap=True)  # 0-d: an array


def cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number in the ``p``-norm (``torch.linalg.cond``): for None / 2 / -2 the ratio
    of the largest to the smallest singular value (or its inverse); for 'fro', 'nuc', inf, -inf,
    1, -1 ``norm(A, p) * norm(inv(A), p)`` (square A), inf for a singular A, as PyTorch's.

    Shape:
        (..., m, n) -> (...).
    """
    check_matrix("linalg.cond", A._data, square=p not in (None, 2, -2), complex_ok=True)
    if p not in (None, 2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc"):
        raise ArgumentError(
            f"linalg.cond: expected p to be None, 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2, got {p!r}"
        )
    if A.numel() == 0:  # PyTorch's 0 for matrices without elements, whatever p (NumPy refuses them)
        xp = array_module(A._data)
        return Tensor(xp.zeros(A.shape[:-2], dtype=A._data.real.dtype), _wrap=True)  # (...)
    if p in (None, 2, -2):
        s = linalg_svd(A, full_matrices=False).S
        big, small = s[..., 0], s[..., -1]
        return big / small if p != -2 else small / big
    inverse, info = inv_ex(A)
    bad = info._data > 0  # singular: inf, whatever the (NaN) inverse says
    inverse = where(bad[..., None, None], 0.0, inverse)  # (..., n, n)
    return where(bad, math.inf, matrix_norm(A, p) * matrix_norm(inverse, p))


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_iᴴ, where v_i is column i of A
    below the diagonal with a 1 on it (``torch.linalg.householder_product``, LAPACK's orgqr/ungqr).
    A composite of matmuls, one Householder reflection per step; real or complex (one dtype).

    Shape:
        A (..., m, n), tau (..., k) with m >= n >= k -> (..., m, n).
    """
    lapack_kernel("linalg.householder_product", "orgqr_cpu", A)  # integers, bool, float16
    check_matrix("linalg.householder_product", A._data, complex_ok=True)
    (m, n), k = A.shape[-2:], tau.shape[-1] if tau.ndim else -1
    if not m >= n >= k >= 0 or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise ShapeError(
            "linalg.householder_product: expected A (..., m, n) and tau (..., k) with m >= n >= k and "
            f"the same batch dims, got {A.shape} and {tau.shape}"
        )
    if tau._data.dtype != A._data.dtype:
        raise DTypeError(f"linalg.householder_product: expected tau of A's dtype {A.dtype}, got {tau.dtype}")
    eye = factories.eye(m, n, dtype=A.dtype)
    vs = A.tril(-1) + eye  # (..., m, n): column i is v_i
    q = where(array_module(A._data).ones(A.shape, dtype=bool), eye, A)  # I (..., m, n), joined to A's graph
    for i in reversed(range(k)):  # Q <- H_i Q = Q - tau_i v_i (v_iᴴ Q), from the last reflection back
        v = vs[..., :, i : i + 1]  # (..., m, 1)
        q = q - tau[..., i, None, None] * (v @ (v.mH @ q))
    return q
