"""``histogramdd`` against PyTorch: counts, edges, weights, density, given edges, errors."""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "kw",
    [
        {"bins": 4},
        {"bins": [2, 3, 5]},
        {"bins": 3, "range": [-1, 1, -2, 2, 0, 1]},
        {"bins": [2, 3, 4], "weight": True},
        {"bins": [2, 3, 4], "weight": True, "density": True},
        {"bins": 2, "density": True},
    ],
)
def test_histogramdd_matches_torch(torch, dtype, kw):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 40, 3)).astype(dtype)
    x[0, :2] = [[-1.0, -2.0, 0.0], [1.0, 2.0, 1.0]]  # on the given edges
    if "range" in kw:
        x[0, 2] = [np.nan, 0.0, 0.0]  # not counted (without a range, PyTorch refuses a NaN)
    w = rng.random((3, 40)).astype(dtype)
    kt, kg = dict(kw), dict(kw)
    if kw.get("weight"):
        kt["weight"], kg["weight"] = torch.tensor(w), gg.tensor(w)
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # on more threads PyTorch adds the weights in per-thread partial sums
    try:
        want = torch.histogramdd(torch.tensor(x), **kt)
    finally:
        torch.set_num_threads(before)
    got = gg.histogramdd(gg.tensor(x), **kg)
    assert got.hist.dtype == getattr(gg, dtype) and tuple(got.hist.shape) == tuple(want.hist.shape)
    # a weighted density divides by a sum of non-integers: its rounding, not its order, is PyTorch's
    tol = (
        {"rtol": 1e-6 if dtype == "float32" else 1e-14}
        if kw.get("weight") and kw.get("density")
        else {"rtol": 0}
    )
    np.testing.assert_allclose(got.hist.numpy(), want.hist.numpy(), **tol)
    assert isinstance(got.bin_edges, tuple) and len(got.bin_edges) == 3
    for g, t in zip(got.bin_edges, want.bin_edges):
        np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_histogramdd_given_edges_and_edge_cases(torch):
    x = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 3.0], [2.0, 2.0], [5.0, 4.0], [6.0, 0.0]], np.float32)
    edges = [np.array([0.0, 1.0, 5.0], np.float32), np.array([0.0, 2.0, 4.0], np.float32)]
    w = np.arange(1.0, 7.0, dtype=np.float32)
    want = torch.histogramdd(torch.tensor(x), bins=[torch.tensor(e) for e in edges], weight=torch.tensor(w))
    got = gg.histogramdd(gg.tensor(x), bins=[gg.tensor(e) for e in edges], weight=gg.tensor(w))
    np.testing.assert_array_equal(got.hist.numpy(), want.hist.numpy())
    assert got.hist.tolist() == [[1.0, 0.0], [2.0, 12.0]]  # (5, 4) lies on both last edges; (6, 0) outside
    for shape in [(0, 2), (2, 1)]:  # no points: edges over [0, 1]; equal values: widened by 0.5
        data = np.ones(shape, np.float32)
        want = torch.histogramdd(torch.tensor(data), bins=2)
        got = gg.histogramdd(gg.tensor(data), bins=2)
        np.testing.assert_array_equal(got.hist.numpy(), want.hist.numpy())
        for g, t in zip(got.bin_edges, want.bin_edges):
            np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_histogramdd_errors_name_the_op(torch):
    with pytest.raises(RuntimeError):
        torch.histogramdd(torch.rand(5), bins=2)
    with pytest.raises(ShapeError, match=r"histogramdd: expected input of at least 2 dims .* shape \(5,\)"):
        gg.histogramdd(gg.rand(5), bins=2)
    with pytest.raises(ShapeError, match="histogramdd: expected 2 bin counts .* got 1"):
        gg.histogramdd(gg.rand(5, 2), bins=[2])
    with pytest.raises(ShapeError, match="histogramdd: expected range as 4 numbers .* got 2"):
        gg.histogramdd(gg.rand(5, 2), bins=2, range=[0.0, 1.0])
    with pytest.raises(ShapeError, match=r"histogramdd: expected weight of shape \(5,\)"):
        gg.histogramdd(gg.rand(5, 2), bins=2, weight=gg.rand(5, 2))
    with pytest.raises(RuntimeError, match="not finite"):
        torch.histogramdd(torch.tensor([[0.0, float("nan")]]), bins=2)
    with pytest.raises(ShapeError, match=r"histogramdd \(axis 1\): expected a finite range"):
        gg.histogramdd(gg.tensor([[0.0, float("nan")]]), bins=2)
    with pytest.raises(TypeError, match="must be int, not float"):
        gg.histogramdd(gg.rand(5, 2), bins=2.5)
    with pytest.raises(NotImplementedError, match="histogramdd: \"histogramdd\" not implemented for 'Long'"):
        gg.histogramdd(gg.ones(5, 2, dtype=gg.int64), bins=2)
