# ruff: noqa: A002 - PyTorch's parameter names (input, sorted) are the API
"""``unique``: the distinct values of a tensor, sorted, and optionally where each entry went and
how often each value occurs (moved out of ops/composite.py, which re-exports it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.complex_gate import refuse_unordered
from glassgrad.backend import array_module
from glassgrad.ops.carried import underived
from glassgrad.tensor import Tensor

__all__ = ["unique"]


def unique(
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: Any = None,
) -> Any:
    """The distinct values (sorted), and optionally where each input entry went and how often each occurs."""
    refuse_unordered("unique", input)  # (PyTorch's CPU refuses complex too: NumPy's order is lexicographic)
    # Each NaN is its own value, as PyTorch's (NaN != NaN); NumPy folds them into one by default.
    nan_kw = {} if dim is not None else {"equal_nan": False}
    res = array_module(input._data).unique(
        input._data, return_inverse=return_inverse, return_counts=return_counts, axis=dim, **nan_kw
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
