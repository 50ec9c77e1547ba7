"""Samplers: order, length, seeding and PyTorch's batching rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.data import BatchSampler, RandomSampler, SequentialSampler, SubsetRandomSampler


def test_sequential():
    s = SequentialSampler(range(5))
    assert list(s) == [0, 1, 2, 3, 4] and len(s) == 5


def test_random_is_a_permutation_new_each_epoch_and_seeded():
    s = RandomSampler(range(50))
    e1, e2 = list(s), list(s)
    assert sorted(e1) == list(range(50)) and sorted(e2) == list(range(50))
    assert e1 != e2  # re-drawn per epoch
    assert all(isinstance(i, int) for i in e1)
    gg.manual_seed(3)
    a = list(RandomSampler(range(50)))
    gg.manual_seed(3)
    assert list(RandomSampler(range(50))) == a
    g = gg.Generator(7)
    b = list(RandomSampler(range(50), generator=g))
    assert list(RandomSampler(range(50), generator=gg.Generator(7))) == b


def test_random_num_samples_and_replacement():
    s = RandomSampler(range(4), num_samples=10)
    out = list(s)
    assert len(s) == 10 and len(out) == 10
    # whole permutations first, then part of one (PyTorch's rule)
    assert sorted(out[:4]) == [0, 1, 2, 3] and sorted(out[4:8]) == [0, 1, 2, 3]
    r = RandomSampler(range(3), replacement=True, num_samples=200)
    out = list(r)
    assert len(out) == 200 and set(out) == {0, 1, 2}


def test_random_sampler_errors_like_torch():
    torch = pytest.importorskip("torch")
    for kwargs in [{"num_samples": 0}, {"num_samples": -1}]:
        with pytest.raises(ValueError):
            torch.utils.data.RandomSampler(range(3), **kwargs)
        with pytest.raises(ValueError):
            RandomSampler(range(3), **kwargs)
    with pytest.raises(TypeError):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError):
        RandomSampler([])


def test_subset_random():
    s = SubsetRandomSampler([10, 20, 30])
    out = list(s)
    assert sorted(out) == [10, 20, 30] and len(s) == 3


@pytest.mark.parametrize(
    "n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True), (0, 2, False)]
)
def test_batch_sampler_matches_torch(n, bs, drop):
    torch = pytest.importorskip("torch")
    ours = BatchSampler(SequentialSampler(range(n)), bs, drop)
    ref = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)), bs, drop)
    assert list(ours) == list(ref)
    assert len(ours) == len(ref)
    # a plain iterable sampler takes the item-by-item path and gives the same batches
    assert list(BatchSampler(list(range(n)), bs, drop)) == list(ref)


def test_batch_sampler_random_covers_all():
    bs = BatchSampler(RandomSampler(range(10)), 4, False)
    batches = list(bs)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))


@pytest.mark.parametrize("base", [SequentialSampler, RandomSampler])
def test_batch_sampler_iterates_a_subclass_that_overrides_iter(base):
    # The array fast path must not bypass a custom order (PyTorch iterates the sampler).
    class Reversed(base):
        def __iter__(self):
            return iter(range(len(self.data_source) - 1, -1, -1))

    assert list(BatchSampler(Reversed(range(5)), 2, False)) == [[4, 3], [2, 1], [0]]
    assert list(BatchSampler(Reversed(range(5)), 2, True)) == [[4, 3], [2, 1]]


@pytest.mark.parametrize("bad", [0, -1, 2.0, True])
def test_batch_sampler_validates(bad):
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(range(3), 2, 0)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40),
    bs=st.integers(1, 12),
    drop=st.booleans(),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_loader_batches_cover_the_data_property(n, bs, drop, shuffle, seed):
    """Every index appears at most once, all appear unless drop_last cut them, sizes as PyTorch."""
    torch = pytest.importorskip("torch")
    from glassgrad.data import DataLoader, TensorDataset

    gg.manual_seed(seed)
    if n == 0 and shuffle:  # both refuse to shuffle nothing
        with pytest.raises(ValueError):
            torch.utils.data.DataLoader(range(n), batch_size=bs, shuffle=True)
        with pytest.raises(ValueError):
            DataLoader(TensorDataset(gg.arange(n)), batch_size=bs, shuffle=True)
        return
    loader = DataLoader(TensorDataset(gg.arange(n)), batch_size=bs, shuffle=shuffle, drop_last=drop)
    batches = [b[0].tolist() for b in loader]
    ref = torch.utils.data.DataLoader(range(n), batch_size=bs, shuffle=shuffle, drop_last=drop)
    assert len(loader) == len(ref) == len(batches)
    assert [len(b) for b in batches] == [len(b) for b in ref]
    flat = [i for b in batches for i in b]
    assert len(set(flat)) == len(flat)
    if not drop:
        assert sorted(flat) == list(range(n))
    if not shuffle:
        assert flat == list(range(len(flat)))
