# ruff: noqa: A002 - PyTorch's parameter names (input, sorted) are the API
"""``unique``: the distinct values of a tensor, sorted, and optionally where each entry went and
how often each value occurs (moved out of ops/composite.py, which re-exports it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.complex_gate import refuse_unordered
from glassgrad.backend import array_module
from glassgrad.errors import IndexOutOfRangeError, ShapeError
from glassgrad.ops.carried import underived
from glassgrad.ops.indexing import normalize_dim
from glassgrad.tensor import Tensor

__all__ = ["unique", "unique_dim"]


def unique_dim(op: str, x: Tensor, dim: Any) -> int:
    """``dim`` of ``unique``/``unique_consecutive`` as a non-negative axis, with PyTorch's checks of
    its ``unique_dim`` kernels: a 0-d tensor has no dim to take (IndexError), and an empty tensor
    must be empty along ``dim`` alone (slices of an unselected zero-sized dim would have no length)."""
    if x.ndim == 0:
        raise IndexOutOfRangeError(f"{op}: Dimension specified as {dim} but tensor has no dimensions")
    d = normalize_dim(dim, x.ndim, op, x.shape)
    if x._data.size == 0:
        if x.shape.count(0) > 1:
            raise ShapeError(
                f"{op}: Number of zero sized dimensions is more than one, so unique cannot be applied "
                f"(shape {tuple(x.shape)})"
            )
        if x.shape[d] != 0:
            raise ShapeError(
                f"{op}: There are 0 sized dimensions, and they aren't selected, so unique cannot be "
                f"applied (shape {tuple(x.shape)}, dim {dim})"
            )
    return d


def unique(
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: Any = None,
) -> Any:
    """The distinct values (sorted), and optionally where each input entry went and how often each occurs."""
    refuse_unordered("unique", input)  # (PyTorch's CPU refuses complex too: NumPy's order is lexicographic)
    if dim is not None:
        dim = unique_dim("unique", input, dim)
    # Each NaN is its own value, as PyTorch's (NaN != NaN); NumPy folds them into one by default
    # (also along a dim of a 1-D tensor).
    res = array_module(input._data).unique(
        input._data, return_inverse=return_inverse, return_counts=return_counts, axis=dim, equal_nan=False
    )
    # recorded with a derivative that raises, as PyTorch's _unique2 / unique_dim
    op, node = ("_unique2", "Unique2Backward0") if dim is None else ("unique_dim", "UniqueDimBackward0")
    if not (return_inverse or return_counts):
        return underived(res, input, op=op, node=node)
    out = [underived(res[0], input, op=op, node=node)]
    k = 1
    if return_inverse:
        out.append(Tensor(res[k].reshape(input.shape if dim is None else -1).astype(np.int64), _wrap=True))
        k += 1
    if return_counts:
        out.append(Tensor(res[k].astype(np.int64), _wrap=True))
    return tuple(out)
