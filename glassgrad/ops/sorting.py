"""Sorting: ``sort`` and ``topk``, stable, with their values differentiable (a gather at the
returned indices). Kept apart from ``indexing.py`` for size; the gather is ``indexing.Gather``."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.complex_gate import refuse_unordered
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.iterator_layout import preserved_result
from glassgrad.ops.indexing import Gather, normalize_dim
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor

__all__ = ["sort", "topk"]

#: Results of ``topk`` / ``sort``, read as ``values, indices = ...`` or ``.values`` / ``.indices``.
TopK = return_type("topk", ["values", "indices"])
Sort = return_type("sort", ["values", "indices"])


def _order_key(a: Any, descending: bool) -> Any:
    """An array whose ascending order is the wanted order, for a float ``a`` only without NaN:
    descending, -NaN would tie with -inf (see :func:`_stable_order`)."""
    if not descending:
        return a  # NumPy already sorts NaN last
    if a.dtype.kind in "biu":
        # ~a (-a - 1; max - a unsigned; not for bool) reverses the order without overflow: -a
        # wraps the minimum onto itself (int16 -32768 sorted first, as the largest)
        return ~a
    return -a


def _stable_order(a: Any, d: int, descending: bool) -> Any:
    """Indices of a stable sort of ``a`` along ``d``; NaN counts as the largest, as PyTorch's (last
    ascending, first descending, before +inf)."""
    xp = array_module(a)
    if descending and a.dtype.kind == "f":
        # The reversed array sorted ascending, read backwards: NaN lands first and equal values
        # keep their order (a key such as -a can put no NaN above +inf)
        order = xp.argsort(xp.flip(a, axis=d), axis=d, kind="stable")
        return (a.shape[d] - 1) - xp.flip(order, axis=d)
    return xp.argsort(_order_key(a, descending), axis=d, kind="stable")


def _one(x: Tensor) -> tuple[Tensor, Tensor]:
    """The values and indices of sorting a 0-d tensor: a gather at index 0, and that index."""
    xp = array_module(x._data)
    values = Gather.apply(x.reshape(1), xp.zeros((1,), dtype=np.int64), dim=0).reshape(())  # () -> (1,) -> ()
    return values, Tensor(xp.zeros((), dtype=np.int64), _wrap=True)  # not the array Gather saved


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Sort:
    """``(values, indices)`` sorted along ``dim``; the sort is always stable (equal values keep
    their order). ``values`` is differentiable (a gather at ``indices``). A 0-d tensor counts as
    one element, as in PyTorch."""
    refuse_unordered("sort", x, kernel=False)
    d = normalize_dim(dim, x.ndim, "sort", x.shape)
    if x.ndim == 0:  # one element (dim 0 or -1), as PyTorch: itself, at index 0
        return Sort(*_one(x))
    idx = _stable_order(x._data, d, descending)
    values = like_input(Gather.apply(x, idx, dim=d), x)
    return Sort(values, like_input(Tensor(idx.copy(), _wrap=True), x))  # Gather saved idx


def like_input(t: Tensor, x: Tensor) -> Tensor:
    """``t`` (a fresh result of ``x``'s shape) laid out as PyTorch's ``sort``/``msort`` allocate
    theirs, ``empty_like(x)``: ``x``'s strides when dense (a transposed input gives a transposed
    result), else dense in ``x``'s dim order. ``is_contiguous``, ``view`` and ``stride`` then read
    as PyTorch's, and an in-place change through ``view`` aliases as it does there."""
    t._data = preserved_result(t._data, [x._data])
    return t


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopK:  # noqa: A002
    """The ``k`` largest (or smallest) entries along ``dim`` and their indices, best first.

    Always returned sorted and stable: among equal values the lower index comes first, also at
    the k-th place (PyTorch's order among ties is unspecified). ``values`` is differentiable (a
    gather at ``indices``).

    >>> import glassgrad as gg
    >>> gg.tensor([1.0, 0, 1, 0, 1, 1, 0, 1]).topk(3).indices
    tensor([0, 2, 4])

    Shape:
        x ``(*A, n, *B)`` -> values and indices ``(*A, k, *B)``; a 0-d x (one element, k 0 or 1,
        as PyTorch) -> 0-d values and indices.
    """
    refuse_unordered("topk", x, kernel=False)
    if x._data.dtype == np.bool_:  # PyTorch: "topk does not support bool dtypes on CPU" (sort takes bool)
        raise DTypeError("topk: expected a numeric dtype, got bool; x.int() or x.float() converts one")
    d = normalize_dim(dim, x.ndim, "topk", x.shape)
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise ShapeError(
            f"topk: expected 0 <= k <= {n} (the size of dim {dim} of shape {x.shape}), got k={k}"
        )
    if x.ndim == 0:  # one element, as PyTorch: itself at index 0, for k = 1 and (PyTorch's) k = 0
        return TopK(*_one(x))
    xp = array_module(x._data)
    if 0 < k <= n // 4 and n >= 64 and not (x._data.dtype.kind == "f" and xp.isnan(x._data).any()):
        idx = _first_k(_order_key(x._data, largest), k, d)
    else:
        # A stable sort, then the first k: among equal values the earlier position always wins,
        # also at the k-th place (a partial selection, argpartition, picks an arbitrary one there).
        order = _stable_order(x._data, d, largest)
        idx = order[(slice(None),) * d + (slice(0, k),)].copy()  # (*A, n, *B) -> (*A, k, *B)
    return TopK(Gather.apply(x, idx, dim=d), Tensor(idx.copy(), _wrap=True))  # Gather saved idx


def _first_k(key: Any, k: int, d: int) -> Any:
    """The first ``k`` positions of a stable ascending sort of ``key`` along ``d``, without sorting
    all of it (k small; no NaN in key): the k-th smallest value by partition, every position below
    it, and the earliest of those equal to it to make up k; then a stable sort of those k alone.
    The same indices as the full stable sort, 10 times faster for k = 10 of 1,000."""
    xp = array_module(key)
    rows = xp.moveaxis(key, d, -1)  # (..., n)
    kth = xp.partition(rows, k - 1, axis=-1)[..., k - 1 : k]  # (..., 1)
    below, tie = rows < kth, rows == kth
    short = k - below.sum(axis=-1, keepdims=True)  # how many of the tied values are taken
    take = below | (tie & (tie.cumsum(axis=-1) <= short))  # exactly k per row
    pos = xp.nonzero(take)[-1].reshape(rows.shape[:-1] + (k,))  # ascending positions, row by row
    order = xp.argsort(xp.take_along_axis(rows, pos, axis=-1), axis=-1, kind="stable")
    return xp.ascontiguousarray(xp.moveaxis(xp.take_along_axis(pos, order, axis=-1), -1, d))
