"""``linalg.vander``, ``linalg.tensorinv`` and ``linalg.tensorsolve``: matrices built from a vector,
and the inverse and solve of tensors read as matrices (their dims split into rows and columns),
on top of ``linalg_solve``'s ``inv`` and ``solve``."""

from __future__ import annotations

import math
from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import ArgumentError, ShapeError
from glassgrad.linalg_solve import _const, inv, solve
from glassgrad.ops.composite import with_out
from glassgrad.ops.joining import cat
from glassgrad.ops.views import movedim
from glassgrad.tensor import Tensor

__all__ = ["vander", "tensorinv", "tensorsolve"]


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrix of increasing powers: out[..., i, j] = x[..., i] ** j, j < N.

    Shape:
        (..., n) -> (..., n, N), N = n by default; a 0-d x -> (1, N).
    """
    if x.ndim < 1:  # PyTorch reads a 0-d x as one element, (1, N) (N=1 by default, refused below)
        x = x.reshape(1)
    N = x.shape[-1] if N is None else N
    if N <= 1:
        raise ArgumentError(f"linalg.vander: expected N greater than 1, got {N}")
    col = x.unsqueeze(-1)  # (..., n) -> (..., n, 1)
    ones = _const(array_module(x._data).ones_like(col._data))  # (..., n, 1)
    return cat([ones, col.expand(*x.shape, N - 1)], -1).cumprod(-1)  # 1, x, x², ...: (..., n, N)


def tensorinv(A: Tensor, ind: int = 2, *, out: Any = None) -> Tensor:
    """The inverse for ``tensordot(·, ·, ind)``: A's first ``ind`` dims against the rest.

    Shape:
        (*I, *J) with prod(I) = prod(J) -> (*J, *I)
    """
    if ind <= 0:
        raise ArgumentError(f"linalg.tensorinv: expected a positive ind, got {ind}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise ShapeError(
            f"linalg.tensorinv: expected prod(shape[:{ind}]) == prod(shape[{ind}:]), got {A.shape}"
        )
    y = inv(A.reshape(rows, cols)).reshape(*A.shape[ind:], *A.shape[:ind])  # (p, p) -> (*J, *I)
    return with_out(y, out, "linalg.tensorinv")


def tensorsolve(A: Tensor, B: Tensor, dims: Any = None, *, out: Any = None) -> Tensor:
    """X with ``tensordot(A, X, X.ndim) = B`` (A's ``dims`` moved to the end first).

    Shape:
        A (*B, *X), B -> X
    """
    if dims is not None:
        dims = [dims] if isinstance(dims, int) else list(dims)
        A = movedim(A, dims, list(range(A.ndim - len(dims), A.ndim)))
    xshape = A.shape[B.ndim :]
    # PyTorch checks the element counts only (prod(A.shape[B.ndim:]) == prod(A.shape[:B.ndim])), and
    # B.numel() must match those rows: A's leading dims need not equal B's shape (dims=(0, 2) on
    # A (2, 3, 6) with B (2, 3) gives (3, 2, 6), which PyTorch solves; round 66)
    rows = math.prod(A.shape[: B.ndim])
    if math.prod(xshape) != rows or rows != B.numel():
        raise ShapeError(
            "linalg.tensorsolve: expected A of shape (*R, *X) with prod(R) = prod(X) = B.numel(), "
            f"got {A.shape} and B {B.shape}"
        )
    # explicit sizes: a -1 cannot be inferred when p = 0 (an empty A solves to an empty X, as PyTorch)
    x = solve(A.reshape(rows, rows), B.reshape(rows)).reshape(xshape)  # (p, p) @ (p,) -> X
    return with_out(x, out, "linalg.tensorsolve")
