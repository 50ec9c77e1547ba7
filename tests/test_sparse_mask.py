"""``Tensor.sparse_mask`` and the dense/sparse ``add_``: finite-difference gradients (float64)."""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.autograd import gradcheck


def test_sparse_mask_gradcheck_float64():
    rng = np.random.default_rng(4)
    # (2, 0) is stored twice
    mask = gg.sparse_coo_tensor([[0, 2, 2, 1], [1, 0, 0, 3]], [1.0, 1.0, 1.0, 1.0], (3, 4))
    hybrid = gg.sparse_coo_tensor([[2, 0]], gg.ones(2, 4), (3, 4))  # one sparse dim, rows of 4
    x = gg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda x: x.sparse_mask(mask).to_dense() ** 2, (x,))
    assert gradcheck(lambda x: (x * 3.0).sparse_mask(hybrid).coalesce().to_dense(), (x,))


def test_add_sparse_into_nonleaf_gradcheck_float64():
    rng = np.random.default_rng(5)
    ix = [[0, 2, 0], [1, 1, 1]]
    v = gg.tensor(rng.standard_normal(3), requires_grad=True)
    x = gg.tensor(rng.standard_normal((3, 2)), requires_grad=True)

    def f(x, v):
        y = x * 1.0
        y.add_(gg.sparse_coo_tensor(ix, v, (3, 2)), alpha=-0.5)
        return y.sub_(gg.sparse_coo_tensor(ix, v * v, (3, 2))) ** 2

    assert gradcheck(f, (x, v))
