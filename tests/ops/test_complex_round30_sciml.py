"""Complex twins and complex norms added in round 30 (group sciml): holomorphic unary functions
(log, log1p, sin, cos, tanh, tan, sinh, cosh, expm1, sqrt) and the vector / Frobenius / induced
norms of complex tensors, checked against PyTorch to second order and by float64 gradgradcheck.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

Z0 = np.array(
    [[0.3 + 0.7j, -1.1 + 0.2j, 0.5 - 0.9j, 0.0 + 0.0j], [1.2 - 0.4j, -0.6 - 1.3j, 0.8 + 0.1j, -0.2 + 0.5j]]
)

UNARY = {
    "log": lambda L, z: (z + 3).log(),
    "log1p": lambda L, z: L.log1p(z + 2),
    "sin": lambda L, z: z.sin(),
    "cos": lambda L, z: L.cos(z),
    "tanh": lambda L, z: L.tanh(z * 0.5),
    "tanh_module": lambda L, z: L.nn.Tanh()(z * 0.5),
    "tan": lambda L, z: (z * 0.5).tan(),
    "sinh": lambda L, z: z.sinh(),
    "cosh": lambda L, z: L.cosh(z),
    "expm1": lambda L, z: z.expm1(),
    "sqrt": lambda L, z: (z + 3).sqrt(),
    "rsqrt": lambda L, z: L.rsqrt(z + 3),
    "sigmoid": lambda L, z: (z * 0.5).sigmoid(),
    "sigmoid_module": lambda L, z: L.nn.Sigmoid()(z * 0.5),
}

NORMS = {
    "norm_dim": lambda L, z: L.norm(z, 2, 1),
    "norm_all": lambda L, z: z.norm(),
    "norm_p1": lambda L, z: z.norm(p=1, dim=0),
    "norm_p3": lambda L, z: L.norm(z, 3),
    "norm_inf": lambda L, z: L.norm(z, float("inf"), 1),
    "vector_norm": lambda L, z: L.linalg.vector_norm(z, dim=1, keepdim=True),
    "linalg_norm": lambda L, z: L.linalg.norm(z),
    "matrix_norm_fro": lambda L, z: L.linalg.matrix_norm(z),
    "matrix_norm_1": lambda L, z: L.linalg.matrix_norm(z, ord=1),
    "matrix_norm_-inf": lambda L, z: L.linalg.matrix_norm(z, ord=float("-inf")),
}


def _second_order(lib, f):
    z = lib.tensor(Z0, requires_grad=True)
    y = f(lib, z)
    loss = lib.view_as_real(y).pow(2).sum() if y.is_complex() else y.pow(2).sum()
    (g,) = lib.autograd.grad(loss, z, create_graph=True)
    (h,) = lib.autograd.grad(lib.view_as_real(g).pow(3).sum(), z)
    return [t.detach().numpy() for t in (y, g, h)]


@pytest.mark.parametrize("name", sorted({**UNARY, **NORMS}))
def test_complex_op_and_its_first_two_gradients_match_torch(torch, name):
    f = {**UNARY, **NORMS}[name]
    for a, b in zip(_second_order(gg, f), _second_order(torch, f)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_complex_unary_gradgradcheck(name):
    z = gg.tensor(Z0, requires_grad=True)
    fn = lambda t: gg.view_as_real(UNARY[name](gg, t))  # noqa: E731
    assert gg.autograd.gradgradcheck(fn, (z,))


def test_complex_norm_is_real_and_its_gradient_zero_at_a_zero_element():
    z = gg.tensor(np.array([3 + 4j, 0j]), requires_grad=True)
    n = gg.linalg.vector_norm(z)
    assert n.dtype == gg.float64 and n.item() == 5.0
    n.backward()
    np.testing.assert_allclose(z.grad.numpy(), [0.6 + 0.8j, 0j])  # z / |z|, by hand


def test_complex_nuclear_norm_matches_pytorch(torch):
    # refused until round 57 gave complex matrices an SVD (ops/linalg_complex_svd.py)
    out = []
    for lib in (torch, gg):
        z = lib.tensor(Z0, requires_grad=True)
        n = lib.linalg.matrix_norm(z, ord="nuc")
        n.backward()
        out.append((n.item(), z.grad.numpy()))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-13)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-11, atol=1e-13)


M = np.eye(2, 4, dtype=bool)
W0 = np.array(
    [[0.2 - 0.3j, 0.5 + 0.1j, -0.4 + 0.2j, 0.1 + 0.1j], [-0.3 + 0.6j, 0.2 - 0.2j, 0.0 + 0.3j, 0.7 - 0.1j]]
)
LAYERS = {
    "where": lambda L, z: L.where(L.tensor(M), z, z * 1j + 1),
    "masked_fill": lambda L, z: z.masked_fill(L.tensor(M), 1 + 2j),
    "gather": lambda L, z: z.gather(1, L.tensor([[0, 1, 1], [3, 3, 2]])),
    "linear": lambda L, z: L.nn.functional.linear(z, L.tensor(W0), L.tensor(W0[:, 0])),
    "linear_3d": lambda L, z: L.nn.functional.linear(z.expand(3, 2, 4), L.tensor(W0)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_complex_selection_and_linear_match_torch_to_second_order(torch, name):
    f = LAYERS[name]
    for a, b in zip(_second_order(gg, f), _second_order(torch, f)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_complex_valued_linear_layers_train_with_adam_as_torch(torch):
    def run(lib):
        lib.manual_seed(0)
        net = lib.nn.Sequential(
            lib.nn.Linear(4, 3, dtype=lib.cdouble), lib.nn.Linear(3, 2, dtype=lib.cdouble)
        )
        for p, v in zip(net.parameters(), (W0.repeat(2, 0)[:3], W0[0, :3], W0[:, :3], W0[1, :2])):
            with lib.no_grad():
                p.copy_(lib.tensor(v))
        opt = lib.optim.AdamW(net.parameters(), lr=0.05)
        x = lib.tensor(Z0)
        for _ in range(3):
            opt.zero_grad()
            loss = (net(x) - 1j).abs().pow(2).mean()
            loss.backward()
            opt.step()
        return loss.item(), [p.detach().numpy() for p in net.parameters()]

    (l_g, p_g), (l_t, p_t) = run(gg), run(torch)
    assert l_g == pytest.approx(l_t, rel=1e-12)
    for a, b in zip(p_g, p_t):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
