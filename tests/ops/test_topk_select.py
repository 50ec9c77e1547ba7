"""topk's selection path (k at most a quarter of at least 64 entries, no NaN): the same indices as
the first k of a full stable sort, ties included, on any dim; values and gradients as PyTorch."""

import numpy as np
import pytest

import glassgrad as gg


def _reference(a: np.ndarray, k: int, dim: int, largest: bool) -> np.ndarray:
    key = -a.astype(np.float64) if largest else a
    return np.take(np.argsort(key, axis=dim, kind="stable"), np.arange(k), axis=dim)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("largest", [True, False])
def test_selection_equals_the_stable_sort_with_ties(seed, largest):
    rng = np.random.default_rng(seed)
    shape = [int(s) for s in rng.integers(1, 4, size=3)]
    dim = seed % 3
    shape[dim] = int(rng.integers(64, 200))
    kinds = [
        rng.integers(0, 4, size=shape),  # many ties at the k-th place
        rng.integers(-3, 3, size=shape).astype(np.float32) * np.float32(0.0),  # 0.0 and -0.0 only
        np.where(rng.random(shape) < 0.1, np.inf, rng.standard_normal(shape)),
        rng.standard_normal(shape).astype(np.float32),
    ]
    for a in kinds:
        for k in (1, 2, shape[dim] // 4):
            got = gg.tensor(a).topk(k, dim=dim, largest=largest)
            want = _reference(a, k, dim, largest)
            assert np.array_equal(got.indices._data, want)
            assert np.array_equal(got.values._data, np.take_along_axis(a, want, axis=dim))


def test_nan_and_large_k_take_the_full_sort():
    a = np.arange(100, dtype=np.float64)
    a[[3, 50]] = np.nan
    # NaN is the largest, as PyTorch, and earlier positions win among the NaN
    assert gg.tensor(a).topk(3).indices.tolist() == [3, 50, 99]
    assert gg.tensor(a).topk(60).indices.tolist()[:3] == [3, 50, 99]


def test_values_and_gradients_match_pytorch(torch):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((5, 300, 3))  # distinct values: PyTorch's order among ties is its own
    g = rng.standard_normal((5, 12, 3))
    x, tx = gg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    v, i = x.topk(12, dim=1)
    tv, ti = tx.topk(12, dim=1)
    assert np.array_equal(i._data, ti.numpy()) and np.array_equal(v._data, tv.detach().numpy())
    v.backward(gg.tensor(g))
    tv.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad._data, tx.grad.numpy())
