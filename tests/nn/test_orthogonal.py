"""``nn.utils.parametrizations.orthogonal``: PyTorch parity (weights, state-dict keys, gradients
w.r.t. the original), orthogonality for every map and shape, training keeps W orthogonal."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.errors import ShapeError
from glassgrad.nn.utils.parametrizations import orthogonal

CASES = [  # (out_features, in_features), map, use_trivialization
    ((4, 4), None, True),
    ((5, 3), None, True),
    ((3, 5), None, True),
    ((4, 4), "cayley", True),
    ((3, 5), "matrix_exp", True),
    ((5, 3), "cayley", True),
    ((4, 4), "householder", True),
    ((5, 3), "householder", False),
    ((3, 5), "householder", False),
    ((4, 4), "matrix_exp", False),
    ((4, 4), "cayley", False),
]


def _pair(torch, shape, omap, triv, seed=0):
    w = np.random.default_rng(seed).standard_normal(shape)
    g, t = nn.Linear(shape[1], shape[0]).double(), torch.nn.Linear(shape[1], shape[0]).double()
    with gg.no_grad(), torch.no_grad():
        g.weight.copy_(gg.tensor(w))
        t.weight.copy_(torch.tensor(w))
    orthogonal(g, orthogonal_map=omap, use_trivialization=triv)
    torch.nn.utils.parametrizations.orthogonal(t, orthogonal_map=omap, use_trivialization=triv)
    return g, t


def _orthonormal(w, tol=1e-6):
    n, k = w.shape[-2:]
    gram = w.mT @ w if n >= k else w @ w.mT
    np.testing.assert_allclose(
        gram.detach().numpy(), np.broadcast_to(np.eye(min(n, k)), gram.shape), atol=tol
    )


@pytest.mark.parametrize("shape,omap,triv", CASES)
def test_matches_torch(torch, shape, omap, triv):
    g, t = _pair(torch, shape, omap, triv)
    assert list(g.state_dict()) == list(t.state_dict())
    _orthonormal(g.weight, 1e-10)
    if triv or omap == "householder":  # the same orthogonal weight: the QR of the one given
        np.testing.assert_allclose(g.weight.detach().numpy(), t.weight.detach().numpy(), atol=1e-10)
    # the same map from the original: load torch's state (its random completion of the base too)
    g.load_state_dict({k: gg.tensor(v.numpy()) for k, v in t.state_dict().items()})
    np.testing.assert_allclose(g.weight.detach().numpy(), t.weight.detach().numpy(), atol=1e-10)
    w = np.random.default_rng(1).standard_normal(shape)
    (g.weight * gg.tensor(w)).sum().backward()
    (t.weight * torch.tensor(w)).sum().backward()
    go, to = g.parametrizations.weight.original, t.parametrizations.weight.original
    np.testing.assert_allclose(go.grad.numpy(), to.grad.numpy(), atol=1e-9)


def test_perturbed_original_matches_torch(torch):
    for omap in ("matrix_exp", "cayley", "householder"):
        g, t = (
            _pair(torch, (5, 3), omap, triv=False)
            if omap == "householder"
            else _pair(torch, (4, 4), omap, True)
        )
        x = np.random.default_rng(2).standard_normal(tuple(t.parametrizations.weight.original.shape)) * 0.3
        x = np.tril(x, -1)  # the diagonal holds householder's signs (truncated to integers)
        with gg.no_grad(), torch.no_grad():
            g.parametrizations.weight.original.add_(gg.tensor(x))
            t.parametrizations.weight.original.add_(torch.tensor(x))
        np.testing.assert_allclose(g.weight.detach().numpy(), t.weight.detach().numpy(), atol=1e-10)
        _orthonormal(g.weight, 1e-10)


def test_batched_weight_and_float32():
    m = nn.Module()
    m.weight = nn.Parameter(gg.randn(2, 4, 3))
    orthogonal(m)
    assert m.weight.shape == (2, 4, 3) and m.weight.dtype == gg.float32
    _orthonormal(m.weight, 1e-5)
    assert tuple(m.parametrizations.weight[0].base.shape) == (2, 4, 4)


def test_assigning_the_weight(torch):
    g, t = _pair(torch, (4, 4), None, True)
    q = np.linalg.qr(np.random.default_rng(3).standard_normal((4, 4)))[0]
    g.weight = gg.tensor(q)
    t.weight = torch.tensor(q)
    np.testing.assert_allclose(g.weight.detach().numpy(), q, atol=1e-10)
    np.testing.assert_allclose(g.parametrizations.weight.original.detach().numpy(), -np.eye(4))
    g2, _ = _pair(torch, (4, 4), "matrix_exp", False)
    with pytest.raises(NotImplementedError, match="use_trivialization"):
        g2.weight = gg.tensor(q)
    with pytest.raises(ShapeError, match=r"\(4, 4\)"):
        g.weight = gg.randn(3, 4, dtype=gg.float64)


def test_refusals():
    with pytest.raises(ShapeError, match="matrix"):
        m = nn.Module()
        m.weight = nn.Parameter(gg.randn(3))
        orthogonal(m)
    with pytest.raises(ValueError, match="orthogonal_map"):
        orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="'w'"):
        orthogonal(nn.Linear(3, 3), name="w")


@pytest.mark.parametrize("omap", [None, "cayley", "householder"])
def test_training_keeps_the_weight_orthogonal(omap):
    rng = np.random.default_rng(4)
    x = gg.tensor(rng.standard_normal((64, 6)), dtype=gg.float32)
    target = gg.tensor(rng.standard_normal((64, 6)), dtype=gg.float32)
    layer = orthogonal(nn.Linear(6, 6), orthogonal_map=omap)
    opt = gg.optim.Adam(layer.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = ((layer(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0]
    _orthonormal(layer.weight, 1e-5)
