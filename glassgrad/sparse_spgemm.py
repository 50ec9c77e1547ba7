"""Sparse COO times sparse COO (``torch.sparse.mm(S1, S2)``, ``S1 @ S2``, ``torch.mm``): a sparse result.

Each stored entry ``(i, k)`` of ``a`` meets each stored entry ``(k, j)`` of ``b``; their products land
at ``(i, j)`` and ``coalesce`` sums those at one position. The result holds every position the two
patterns reach (a product that cancels to 0 stays stored), coalesced, as PyTorch's. The values are
gathered and multiplied with differentiable ops, so gradients reach both operands' values (pykeen's
Weisfeiler-Lehman initializer and ``torch_ppr``'s normalisation multiply two adjacency matrices).
"""

from __future__ import annotations

from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError

__all__ = ["spgemm"]


def spgemm(a: Any, b: Any, op: str) -> Any:
    """``a @ b`` for two 2-D sparse COO tensors ``(n, k) @ (k, m) -> (n, m)``, sparse and coalesced."""
    from glassgrad.sparse_tensor import _make  # (that module calls this one)

    if a._ix.shape[0] != 2 or b._ix.shape[0] != 2 or a._data.ndim != 2 or b._data.ndim != 2:
        raise ShapeError(
            f"{op}: expected two 2-D sparse matrices (no dense dims), got {a._data.shape} "
            f"(sparse_dim {a._ix.shape[0]}) and {b._data.shape} (sparse_dim {b._ix.shape[0]})"
        )
    (n, k), (k2, m) = a._data.shape, b._data.shape
    if k != k2:
        raise ShapeError(f"{op}: expected (n, k) @ (k, m), got {a._data.shape} @ {b._data.shape}")
    if a._vals._data.dtype != b._vals._data.dtype:
        raise DTypeError(f"{op}: expected operands of one dtype, got {a.dtype} and {b.dtype}")
    xp = array_module(a._ix)
    rows_b = b._ix[0]
    order = xp.argsort(rows_b, kind="stable")  # b's entries grouped by row
    counts = xp.bincount(rows_b, minlength=k)  # (k,) entries per row of b
    starts = xp.cumsum(counts) - counts  # where each row's group begins in `order`
    reps = counts[a._ix[1]]  # (nnz_a,) partners of each entry of a
    ia = xp.repeat(xp.arange(a._ix.shape[1], dtype=xp.int64), reps)
    within = xp.arange(ia.shape[0], dtype=xp.int64) - xp.repeat(xp.cumsum(reps) - reps, reps)
    ib = order[xp.repeat(starts[a._ix[1]], reps) + within]
    ix = xp.stack([a._ix[0][ia], b._ix[1][ib]]).astype(xp.int64).reshape(2, -1)
    vals = a._vals[ia] * b._vals[ib]  # (pairs,): differentiable w.r.t. both
    return _make(ix, vals, (n, m), False).coalesce()
