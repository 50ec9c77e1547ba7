"""WeightedRandomSampler, lazy RandomSampler(replacement=True, num_samples=huge), and both
against ``torch.utils.data`` where PyTorch's behaviour is deterministic (lengths, errors)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.data import BatchSampler, DataLoader, RandomSampler, TensorDataset, WeightedRandomSampler
from glassgrad.data.sampler import CHUNK


def test_huge_random_sampler_draws_lazily():
    s = RandomSampler(range(10), replacement=True, num_samples=10**10)
    assert len(s) == 10**10
    first = list(itertools.islice(iter(s), 2 * CHUNK + 5))  # would need 80 GB if built up front
    assert len(first) == 2 * CHUNK + 5 and set(first) == set(range(10))
    batches = iter(BatchSampler(s, batch_size=1000, drop_last=False))
    assert [len(next(batches)) for _ in range(200)] == [1000] * 200  # 200 batches straddle chunks
    loader = DataLoader(TensorDataset(gg.arange(10)), batch_size=64, sampler=s)
    assert len(loader) == -(-(10**10) // 64)
    x = next(iter(loader))[0]
    assert x.shape == (64,)


def test_huge_sampler_without_replacement_is_lazy_too():
    s = RandomSampler(range(7), num_samples=10**12)
    first = list(itertools.islice(iter(s), 21))
    assert [sorted(first[i : i + 7]) for i in (0, 7, 14)] == [list(range(7))] * 3  # whole permutations


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("k", [CHUNK - 1, CHUNK, 2 * CHUNK + 3])
def test_batches_across_chunks_are_the_sampler_order(k, drop_last):
    """BatchSampler's sliced fast path yields exactly the sampler's own order, cut in batches."""
    s = RandomSampler(range(5), replacement=True, num_samples=k)
    gg.manual_seed(1)
    flat = list(s)
    gg.manual_seed(1)
    batches = list(BatchSampler(s, batch_size=7, drop_last=drop_last))
    assert [i for b in batches for i in b] == (flat[: len(flat) - len(flat) % 7] if drop_last else flat)
    assert all(len(b) == 7 for b in batches[:-1]) and len(batches) == len(BatchSampler(s, 7, drop_last))


def test_weighted_frequencies_follow_the_weights():
    w = [1.0, 0.0, 3.0, 6.0]
    out = np.array(list(WeightedRandomSampler(w, num_samples=20000)))
    freq = np.bincount(out, minlength=4) / len(out)
    assert freq[1] == 0  # a zero weight is never drawn
    # 20000 draws: each frequency within 4 standard deviations (sqrt(p(1-p)/n) <= 0.0036) of p
    np.testing.assert_allclose(freq, np.array(w) / 10, atol=0.015)


def test_weighted_without_replacement_draws_each_index_at_most_once():
    w = gg.tensor([0.1, 5.0, 0.0, 2.0, 1.0])  # a Tensor of weights, as scripts pass
    s = WeightedRandomSampler(w, num_samples=4, replacement=False)
    for _ in range(20):
        out = list(s)
        assert sorted(out) == [0, 1, 3, 4] and all(isinstance(i, int) for i in out)
    firsts = [next(iter(s)) for _ in range(300)]
    assert np.bincount(firsts, minlength=5).argmax() == 1  # the heaviest is usually drawn first


def test_weighted_is_seeded_and_batches_through_a_loader():
    ds = TensorDataset(gg.arange(6), gg.tensor([0, 0, 0, 0, 1, 1]))
    counts = np.array([4, 2])
    weights = [1.0 / counts[c] for c in [0, 0, 0, 0, 1, 1]]  # the class-balancing recipe
    gg.manual_seed(5)
    a = [b[0].tolist() for b in DataLoader(ds, batch_size=4, sampler=WeightedRandomSampler(weights, 12))]
    gg.manual_seed(5)
    b = [b[0].tolist() for b in DataLoader(ds, batch_size=4, sampler=WeightedRandomSampler(weights, 12))]
    assert a == b and [len(x) for x in a] == [4, 4, 4]
    g = gg.Generator(3)
    c = list(WeightedRandomSampler(weights, 50, generator=g))
    assert c == list(WeightedRandomSampler(weights, 50, generator=gg.Generator(3)))


LENGTH_CASES = [
    ("Weighted", dict(weights=[0.5, 0.2, 0.3], num_samples=7)),
    ("Weighted", dict(weights=[0.5, 0.2, 0.3], num_samples=2, replacement=False)),
    ("Random", dict(data_source=range(5))),
    ("Random", dict(data_source=range(5), num_samples=12)),
    ("Random", dict(data_source=range(5), replacement=True, num_samples=3)),
]
ERROR_CASES = [
    ("Weighted", dict(weights=[0.5, 0.5], num_samples=0)),
    ("Weighted", dict(weights=[0.5, 0.5], num_samples=-2)),
    ("Weighted", dict(weights=[0.5, 0.5], num_samples=2.0)),
    ("Weighted", dict(weights=[0.5, 0.5], num_samples=2, replacement=1)),
    ("Weighted", dict(weights=[[0.5, 0.5]], num_samples=2)),
    ("Random", dict(data_source=range(5), num_samples=0)),
    ("Random", dict(data_source=range(5), replacement="yes")),
]


def _make(lib, kind, kwargs):
    return getattr(lib, "WeightedRandomSampler" if kind == "Weighted" else "RandomSampler")(**kwargs)


@pytest.mark.parametrize(("kind", "kwargs"), LENGTH_CASES)
def test_lengths_and_values_match_torch(torch, kind, kwargs):
    from glassgrad import data

    ours, theirs = _make(data, kind, kwargs), _make(torch.utils.data, kind, kwargs)
    assert len(ours) == len(theirs) == len(list(ours)) == len(list(theirs))
    assert set(list(ours) * 50) <= set(range(5))


@pytest.mark.parametrize(("kind", "kwargs"), ERROR_CASES)
def test_errors_match_torch(torch, kind, kwargs):
    from glassgrad import data

    with pytest.raises((ValueError, TypeError)) as theirs:
        _make(torch.utils.data, kind, kwargs)
    with pytest.raises(theirs.type):
        _make(data, kind, kwargs)


def test_weighted_without_replacement_runs_out_of_nonzero_weights_as_torch(torch):
    """PyTorch then draws the zero-weight indices last; more draws than weights is an error."""
    from glassgrad import data

    for lib in (torch.utils.data, data):
        for _ in range(10):
            out = list(lib.WeightedRandomSampler([0.5, 0.0, 0.5, 0.0], num_samples=3, replacement=False))
            assert sorted(out[:2]) == [0, 2] and out[2] in (1, 3)
    with pytest.raises(RuntimeError):
        list(torch.utils.data.WeightedRandomSampler([0.5, 0.5], num_samples=3, replacement=False))
    with pytest.raises(
        ValueError, match=r"expected num_samples <= 2 \(the number of weights\) without replacement"
    ):
        list(data.WeightedRandomSampler([0.5, 0.5], num_samples=3, replacement=False))


def test_weighted_rejects_bad_weights():
    for w in ([1.0, -1.0], [0.0, 0.0], [1.0, float("nan")]):
        with pytest.raises(ValueError, match="non-negative weights with a positive sum"):
            WeightedRandomSampler(w, 2)


def test_signatures_match_torch(torch):
    import inspect

    for name in ("WeightedRandomSampler", "RandomSampler"):
        from glassgrad import data

        ours = inspect.signature(getattr(data, name)).parameters
        theirs = inspect.signature(getattr(torch.utils.data, name)).parameters
        assert [(n, p.default) for n, p in ours.items()] == [(n, p.default) for n, p in theirs.items()]
