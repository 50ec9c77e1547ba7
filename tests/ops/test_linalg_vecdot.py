"""``linalg.vecdot``, ``linalg.matmul`` and ``linalg.diagonal`` (linalg_more.py) against PyTorch:
values and gradients with broadcasting, complex conjugation of x, and the dtype refusals."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError

RNG = np.random.default_rng(11)


def _arr(shape, complex_=False):
    a = RNG.standard_normal(shape)
    return a + 1j * RNG.standard_normal(shape) if complex_ else a


@pytest.mark.parametrize(
    "xs,ys,dim",
    [((2, 3), (3,), -1), ((2, 3), (3,), 0), ((4, 1, 5), (3, 5), -1), ((0, 3), (3,), -1), ((1,), (1,), 0)],
)
@pytest.mark.parametrize("complex_", [False, True])
def test_vecdot_matches_torch(torch, xs, ys, dim, complex_):
    x, y = _arr(xs, complex_), _arr(ys, complex_)
    gx, gy = gg.tensor(x, requires_grad=True), gg.tensor(y, requires_grad=True)
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    got, want = gg.linalg.vecdot(gx, gy, dim=dim), torch.linalg.vecdot(tx, ty, dim=dim)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = _arr(tuple(want.shape), complex_)
    (got * gg.tensor(w)).real.sum().backward()
    (want * torch.tensor(w)).real.sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.resolve_conj().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gy.grad.numpy(), ty.grad.resolve_conj().numpy(), rtol=1e-12, atol=1e-12)


def test_vecdot_conjugates_x_by_hand():
    x, y = gg.tensor([1 + 2j, 3j]), gg.tensor([2 - 1j, 1 + 1j])
    # conj(1 + 2j)(2 - 1j) + conj(3j)(1 + 1j) = (1 - 2j)(2 - 1j) + (-3j)(1 + 1j) = -5j + 3 - 3j
    assert complex(gg.linalg.vecdot(x, y).item()) == pytest.approx(3 - 8j)


def test_vecdot_gradcheck():
    x = gg.tensor(_arr((3, 4)), requires_grad=True)
    y = gg.tensor(_arr((4,)), requires_grad=True)
    assert gradcheck(lambda a, b: gg.linalg.vecdot(a, b), (x, y))


def test_vecdot_refusals():
    with pytest.raises(DTypeError, match="linalg.vecdot: expected x and y of one dtype"):
        gg.linalg.vecdot(gg.randn(3), gg.randn(3, dtype=gg.float64))
    with pytest.raises(DTypeError, match="linalg.vecdot: expected a floating-point or complex input"):
        gg.linalg.vecdot(gg.ones(3, dtype=gg.int64), gg.ones(3, dtype=gg.int64))


def test_linalg_matmul_and_diagonal_match_torch(torch):
    a, b, c = _arr((2, 3, 4)), _arr((4,)), _arr((2, 4, 5))
    for x, y in ((a, b), (a, c)):
        got = gg.linalg.matmul(gg.tensor(x), gg.tensor(y)).numpy()
        np.testing.assert_allclose(
            got, torch.linalg.matmul(torch.tensor(x), torch.tensor(y)).numpy(), rtol=1e-12
        )
    for kw in ({}, {"offset": 1}, {"offset": -1, "dim1": 0, "dim2": 2}):
        g = gg.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        gd, td = gg.linalg.diagonal(g, **kw), torch.linalg.diagonal(t, **kw)
        np.testing.assert_array_equal(gd.detach().numpy(), td.detach().numpy())
        gd.sum().backward()
        td.sum().backward()
        np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())
    out = gg.empty(2, 3)
    assert gg.linalg.matmul(gg.tensor(a).float(), gg.tensor(b).float(), out=out) is out
