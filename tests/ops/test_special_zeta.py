"""torch.special.zeta (the Hurwitz zeta function): closed forms, PyTorch parity over the domain's
edges, the gradient in q (and its refusal in x), broadcasting, numbers and out=."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg


def test_closed_forms():
    z = gg.special.zeta(
        gg.tensor([2.0, 2.0, 4.0, 3.0], dtype=gg.float64), gg.tensor([1.0, 2.0, 1.0, 0.5], dtype=gg.float64)
    )
    zeta3 = 1.2020569031595942  # Apery's constant; zeta(s, 1/2) = (2^s - 1) zeta(s)
    expected = [math.pi**2 / 6, math.pi**2 / 6 - 1, math.pi**4 / 90, 7 * zeta3]
    np.testing.assert_allclose(z.numpy(), expected, rtol=1e-14)
    # the domain: a pole at x = 1 and at q a non-positive integer, NaN for x < 1 or q < 0 with x not an integer
    edge = gg.special.zeta(
        gg.tensor([1.0, 2.0, 0.5, 2.5, 2.0], dtype=gg.float64),
        gg.tensor([3.0, -2.0, 1.0, -1.5, -1.5], dtype=gg.float64),
    )
    assert edge[:2].tolist() == [math.inf, math.inf] and all(math.isnan(v) for v in edge[2:4].tolist())
    # q = -1.5, x = 2: (-1.5)^-2 + (-0.5)^-2 + zeta(2, 0.5) = 4/9 + 4 + 3 pi^2 / 6
    assert edge[4].item() == pytest.approx(4 / 9 + 4 + 3 * math.pi**2 / 6, rel=1e-13)


def test_matches_pytorch_over_the_domain(torch):
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-1, 12, 600),
            [1, 0.5, 2, 3, 2.5, np.inf, np.nan, 2, 60, 200],
            rng.integers(-3, 8, 200),
            rng.uniform(1, 80, 200),
        ]
    )
    q = np.concatenate(
        [
            rng.uniform(-8, 20, 600),
            [2, 1, -2, -1.5, -1.5, 1, 1, np.inf, 1, 1],
            rng.uniform(-50, 5, 200),
            rng.uniform(0, 3, 200),
        ]
    )
    for dtype, rtol in (("float64", 1e-12), ("float32", 2e-5)):
        theirs = torch.special.zeta(torch.tensor(x.astype(dtype)), torch.tensor(q.astype(dtype)))
        ours = gg.special.zeta(gg.tensor(x.astype(dtype)), gg.tensor(q.astype(dtype)))
        assert ours.dtype == getattr(gg, dtype)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=0, equal_nan=True)


def test_numbers_integers_broadcasting_and_out(torch):
    for args in ((2, [1.0, 2.0]), ([2, 3], 1), ([[2.0], [3.0]], [1.0, 2.5, 4.0])):
        a, b = (gg.tensor(v) if isinstance(v, list) else v for v in args)
        c, d = (torch.tensor(v) if isinstance(v, list) else v for v in args)
        ours, theirs = gg.special.zeta(a, b), torch.special.zeta(c, d)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    out = gg.empty(2, dtype=gg.float64)
    gg.special.zeta(gg.tensor([2.0, 4.0], dtype=gg.float64), 1.0, out=out)
    np.testing.assert_allclose(out.numpy(), [math.pi**2 / 6, math.pi**4 / 90], rtol=1e-14)


def test_gradient_in_q_and_refused_in_x(torch):
    rng = np.random.default_rng(1)
    x, q = rng.uniform(1.5, 6, (3, 4)), rng.uniform(0.2, 5, (4,))
    qt, qg = torch.tensor(q, requires_grad=True), gg.tensor(q, requires_grad=True)
    w = rng.standard_normal((3, 4))
    (torch.special.zeta(torch.tensor(x), qt) * torch.tensor(w)).sum().backward()
    (gg.special.zeta(gg.tensor(x), qg) * gg.tensor(w)).sum().backward()
    np.testing.assert_allclose(qg.grad.numpy(), qt.grad.numpy(), rtol=1e-12)
    # second derivative: d2/dq2 zeta(x, q) = x (x + 1) zeta(x + 2, q)
    q2 = gg.tensor([1.5], dtype=gg.float64, requires_grad=True)
    (g1,) = gg.autograd.grad(
        gg.special.zeta(gg.tensor([2.0], dtype=gg.float64), q2).sum(), q2, create_graph=True
    )
    (g2,) = gg.autograd.grad(g1.sum(), q2)
    assert g2.item() == pytest.approx(
        6 * gg.special.zeta(gg.tensor(4.0, dtype=gg.float64), 1.5).item(), rel=1e-12
    )
    xg = gg.tensor([2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="first argument"):
        gg.special.zeta(xg, gg.tensor([1.0])).sum().backward()


def test_complex_refused():
    with pytest.raises(TypeError, match="real operands"):
        gg.special.zeta(gg.tensor([2.0 + 1j]), 1.0)
