"""Sparse gradients of a table: what ``embedding(..., sparse=True)`` hands the engine.

``nn.Embedding(V, D, sparse=True)`` looks up a few rows of a large ``(V, D)`` table; its weight's
gradient is zero everywhere else, so PyTorch makes it a sparse COO tensor: one row id and one
gradient row per lookup, uncoalesced (an id looked up twice appears twice). ``SparseRows`` is that
gradient on its way through the engine: summed with another one it concatenates, as PyTorch's
sparse accumulation does; reaching a leaf it becomes the leaf's sparse ``.grad`` (``store``).

Anything that needs an array gets the dense ``(V, D)`` one: a node's backward (the table was
computed from other tensors), a hook, an observer, ``autograd.grad``, a leaf whose ``.grad`` is
already dense (dense + sparse is dense, as in PyTorch). ``dense()`` makes it, and NumPy's
``__array__`` protocol calls it, so ``np.asarray(g)`` and ``g + array`` are right too.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.grad_accumulation import add_into
from glassgrad.backend import array_module

__all__ = ["SparseRows", "store", "dense_each", "hooked"]


class SparseRows:
    """A ``shape = (V, *D)`` gradient that only rows ``rows`` ``(nnz,)`` receive, ``values[i]``
    ``(nnz, *D)`` going to row ``rows[i]`` (ids may repeat: their rows add up)."""

    __slots__ = ("rows", "shape", "values")

    def __init__(self, rows: Any, values: Any, shape: tuple) -> None:
        self.rows, self.values, self.shape = rows, values, tuple(shape)

    @property
    def dtype(self) -> Any:
        return self.values.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def dense(self) -> Any:
        """The ``(V, *D)`` array: every row's values added into it."""
        from glassgrad.ops.indexing import _scatter_add_rows  # ops import the engine: import late

        out = array_module(self.values).zeros(self.shape, dtype=self.values.dtype)
        _scatter_add_rows(out, self.rows, self.values)
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        out = self.dense()
        return out if dtype is None else out.astype(dtype)

    def astype(self, dtype: Any) -> SparseRows:
        return SparseRows(self.rows, self.values.astype(dtype), self.shape)

    def copy(self) -> SparseRows:
        return SparseRows(self.rows, self.values.copy(), self.shape)

    def __add__(self, other: Any) -> Any:
        if other.__class__ is SparseRows:  # both sparse: the lookups of both, one after the other
            xp = array_module(self.values)
            rows = xp.concatenate([self.rows, other.rows])
            return SparseRows(rows, xp.concatenate([self.values, other.values]), self.shape)
        return self.dense() + other

    def __radd__(self, other: Any) -> Any:
        return other + self.dense()

    def __repr__(self) -> str:
        return f"SparseRows(shape={self.shape}, nnz={len(self.rows)}, dtype={self.dtype})"


def dense_each(grads: tuple) -> tuple:
    """``grads`` with each ``SparseRows`` made dense: what the engine's observers are shown."""
    if not any(g.__class__ is SparseRows for g in grads):
        return grads
    return tuple(g.dense() if g.__class__ is SparseRows else g for g in grads)


def store(t: Any, g: SparseRows, observers: list) -> None:
    """Add ``g`` into leaf ``t``'s ``.grad``: a new sparse COO tensor when ``t`` has none or a
    sparse one (their lookups concatenated, uncoalesced, as PyTorch's), else into the dense one.
    The engine's leaf ``observers`` see the dense gradient first."""
    from glassgrad.sparse_tensor import _make  # the sparse tensor imports the engine: import late
    from glassgrad.tensor import Tensor

    for obs in observers:
        obs(t, g.dense())

    if t.grad is not None and not getattr(t.grad, "is_sparse", False):
        add_into(t, g.dense())  # dense += sparse: in place, as PyTorch's
        return
    old = t.grad
    if old is not None:
        g = SparseRows(old._ix[0], old._vals._data, g.shape) + g
    vals = Tensor(g.values if g.values.base is None else g.values.copy(), _wrap=True)
    ix, coalesced = g.rows[None, :].astype("int64"), len(g.rows) < 2  # PyTorch's: nnz < 2 is coalesced
    if old is None:
        t._grad = _make(ix, vals, g.shape, coalesced=coalesced)
    else:  # in place, as PyTorch's AccumulateGrad: whoever holds the .grad sees the sum
        old._ix, old._vals, old._coalesced = ix, vals, coalesced


def hooked(run: Any, hooks: list, g: SparseRows) -> Any:
    """Tensor hooks (``run``: the engine's ``_run_hooks``) on a sparse gradient ``g``: they see the
    dense one; if they leave it as it was (they only look), ``g`` stays sparse, as in PyTorch, so the
    ``.grad`` stays sparse for ``SparseAdam``; if they change it, the dense result goes on."""
    dense = g.dense()
    was = dense.copy()  # a hook may change ``dense`` in place
    out = run(hooks, dense)
    if out is None:  # (an AccumulateGrad pre-hook's None: nothing is stored)
        return None
    same = out.shape == was.shape and array_module(out).array_equal(out, was, equal_nan=True)
    return g if same else out
