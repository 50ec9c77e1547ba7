"""Double backward through the sparse COO ops (``autograd/recorded_rules_sparse.py``), checked by
gradgradcheck (finite differences of the first-order gradient). PyTorch has no reference here: its
sparse ops' gradients are not differentiable (``gv.requires_grad`` is False after
``create_graph=True``), so its second derivatives drop those terms."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

IDX = np.array([[0, 1, 1, 2, 0], [2, 0, 1, 2, 2]])  # (0, 2) stored twice: duplicates are summed


def _sparse(v):
    return gg.sparse_coo_tensor(gg.tensor(IDX), v, (3, 3))


CASES = {
    "mm": lambda v, d: gg.tanh(gg.sparse.mm(_sparse(v), d)),
    "to_dense": lambda v, d: _sparse(v).to_dense() ** 3 * d[:, :3],
    "coalesce": lambda v, d: _sparse(v).coalesce().values() ** 3 + d.sum(),
    "chain": lambda v, d: gg.sparse.mm(_sparse(v * v), d).exp(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradgradcheck(name):
    rng = np.random.default_rng(0)
    v = gg.tensor(rng.standard_normal(5), requires_grad=True)
    d = gg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gg.autograd.gradgradcheck(CASES[name], (v, d))


def test_first_order_values_equal_the_plain_backward():
    rng = np.random.default_rng(1)
    v = gg.tensor(rng.standard_normal(5), requires_grad=True)
    d = gg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    for f in CASES.values():
        plain = gg.autograd.grad(f(v, d).sum(), (v, d))
        recorded = gg.autograd.grad(f(v, d).sum(), (v, d), create_graph=True)
        for p, r in zip(plain, recorded):
            np.testing.assert_allclose(r.detach().numpy(), p.numpy(), rtol=1e-13)
