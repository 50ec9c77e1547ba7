"""``gradient`` (glassgrad/finite_differences.py) against PyTorch: values and gradients for a
spacing, per-dim spacings and coordinates, both edge orders; a float64 gradcheck for the input and
the coordinates; dtypes; the errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import ShapeError

_rng = np.random.default_rng(5)
X = _rng.standard_normal((4, 5, 3))
COORDS = [np.cumsum(_rng.random(n) + 0.1) for n in X.shape]
CASES = [
    {},
    {"dim": 1},
    {"dim": [-1, 0], "edge_order": 2},
    {"spacing": 0.3},
    {"spacing": [0.3, 2, 5.0], "edge_order": 2},
    {"spacing": "coords"},
    {"spacing": "coords", "edge_order": 2},
    {"spacing": "coords1", "dim": 1, "edge_order": 2},
]


def _kw(module, kw, requires_grad=False):
    out = dict(kw)
    if kw.get("spacing") == "coords":
        out["spacing"] = tuple(module.tensor(c, requires_grad=requires_grad) for c in COORDS)
    elif kw.get("spacing") == "coords1":
        out["spacing"] = (module.tensor(COORDS[1], requires_grad=requires_grad),)
    return out


@pytest.mark.parametrize("kw", CASES)
def test_gradient_values_and_gradients_match_torch(torch, kw):
    tk, gk = _kw(torch, kw, True), _kw(gg, kw, True)
    tx, gx = torch.tensor(X, requires_grad=True), gg.tensor(X, requires_grad=True)
    want, got = torch.gradient(tx, **tk), gg.gradient(gx, **gk)
    assert len(got) == len(want)
    weights = [_rng.standard_normal(X.shape) for _ in want]
    for g in got:
        assert g.dtype == gg.float64 and tuple(g.shape) == X.shape
    sum(torch.sum(t * torch.tensor(w)) for t, w in zip(want, weights)).backward()
    sum((g * gg.tensor(w)).sum() for g, w in zip(got, weights)).backward()
    for g, t in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-13, atol=1e-13)
    spacings = tk.get("spacing"), gk.get("spacing")
    for t, g in zip(*(s if isinstance(s, (tuple, list)) else () for s in spacings)):
        if isinstance(t, torch.Tensor):
            np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_gradcheck_input_and_coordinates(edge_order):
    x = gg.tensor(_rng.standard_normal((3, 1, 4)), requires_grad=True)
    c = gg.tensor(np.cumsum(_rng.random(4) + 0.2), requires_grad=True)
    assert gradcheck(lambda x, c: gg.gradient(x, spacing=(c,), dim=-1, edge_order=edge_order)[0], (x, c))
    assert gradcheck(lambda x: gg.gradient(x, dim=[0, 2], spacing=[0.5, 3.0], edge_order=edge_order), (x,))


def test_gradient_dtypes_and_edges(torch):
    for data, coords in [
        ([1, 2, 4, 7], None),
        ([1, 2, 4, 7], [0, 1, 3, 4]),
        (np.float32([1, 2, 4, 7]), [0.0, 1, 3, 4]),
    ]:
        kw_t = {} if coords is None else {"spacing": (torch.tensor(coords),)}
        kw_g = {} if coords is None else {"spacing": (gg.tensor(coords),)}
        want, got = torch.gradient(torch.tensor(data), **kw_t)[0], gg.gradient(gg.tensor(data), **kw_g)[0]
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert gg.gradient(gg.tensor(3.0)) == () and torch.gradient(torch.tensor(3.0)) == ()
    got, want = gg.gradient(gg.zeros(0, 3), dim=1)[0], torch.gradient(torch.zeros(0, 3), dim=1)[0]
    assert tuple(got.shape) == tuple(want.shape) == (0, 3)
    got = gg.gradient(gg.tensor([1.0, 3.0]), spacing=2)[0]  # two samples: the one-sided differences only
    np.testing.assert_array_equal(got.numpy(), torch.gradient(torch.tensor([1.0, 3.0]), spacing=2)[0].numpy())


def test_gradient_errors_name_the_op(torch):
    x = gg.zeros(2, 4)
    with pytest.raises(RuntimeError, match="at least edge_order"):
        torch.gradient(torch.zeros(2, 4), edge_order=2)
    with pytest.raises(
        ShapeError, match=r"gradient: expected at least edge_order \+ 1 = 3 samples along dim 0"
    ):
        gg.gradient(x, edge_order=2)
    with pytest.raises(ValueError, match="gradient: expected edge_order 1 or 2, got 3"):
        gg.gradient(x, edge_order=3)
    with pytest.raises(ShapeError, match="gradient: dim 1 appears more than once"):
        gg.gradient(x, dim=[1, -1])
    with pytest.raises(IndexError, match="gradient: dim 2 out of range"):
        gg.gradient(x, dim=2)
    with pytest.raises(
        ShapeError, match="gradient: expected one spacing for each of the input's 2 dims, got 3"
    ):
        gg.gradient(x, spacing=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="all numbers or all 1-D tensors"):
        gg.gradient(x, spacing=[2.0, gg.zeros(4)])
    with pytest.raises(TypeError, match=r"wrap coordinates in a tuple"):
        gg.gradient(x, spacing=gg.zeros(4), dim=1)
    # PyTorch reads coordinates of the wrong size without a word; here it is an error
    with pytest.raises(
        ShapeError, match=r"gradient: expected the coordinates of dim 1 as a 1-D tensor of size 4"
    ):
        gg.gradient(x, spacing=(gg.tensor([0.0, 1.0, 3.0]),), dim=1)
