# ruff: noqa: A002 - PyTorch's parameter names (input, ord) are the API
"""``glassgrad.linalg`` norms and products: ``vector_norm``, ``matrix_norm``, ``norm``, ``cross``,
``multi_dot``, ``vecdot``, ``matmul``, ``diagonal`` (and ``torch.cross``'s spelling, ``cross_default``). Compositions of the primitives;
the 'nuc' and 2-norms take the singular values of ``ops/linalg_svd.py``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np

from glassgrad.errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError, kernel_dtype_error
from glassgrad.operand_errors import number_arg
from glassgrad.ops import extremes, joining, statistics
from glassgrad.ops import matmul as _mm
from glassgrad.ops.composite import with_out
from glassgrad.ops.indexing import normalize_dim
from glassgrad.ops.linalg_svd import singular_values
from glassgrad.ops.movement_more import broadcast_tensors
from glassgrad.ops.views import diagonal, movedim, narrow
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "vector_norm", "matrix_norm", "norm", "cross", "multi_dot", "torch_cross", "vecdot", "linalg_matmul", "linalg_diagonal",
]  # fmt: skip


def _floating(op: str, x: Tensor, dtype: Any, moduli: bool = False, complex_ok: bool = False) -> Tensor:
    """``x`` (cast to ``dtype``) checked to be floating (or complex, with ``complex_ok``); with
    ``moduli``, a complex ``x``'s |x| (the vector norms of a complex tensor are those of its
    moduli, real, as PyTorch's)."""
    x = statistics.norm_cast(op, x, dtype)
    if moduli and x._data.dtype.kind == "c":
        return x.abs()
    if x._data.dtype.kind != "f" and not (complex_ok and x._data.dtype.kind == "c"):
        raise DTypeError(f"{op}: expected a floating point input, got {x.dtype}")
    return x


