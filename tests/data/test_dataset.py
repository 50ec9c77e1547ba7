"""Datasets: TensorDataset, Subset, ConcatDataset, random_split (torch.utils.data semantics)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.data import (
    BatchedSamples,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)


def _ds(n: int = 10) -> TensorDataset:
    X = gg.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = gg.tensor(np.arange(n) % 4)
    return TensorDataset(X, y)


def test_tensor_dataset_items_and_len():
    ds = _ds(10)
    assert len(ds) == 10
    x, y = ds[3]
    np.testing.assert_array_equal(x.numpy(), [9.0, 10.0, 11.0])
    assert y.item() == 3 and y.dtype == gg.int64 and x.dtype == gg.float32
    x, y = ds[-1]
    np.testing.assert_array_equal(x.numpy(), [27.0, 28.0, 29.0])


def test_tensor_dataset_length_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(5, 2\), \(4,\)"):
        TensorDataset(gg.zeros(5, 2), gg.zeros(4))
    with pytest.raises(AssertionError):  # what PyTorch raises (its sizes are an assert)
        TensorDataset(gg.zeros(5, 2), gg.zeros(4))
    with pytest.raises(ValueError):
        TensorDataset()
    with pytest.raises(TypeError):
        TensorDataset(np.zeros(3))


def test_getitems_is_one_fancy_index_per_tensor():
    ds = _ds(10)
    batch = ds.__getitems__([7, 2, 2, 0])
    assert isinstance(batch, BatchedSamples) and len(batch) == 4
    X, y = batch.columns
    np.testing.assert_array_equal(X.numpy(), ds.tensors[0].numpy()[[7, 2, 2, 0]])
    np.testing.assert_array_equal(y.numpy(), [3, 2, 2, 0])
    # It is also a sequence of samples, so a hand-written collate_fn may loop over it.
    x1, y1 = batch[1]
    np.testing.assert_array_equal(x1.numpy(), [6.0, 7.0, 8.0])
    assert y1.item() == 2
    assert [int(s[1]) for s in batch] == [3, 2, 2, 0]
    assert len(batch[1:3]) == 2


def test_subset_maps_indices_and_getitems():
    ds = _ds(10)
    sub = Subset(ds, [9, 1, 4])
    assert len(sub) == 3
    np.testing.assert_array_equal(sub[0][0].numpy(), ds[9][0].numpy())
    cols = sub.__getitems__([2, 0]).columns
    np.testing.assert_array_equal(cols[1].numpy(), [0, 1])  # labels of items 4 and 9

    class Plain(Dataset):  # no __getitems__: Subset falls back to one item at a time
        def __getitem__(self, i):
            return i * 10

        def __len__(self):
            return 5

    assert Subset(Plain(), [4, 2]).__getitems__([1, 0]) == [20, 40]


def test_concat_dataset():
    a, b = _ds(3), _ds(4)
    c = a + b
    assert isinstance(c, ConcatDataset) and len(c) == 7
    np.testing.assert_array_equal(c[3][0].numpy(), b[0][0].numpy())
    np.testing.assert_array_equal(c[-1][0].numpy(), b[3][0].numpy())
    with pytest.raises(IndexError):
        c[7]
    with pytest.raises(ValueError):
        ConcatDataset([])


def test_random_split_partitions_and_is_seeded():
    ds = _ds(10)
    a, b = random_split(ds, [7, 3], generator=gg.Generator(1))
    assert len(a) == 7 and len(b) == 3
    assert sorted(a.indices + b.indices) == list(range(10))
    a2, _ = random_split(ds, [7, 3], generator=gg.Generator(1))
    assert a.indices == a2.indices
    gg.manual_seed(5)
    g1 = random_split(ds, [5, 5])[0].indices
    gg.manual_seed(5)
    assert random_split(ds, [5, 5])[0].indices == g1
    with pytest.raises(ValueError, match="sum"):
        random_split(ds, [3, 3])


def test_random_split_fraction_lengths_match_torch():
    torch = pytest.importorskip("torch")
    for n, fracs in [(10, [0.8, 0.2]), (1797, [0.8, 0.2]), (7, [0.3, 0.3, 0.4]), (11, [0.5, 0.5])]:
        ours = [len(s) for s in random_split(_ds(n), fracs)]
        ref = [len(s) for s in torch.utils.data.random_split(range(n), fracs)]
        assert ours == ref, (n, fracs)


def test_random_split_zero_length_warns():
    with pytest.warns(UserWarning, match="empty"):
        random_split(_ds(2), [0.1, 0.9, 0.0])


def test_iterable_dataset_must_define_iter():
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())
    with pytest.raises(NotImplementedError):
        Dataset()[0]
