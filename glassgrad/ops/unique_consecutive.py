# ruff: noqa: A002 - PyTorch's parameter name `input`
"""``unique_consecutive``: collapse each run of equal neighbours to one entry (or one slice along a dim),
[1, 1, 2, 2, 1] -> [1, 2, 1]; optionally where each input entry went and how long each run was.

Unlike ``unique`` nothing is sorted, so a value may appear again after another run. NaN equals
nothing, so each NaN is a run of its own (as PyTorch). Not differentiable: the result carries no
gradient, as PyTorch's (port round 26: DINO's ``MultiCropWrapper`` groups crops by resolution with it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import kernel_dtype_error
from glassgrad.ops.carried import underived
from glassgrad.ops.unique import unique_dim
from glassgrad.tensor import Tensor

__all__ = ["unique_consecutive"]


def unique_consecutive(
    input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
) -> Any:
    """The first entry of each run of equal consecutive entries (``dim=None``: of the flattened input,
    a 0-d input counting as one entry) or slices along ``dim``.

    Shape:
        output ``(runs,)``, or the input's shape with ``runs`` along ``dim``; inverse the input's shape
        (``dim=None``) or ``(input.shape[dim],)``, int64; counts ``(runs,)``, int64.
    Returns the output alone, or a tuple ``(output, inverse?, counts?)`` of those asked for.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"unique_consecutive: expected a Tensor, got {type(input).__name__}")
    xp = array_module(input._data)
    a = input._data
    if a.dtype.kind == "c":  # PyTorch's unique kernels have no complex code (equality alone would do)
        raise kernel_dtype_error("unique_consecutive", "unique" if dim is None else "unique_dim", a.dtype)
    if dim is None:
        rows = a.reshape(-1)
        same = rows[1:] == rows[:-1]
    else:
        d = unique_dim("unique_consecutive", input, dim)
        rows = xp.moveaxis(a, d, 0)
        # (all over the trailing axes, not a reshape to (n - 1, -1): that has no size for n = 1)
        same = (rows[1:] == rows[:-1]).all(axis=tuple(range(1, rows.ndim)))
    n = rows.shape[0]
    starts = xp.concatenate([xp.ones(min(n, 1), dtype=bool), xp.logical_not(same)])
    first = xp.flatnonzero(starts)
    values = rows[first] if dim is None else xp.moveaxis(rows[first], 0, d)
    out = [
        underived(
            xp.ascontiguousarray(values), input, op="unique_consecutive", node="UniqueConsecutiveBackward0"
        )
    ]
    if return_inverse:
        inverse = xp.cumsum(starts).astype(np.int64) - 1
        out.append(Tensor(inverse.reshape(input.shape if dim is None else (n,)), _wrap=True))
    if return_counts:
        out.append(Tensor(xp.diff(xp.append(first, n)).astype(np.int64), _wrap=True))
    return out[0] if len(out) == 1 else tuple(out)