def vector_norm(
    x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (all dims by default): any real ord, ``inf``, ``-inf``,
    0 (the number of non-zeros).

    Shape:
        x's shape without the reduced dims (kept as 1 with ``keepdim``).
    """
    if isinstance(ord, Tensor) and ord._data.ndim == 0:  # PyTorch's Scalar ord: a 0-d tensor is its value
        ord = number_arg("linalg.vector_norm", "ord", ord)  # noqa: A001
    if isinstance(ord, str | bool) or not isinstance(ord, int | float | np.number):
        raise ArgumentTypeError(f"linalg.vector_norm: expected ord to be a number, inf or -inf, got {ord!r}")
    x = _floating("linalg.vector_norm", x, dtype, moduli=True)
    return statistics.norm(x, ord, dim, keepdim)


def _matrix_dims(op: str, a: Tensor, dim: Any) -> tuple[int, int]:
    if a.ndim < 2:
        raise ShapeError(f"{op}: expected a tensor with at least 2 dims, got shape {a.shape}")
    dims = tuple(dim) if isinstance(dim, tuple | list) else None
    if dims is None or len(dims) != 2:
        raise ShapeError(f"{op}: expected dim to be a pair of dims, got {dim!r}")
    d0, d1 = (normalize_dim(d, a.ndim, op, a.shape) for d in dims)
    if d0 == d1:
        raise ShapeError(f"{op}: expected two different dims, got {dim!r} for shape {a.shape}")
    return d0, d1


def matrix_norm(
    A: Tensor,
    ord: Any = "fro",
    dim: Any = (-2, -1),
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """The matrix ``ord``-norm over the two dims ``dim``: 'fro', 'nuc', inf / -inf (largest /
    smallest absolute row sum), 1 / -1 (column sum), 2 / -2 (largest / smallest singular value).

    Shape:
        A's shape without the two dims (kept as 1s with ``keepdim``).
    """
    op = "linalg.matrix_norm"
    by_svd = ord == "nuc" or ord in (2, -2)  # singular values: real, also those of a complex matrix
    A = _floating(op, A, dtype, moduli=not by_svd, complex_ok=by_svd)
    d0, d1 = _matrix_dims(op, A, dim)
    if ord == "fro":
        return statistics.norm(A, 2, (d0, d1), keepdim)
    if by_svd:
        s = singular_values(movedim(A, (d0, d1), (-2, -1)), op)
        if ord == "nuc":
            out = s.sum(-1)
        elif s.shape[-1] == 0:  # an empty matrix: its 2-norm is 0 (PyTorch), the smallest is undefined
            if ord == -2:
                raise ShapeError(f"{op}: expected a non-empty matrix for ord={ord}, got shape {A.shape}")
            out = s.sum(-1)
        else:
            out = extremes.amax(s, -1) if ord == 2 else extremes.amin(s, -1)
        if keepdim:
            for d in sorted((d0, d1)):
                out = out.unsqueeze(d)
        return out
    if isinstance(ord, str) or ord not in (1, -1, math.inf, -math.inf):
        raise ArgumentError(
            f"{op}: expected ord to be one of 'fro', 'nuc', inf, -inf, 1, -1, 2, -2, got {ord!r}"
        )
    if abs(ord) == math.inf:
        d0, d1 = d1, d0  # row sums: sum over the columns first
    if not keepdim and d0 < d1:
        d1 -= 1
    sums = statistics.norm(A, 1, d0, keepdim)
    if sums.shape[d1] == 0:  # no rows / columns: the largest sum is 0 (PyTorch), the smallest undefined
        if ord > 0:
            return sums.sum(d1, keepdim)
        raise ShapeError(f"{op}: expected a non-empty matrix for ord={ord}, got shape {A.shape}")
    return extremes.amax(sums, d1, keepdim) if ord > 0 else extremes.amin(sums, d1, keepdim)


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``vector_norm`` for one dim (or every dim when neither ``ord`` nor ``dim`` is given),
    ``matrix_norm`` for two dims; with ``ord`` and no ``dim`` the input must be 1-D or 2-D."""
    if dim is not None and not isinstance(dim, tuple | list):
        dim = (dim,)
    if dim is None and ord is not None:
        if A.ndim not in (1, 2):
            raise ShapeError(
                f"linalg.norm: expected a 1-D or 2-D input when ord is given without dim, got shape {A.shape}"
            )
        dim = tuple(range(A.ndim))
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is not None and len(dim) != 1:
        raise ShapeError(f"linalg.norm: expected dim to be one or two dims, got {dim!r}")
    if isinstance(ord, str):
        raise ArgumentError(f"linalg.norm: ord {ord!r} needs a matrix (two dims), got dim {dim!r}")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (the other dims broadcast).

    Shape:
        ``(*A, 3, *B)`` for both (after broadcasting) -> the same shape.
    """
    if input._data.dtype != other._data.dtype:
        raise DTypeError(f"linalg.cross: expected inputs of one dtype, got {input.dtype} and {other.dtype}")
    if input.ndim != other.ndim:
        raise ShapeError(
            f"linalg.cross: expected inputs with the same number of dims, got {input.shape} and {other.shape}"
        )
    if input.ndim == 0:
        raise ShapeError("linalg.cross: expected tensors with at least 1 dim, got shape ()")
    d = normalize_dim(dim, input.ndim, "linalg.cross", input.shape)
    # both sizes along dim, before broadcasting: PyTorch does not broadcast a size-1 dim into the
    # vectors' dim (a (5, 1) other is a user's bug, not three copies of one component)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise ShapeError(
            f"linalg.cross: inputs dimension {dim} must have length 3, got {input.shape[d]} and "
            f"{other.shape[d]} (shapes {input.shape} and {other.shape})"
        )
    a, b = broadcast_tensors(input, other)
    if a._data.dtype == np.bool_:  # PyTorch's kernel has no bool code (the products would be ands)
        raise kernel_dtype_error("linalg.cross", "cross", a._data.dtype)
    a0, a1, a2 = (narrow(a, d, i, 1) for i in range(3))
    b0, b1, b2 = (narrow(b, d, i, 1) for i in range(3))
    return joining.cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def torch_cross(input: Tensor, other: Tensor, dim: int | None = None, *, out: Any = None) -> Tensor:
    """``torch.cross``: ``linalg.cross`` along ``dim``; without ``dim``, along the first dim of
    size 3 (with PyTorch's deprecation warning)."""
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated; pass dim or use linalg.cross",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        dim = next((i for i, s in enumerate(input.shape) if s == 3), None)
        if dim is None:
            raise ShapeError(f"cross: expected a dim of size 3 in input of shape {input.shape}")
    return with_out(cross(input, other, dim=dim), out, "cross")


def multi_dot(tensors: Any, *, out: Any = None) -> Tensor:
    """The chained matrix product of ``tensors``; the first may be a row vector (1-D) and the
    last a column vector (1-D), whose dims are removed from the result.

    Shape:
        ``(n,) or (m, n), (n, k), ..., (k, p) or (k,)``.
    """
    ts = list(tensors)
    if len(ts) < 2:
        raise ShapeError(f"linalg.multi_dot: expected at least 2 tensors, got {len(ts)}")
    for i, t in enumerate(ts):
        allowed = (1, 2) if i in (0, len(ts) - 1) else (2,)
        if t.ndim not in allowed:
            where = "first" if i == 0 else "last" if i == len(ts) - 1 else f"middle (#{i})"
            raise ShapeError(
                f"linalg.multi_dot: expected the {where} tensor to be {' or '.join(f'{a}-D' for a in allowed)}, got shape {t.shape}"
            )
        if t._data.dtype != ts[0]._data.dtype:
            raise DTypeError(
                f"linalg.multi_dot: expected tensors of one dtype, got {ts[0].dtype} and {t.dtype}"
            )
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    mats = [
        ts[0].reshape(1, -1) if first_vec else ts[0],
        *ts[1:-1],
        ts[-1].reshape(-1, 1) if last_vec else ts[-1],
    ]
    for i, (a, b) in enumerate(itertools.pairwise(mats)):
        if a.shape[1] != b.shape[0]:
            raise ShapeError(
                f"linalg.multi_dot: tensors #{i} {ts[i].shape} and #{i + 1} {ts[i + 1].shape} cannot be multiplied"
            )
    res = mats[0]
    for m in mats[1:]:
        res = _mm.matmul(res, m)
    shape = ([] if first_vec else [res.shape[0]]) + ([] if last_vec else [res.shape[1]])
    return with_out(res.reshape(shape), out, "linalg.multi_dot")


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out: Any = None) -> Tensor:
    """The dot product of vectors along ``dim``, conjugating ``x``: Σ conj(x) y (the other dims
    broadcast).

    Shape:
        ``(*A, n)`` and ``(*B, n)`` (broadcastable) -> the broadcast shape without ``dim``.
    """
    if x._data.dtype != y._data.dtype:
        raise DTypeError(f"linalg.vecdot: expected x and y of one dtype, got {x.dtype} and {y.dtype}")
    if x._data.dtype.kind not in "fc":
        raise DTypeError(f"linalg.vecdot: expected a floating-point or complex input, got {x.dtype}")
    a, b = broadcast_tensors(x, y)
    d = normalize_dim(dim, a.ndim, "linalg.vecdot", a.shape)
    a = a.conj() if a.is_complex() else a
    return with_out((a * b).sum(d), out, "linalg.vecdot")


def linalg_matmul(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """``torch.linalg.matmul``: ``torch.matmul`` under the linalg name.

    Shape:
        as ``matmul``: ``(*, n, m) @ (*, m, p) -> (*, n, p)``, 1-D operands as vectors.
    """
    return with_out(_mm.matmul_as("linalg.matmul", input, other), out, "linalg.matmul")


def linalg_diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``torch.linalg.diagonal``: ``torch.diagonal`` over the last two dims by default (a view).

    Shape:
        ``(*, m, n) -> (*, k)``, k the diagonal's length at ``offset``.
    """
    return diagonal(A, offset, dim1, dim2)
