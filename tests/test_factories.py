"""Factories: shapes, dtypes, requires_grad, and reproducible randomness under manual_seed."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def test_shapes_and_dtypes():
    assert gg.zeros(2, 3).shape == (2, 3) and gg.zeros((2, 3)).shape == (2, 3)
    assert gg.zeros(2).dtype == gg.float32 and gg.ones(2, dtype=gg.float64).dtype == gg.float64
    assert gg.full((2,), 7).dtype == gg.int64 and gg.full((2,), 7.0).dtype == gg.float32
    assert gg.full(3, True).dtype == gg.bool
    assert gg.arange(5).tolist() == [0, 1, 2, 3, 4] and gg.arange(5).dtype == gg.int64
    assert gg.arange(1.0, 2.0, 0.5).tolist() == [1.0, 1.5] and gg.arange(0.0, 1.0, 0.5).dtype == gg.float32
    assert gg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    np.testing.assert_array_equal(gg.eye(3)._data, np.eye(3))
    assert gg.eye(2, 3).shape == (2, 3)
    assert gg.empty(0, 3).shape == (0, 3)
    x = gg.ones(2, 3, dtype=gg.float64)
    assert gg.zeros_like(x).dtype == gg.float64 and gg.ones_like(x).shape == (2, 3)
    assert gg.full_like(x, 2.0).tolist() == [[2.0] * 3] * 2
    assert gg.randn_like(x).dtype == gg.float64
    assert gg.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="zeros: expected non-negative integer sizes"):
        gg.zeros(-1)


def test_random_factories_are_reproducible_under_manual_seed():
    gg.manual_seed(42)
    a = (gg.rand(3), gg.randn(3), gg.randint(0, 10, (5,)), gg.randperm(6))
    gg.manual_seed(42)
    b = (gg.rand(3), gg.randn(3), gg.randint(0, 10, (5,)), gg.randperm(6))
    for x, y in zip(a, b):
        assert x.tolist() == y.tolist()
    assert a[2].dtype == gg.int64 and a[2]._data.min() >= 0 and a[2]._data.max() < 10
    assert sorted(a[3].tolist()) == list(range(6))
    g1, g2 = gg.Generator(5), gg.Generator(5)
    assert gg.randn(4, generator=g1).tolist() == gg.randn(4, generator=g2).tolist()


def test_random_statistics():
    gg.manual_seed(0)
    r = gg.rand(20000)._data
    n = gg.randn(20000)._data
    assert r.min() >= 0 and r.max() < 1 and abs(r.mean() - 0.5) < 0.01
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03


@pytest.mark.parametrize("data", [[2**63, 1], [2**63], [-(2**63) - 1], 2**64, [[1, 2**70]]])
def test_tensor_refuses_python_ints_outside_int64(data):
    # NumPy makes [2**63, 1] float64 and [-2**63 - 1] an object array; PyTorch refuses both
    with pytest.raises(OverflowError, match="tensor: expected integers that fit int64"):
        gg.tensor(data)


def test_tensor_int64_limits_and_large_ints_beside_floats(torch, recwarn):
    for data in (
        [2**63 - 1, -(2**63)],
        [1.0, 2**70],
        [True, 2**70, 1.5],
        [1e300, 1.0],
        [[1.5, 2**64], [1, 2]],
    ):
        ours, theirs = gg.tensor(data), torch.tensor(data)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert not [w for w in recwarn if w.category is RuntimeWarning]  # 1e300 -> inf quietly, as PyTorch


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_as_a_keyword_as_pytorch(torch, name):
    # was: TypeError (gat/main.py writes torch.empty(size=(n, m)))
    for size in [(2, 3), [4], (0,)]:
        assert tuple(getattr(gg, name)(size=size).shape) == tuple(getattr(torch, name)(size=size).shape)
    with pytest.raises(TypeError, match=f"{name}: expected the size positionally or as size=, got both"):
        getattr(gg, name)(2, size=(2, 3))


def test_tensor_of_a_sequence_reads_it_by_position_as_pytorch(torch):
    # custom_FCNN.py (Machine-Learning-Collection) calls torch.tensor(df.iloc[i, 0:11]): a pandas
    # Series. PyTorch reads a sequence by position: a float64 Series stays float64, one whose index
    # has labels cannot be read so and is refused (glassgrad iterated it: float32, and no error).
    pd = pytest.importorskip("pandas")
    import collections

    for data in (
        pd.Series([1.5, 2.5]),
        pd.Series(np.array([1, 2], np.int32)),
        range(3),
        collections.deque([1.0, 2]),
    ):
        ours, theirs = gg.tensor(data), torch.tensor(data)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        assert ours.tolist() == theirs.tolist()
    labelled = pd.Series([1.5, 2.5], index=["a", "b"])
    with pytest.raises(ValueError, match="could not determine the shape of object type 'Series'"):
        torch.tensor(labelled)
    with pytest.raises(ValueError, match="could not determine the shape of object type 'Series'"):
        gg.tensor(labelled)
