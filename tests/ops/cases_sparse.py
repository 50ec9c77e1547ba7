"""Gradcheck cases for ops/sparse.py: the sparse-dense product (real and complex), to_dense and
coalesce, on random COO patterns with duplicate entries and empty rows (the values and the dense
operand are checked)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from tests.ops.harness import case, values


def _pattern(draw, m: int, k: int) -> np.ndarray:
    nnz = draw(st.integers(0, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ix = np.stack([rng.integers(0, m, nnz), rng.integers(0, k, nnz)])  # duplicates are likely
    return ix.astype(np.int64)


@case("sparse_mm")
def _sparse_mm(draw):
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    ix = _pattern(draw, m, k)
    dense_first = draw(st.booleans())

    def fn(v, d):
        s = gg.sparse_coo_tensor(ix, v, (m, k))
        return d.t() @ s.t() if dense_first else gg.sparse.mm(s, d)  # dense @ sparse: via S^T

    return fn, (values(draw, (ix.shape[1],)), values(draw, (k, n)))


@case("sparse_to_dense")
def _to_dense(draw):
    m, k, extra = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(0, 2))
    ix = _pattern(draw, m, k)
    shape = (ix.shape[1],) + ((extra,) if extra else ())

    def fn(v):
        size = (m, k) + ((extra,) if extra else ())
        return gg.sparse_coo_tensor(ix, v, size).to_dense() * 1.5

    return fn, (values(draw, shape),)


@case("sparse_to_dense")
def _to_dense_no_sparse_dim(draw):
    """sparse_dim 0 (indices (0, nnz)): every entry lands on the one position, its gradient is g's
    copy per entry (round 67: the gather ``g[()]`` dropped the nnz axis)."""
    nnz, extra = draw(st.integers(0, 3)), draw(st.integers(1, 3))

    def fn(v):
        return gg.sparse_coo_tensor(np.zeros((0, nnz), np.int64), v, (extra,)).to_dense() * 1.5

    return fn, (values(draw, (nnz, extra)),)


@case("sparse_coalesce")
def _coalesce(draw):
    m, k = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ix = _pattern(draw, m, k)

    def fn(v):
        c = gg.sparse_coo_tensor(ix, v, (m, k)).coalesce()
        return c.values() * c.values()  # a non-linear use of the summed duplicates

    return fn, (values(draw, (ix.shape[1],)),)


@case("complex_sparse_mm")
def _complex_sparse_mm(draw):
    """A complex sparse matrix times a complex dense one (the values and the operand as real pairs)."""
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    ix = _pattern(draw, m, k)

    def fn(v, d):
        s = gg.sparse_coo_tensor(ix, gg.view_as_complex(v), (m, k))
        return gg.view_as_real(gg.sparse.mm(s, gg.view_as_complex(d)))

    return fn, (values(draw, (ix.shape[1], 2)), values(draw, (k, n, 2)))
