"""Sums of floating arrays over any axes with the rounding error of a cascade, as PyTorch's
reductions have, at NumPy's speed.

NumPy sums the contiguous last axis pairwise (an error growing with log n), but any other axis
row by row: ``x.sum(0)`` of a ``(1024, 512)`` float32 gradient adds 1,024 rows into one running
row, and its error grows with n (7x PyTorch's on a batch of 1,024, 20x on 2,048 tokens). Bias
gradients, BatchNorm's sums and ``x.sum(0)`` are such sums.

``cascade_sum`` reduces such an axis of length n in levels: the first ``16 * (n // 16)`` rows are
seen as 16 blocks of ``n // 16`` rows, added block onto block (one NumPy call, 16 rows per running
sum), the sum of the rest added into the first row, and the ``n // 16`` partial rows are reduced the same way
until at most 128 are left. Each level is one pass over a 16th of the previous one, so the cost is
about NumPy's own sum; the error grows with ``16 * log16(n)`` instead of ``n``.

Example:
    >>> import numpy as np
    >>> x = np.full((100_000, 2), 0.1, np.float32)
    >>> float(abs(cascade_sum(x, 0)[0] - 10_000.0)) < 0.01
    True
    >>> float(abs(x.sum(0)[0] - 10_000.0)) > 1.0  # NumPy's running row
    True
"""

from __future__ import annotations

import math
from typing import Any

from glassgrad.backend import array_module, dense, quietly

__all__ = ["cascade_sum", "drifts", "partial_rows", "sum_over"]

_BLOCKS = 16  # running sums per level: each adds 16 rows
# At most this many rows are left to NumPy's own running sum: below it the cascade's own calls
# (about 20 us) cost more than they are worth (64 float32 rows: 2e-7 off, PyTorch's 1e-7).
_LEAF = 128


def drifts(shape: tuple[int, ...], axes: Any) -> bool:
    """Whether NumPy's own sum of a contiguous array of ``shape`` over ``axes`` (a tuple of
    non-negative ints, or None for all) would add more than 128 rows one by one."""
    if axes is None:
        return False  # (a contiguous array summed whole is summed pairwise, as one long axis)
    k = _trailing(len(shape), axes)
    return any(shape[ax] > _LEAF for ax in axes if ax < k)


def _trailing(ndim: int, axes: Any) -> int:
    """The first of the reduced axes that run to the end (``ndim`` if the last is kept): those
    NumPy sums pairwise, as one contiguous axis."""
    k = ndim
    while k - 1 in axes:
        k -= 1
    return k


def partial_rows(a: Any, ax: int, leaf: int = _LEAF) -> Any:
    """At most ``leaf`` rows along axis ``ax`` whose sum is ``a``'s sum over it, each the sum of
    its share of ``a``'s rows made in levels of 16 (module docstring); fastest for a contiguous ``a``."""
    while a.shape[ax] > leaf:
        n = a.shape[ax]
        rows = n // _BLOCKS
        pre, post = a.shape[:ax], a.shape[ax + 1 :]
        head = a[(slice(None),) * ax + (slice(0, rows * _BLOCKS),)]
        blocks = head.reshape(*pre, _BLOCKS, rows, *post)
        partial = blocks.sum(ax)  # (pre, rows, post): 16 rows in each running sum
        if n > rows * _BLOCKS:  # (fewer than 16 rows left: their sum into the first partial row)
            tail = a[(slice(None),) * ax + (slice(rows * _BLOCKS, n),)]
            partial[(slice(None),) * ax + (slice(0, 1),)] += tail.sum(ax, keepdims=True)
        a = partial
    return a


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted({ax % ndim for ax in axis})) if ndim else ()


def cascade_sum(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """``a.sum(axis, keepdims=keepdims)`` with a cascade's rounding for floating and complex
    dtypes (float16 is accumulated in float32 and returned as float16; integers and bool are
    NumPy's sum). Infinities of both signs give nan without a warning, as PyTorch's.

    Shape:
        ``a``'s shape without the reduced axes (kept as 1 with ``keepdims``).
    """
    if a.dtype.kind not in "fc" or a.ndim == 0:
        return quietly(a.sum, axis, None, None, keepdims)
    return quietly(_cascade, a, _axes(axis, a.ndim), keepdims)


def sum_over(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """``a.sum(axis, keepdims=keepdims)`` for a float or complex ``a`` of any layout, whose rounding
    error does not grow with the length of a reduced axis: the cascade where NumPy would add more
    than 128 rows one by one (``drifts``, judged on the C-order array, which a non-contiguous
    ``a`` is copied to), NumPy's pairwise sum otherwise. float16 is accumulated in float32 and
    rounded once, as ``cascade_sum``.

    Shape:
        ``a``'s shape without the reduced axes (kept as 1 with ``keepdims``).
    """
    if a.ndim and a.dtype.kind in "fc" and drifts(a.shape, _axes(axis, a.ndim)):
        return quietly(_cascade, a, _axes(axis, a.ndim), keepdims)
    a = dense(a)  # (NumPy sums a non-contiguous array in memory order: a transposed axis row by row)
    if a.dtype == array_module(a).float16:
        return quietly(lambda: a.sum(axis, array_module(a).float32, None, keepdims).astype(a.dtype))
    return quietly(a.sum, axis, None, None, keepdims)


def _cascade(a: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    xp = array_module(a)
    out_dtype = a.dtype
    # (float16 accumulates in float32; the blocks are views only of a contiguous array)
    a = a.astype(xp.float32) if a.dtype == xp.float16 else xp.ascontiguousarray(a)
    kept = a.shape
    k = _trailing(a.ndim, axes)
    if k < a.ndim:  # trailing reduced axes: NumPy's pairwise sum over them as one contiguous axis
        a = a.reshape(*a.shape[:k], math.prod(a.shape[k:])).sum(-1, keepdims=True)
    for ax in reversed([ax for ax in axes if ax < k]):
        a = partial_rows(a, ax).sum(ax, keepdims=True)
    shape = tuple(d for i, d in enumerate(kept) if i not in axes)
    if keepdims:
        shape = tuple(1 if i in axes else d for i, d in enumerate(kept))
    return a.reshape(shape).astype(out_dtype, copy=False)
