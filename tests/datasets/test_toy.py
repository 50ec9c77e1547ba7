"""Toy datasets: truth tables, shapes, dtypes and seeding."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.datasets import GATES, logic_gate, moons, spirals, xor

TRUTH = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "nand": lambda a, b: 1 - (a & b),
    "nor": lambda a, b: 1 - (a | b),
    "xor": lambda a, b: a ^ b,
    "xnor": lambda a, b: 1 - (a ^ b),
}


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_logic_gates_follow_their_truth_table(name):
    X, y = logic_gate(name)
    assert X.shape == (4, 2) and y.shape == (4, 1) and X.dtype == gg.float32 and y.dtype == gg.float32
    a, b = X.numpy().astype(int).T
    np.testing.assert_array_equal(y.numpy()[:, 0], TRUTH[name](a, b))
    assert set(GATES) == set(TRUTH)


def test_xor_and_unknown_gate():
    X, y = xor()
    np.testing.assert_array_equal(X.numpy(), [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y.numpy().ravel(), [0, 1, 1, 0])
    assert logic_gate("AND")[1].numpy().ravel().tolist() == [0, 0, 0, 1]
    with pytest.raises(ValueError, match="xnor"):
        logic_gate("implies")


def test_spirals_shapes_seeding_and_geometry():
    X, y = spirals(n_per_class=50, n_classes=3, noise=0.0)
    assert X.shape == (150, 2) and y.shape == (150,) and X.dtype == gg.float32 and y.dtype == gg.int64
    assert np.bincount(y.numpy()).tolist() == [50, 50, 50]
    r = np.linalg.norm(X.numpy(), axis=1)
    np.testing.assert_allclose(r[:50], np.linspace(0, 1, 50), atol=1e-6)  # radius grows along an arm
    a = spirals(20, 2, generator=gg.Generator(1))[0].numpy()
    b = spirals(20, 2, generator=gg.Generator(1))[0].numpy()
    c = spirals(20, 2, generator=gg.Generator(2))[0].numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError):
        spirals(0)


def test_moons_match_sklearn_without_noise():
    sk = pytest.importorskip("sklearn.datasets")
    X, y = moons(n=101, noise=0.0)
    Xs, ys = sk.make_moons(n_samples=101, noise=0.0, shuffle=False)
    np.testing.assert_allclose(X.numpy(), Xs, atol=1e-6)
    np.testing.assert_array_equal(y.numpy(), ys)
    assert X.dtype == gg.float32 and y.dtype == gg.int64


def test_moons_noise_is_seeded():
    gg.manual_seed(3)
    a = moons(noise=0.1)[0].numpy()
    gg.manual_seed(3)
    np.testing.assert_array_equal(a, moons(noise=0.1)[0].numpy())
    assert a.shape == (200, 2)
    with pytest.raises(ValueError):
        moons(n=1)
