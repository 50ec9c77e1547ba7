"""DataLoader: batching, shuffling, len, option checks and default_collate, against PyTorch."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    TensorDataset,
    default_collate,
    default_convert,
    random_split,
)


def _ds(n: int = 10) -> TensorDataset:
    return TensorDataset(gg.tensor(np.arange(2 * n, dtype=np.float32).reshape(n, 2)), gg.tensor(np.arange(n)))


class Items(Dataset):
    """A map-style dataset without __getitems__ (the per-item path)."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


class Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no len")
        return self.n


@pytest.mark.parametrize("n,bs,drop", [(10, 4, False), (10, 4, True), (8, 4, True), (3, 5, False)])
def test_sequential_batches_and_len(n, bs, drop):
    loader = DataLoader(_ds(n), batch_size=bs, drop_last=drop)
    batches = list(loader)
    assert len(batches) == len(loader)
    sizes = [len(b[1]) for b in batches]
    expected = [bs] * (n // bs) + ([] if drop or n % bs == 0 else [n % bs])
    assert sizes == expected
    x, y = batches[0]
    assert isinstance(batches[0], list)  # tuples of samples collate to a list, as in PyTorch
    assert x.shape == (bs if n >= bs else n, 2) and x.dtype == gg.float32 and y.dtype == gg.int64


def test_fast_path_equals_per_item_path():
    ds = _ds(13)
    items = Items([ds[i] for i in range(13)])
    gg.manual_seed(11)
    fast = [(x.numpy().copy(), y.numpy().copy()) for x, y in DataLoader(ds, batch_size=5, shuffle=True)]
    gg.manual_seed(11)
    slow = [(x.numpy().copy(), y.numpy().copy()) for x, y in DataLoader(items, batch_size=5, shuffle=True)]
    for (a, b), (c, d) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_fast_path_fetches_the_batch_in_one_call(monkeypatch):
    ds = _ds(20)
    calls = {"item": 0, "items": 0}
    orig_item, orig_items = TensorDataset.__getitem__, TensorDataset.__getitems__

    def count_item(self, i):
        calls["item"] += 1
        return orig_item(self, i)

    def count_items(self, idx):
        calls["items"] += 1
        return orig_items(self, idx)

    monkeypatch.setattr(TensorDataset, "__getitem__", count_item)
    monkeypatch.setattr(TensorDataset, "__getitems__", count_items)
    sub = random_split(ds, [15, 5], generator=gg.Generator(0))[0]
    assert len(list(DataLoader(sub, batch_size=4, shuffle=True))) == 4
    assert calls == {"item": 0, "items": 4}


@pytest.mark.parametrize("make", [_ds, lambda: random_split(_ds(), [6, 4], generator=gg.Generator(1))[0]])
def test_custom_collate_fn_gets_the_list_of_samples(make):
    # As in PyTorch, a collate_fn of the user's gets [ds[i] for i in indices]: a list it may sort.
    ds = make()
    seen = []

    def collate(batch):
        seen.append(type(batch))
        batch.sort(key=lambda sample: -sample[1].item())  # e.g. longest first, before padding
        return [y.item() for _, y in batch]

    got = list(DataLoader(ds, batch_size=4, collate_fn=collate))
    expected = [ds[i][1].item() for i in range(len(ds))]
    assert got == [sorted(expected[i : i + 4], reverse=True) for i in range(0, len(ds), 4)]
    assert seen == [list] * len(got)


def test_shuffle_reshuffles_each_epoch_and_manual_seed_reproduces():
    ds = _ds(30)
    loader = DataLoader(ds, batch_size=30, shuffle=True)
    gg.manual_seed(0)
    e1 = next(iter(loader))[1].tolist()
    e2 = next(iter(loader))[1].tolist()
    assert sorted(e1) == list(range(30)) and e1 != e2
    gg.manual_seed(0)
    assert next(iter(loader))[1].tolist() == e1
    assert next(iter(loader))[1].tolist() == e2


def test_loader_generator_state_resumes_order():
    ds = _ds(30)
    g = gg.Generator(4)
    loader = DataLoader(ds, batch_size=7, shuffle=True, generator=g)
    _ = list(loader)
    state = g.get_state()
    want = [b[1].tolist() for b in loader]
    g2 = gg.Generator(123)
    g2.set_state(state)
    fresh = DataLoader(ds, batch_size=7, shuffle=True, generator=g2)
    assert [b[1].tolist() for b in fresh] == want
    gg.manual_seed(99)  # the global generator does not touch a loader that has its own
    assert [
        b[1].tolist() for b in DataLoader(ds, batch_size=7, shuffle=True, generator=gg.Generator(4))
    ] != want


def test_batch_size_none_yields_converted_samples():
    items = Items([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    out = list(DataLoader(items, batch_size=None))
    assert len(out) == 2 and isinstance(out[0], gg.Tensor) and out[0].dtype == gg.float64


def test_batch_sampler_option():
    loader = DataLoader(_ds(7), batch_sampler=BatchSampler(SequentialSampler(range(7)), 3, False))
    assert len(loader) == 3 and [len(b[1]) for b in loader] == [3, 3, 1]


def test_iterable_dataset_batches_in_order():
    loader = DataLoader(Stream(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(loader) == 3
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(TypeError):
        len(DataLoader(Stream(7, with_len=False), batch_size=3))


def _options():
    ds = _ds(6)
    bs = BatchSampler(SequentialSampler(range(6)), 2, False)
    seq = SequentialSampler(range(6))
    return [
        (ds, {"sampler": seq, "shuffle": True}),
        (ds, {"batch_sampler": bs, "batch_size": 2}),
        (ds, {"batch_sampler": bs, "shuffle": True}),
        (ds, {"batch_sampler": bs, "sampler": seq}),
        (ds, {"batch_sampler": bs, "drop_last": True}),
        (ds, {"batch_size": None, "drop_last": True}),
        (ds, {"num_workers": -1}),
        (Stream(4), {"shuffle": True}),
        (Stream(4), {"sampler": seq}),
        (Stream(4), {"batch_sampler": bs}),
    ]


@pytest.mark.parametrize("i", range(10))
def test_mutually_exclusive_options_raise_value_error_like_torch(i):
    torch = pytest.importorskip("torch")
    ds, kwargs = _options()[i]
    with pytest.raises(ValueError):
        DataLoader(ds, **kwargs)

    class TStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(4))

    tds = TStream() if isinstance(ds, IterableDataset) else torch.utils.data.TensorDataset(torch.zeros(6))
    tkw = dict(kwargs)
    for k in ("sampler", "batch_sampler"):
        if k in tkw:
            tkw[k] = list(tkw[k])
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(tds, **tkw)


def test_num_workers_warns_once_and_still_loads(monkeypatch):
    import warnings

    from glassgrad.data import dataloader

    monkeypatch.setattr(dataloader, "_warned_num_workers", False)
    with pytest.warns(UserWarning, match="main process"):
        loader = DataLoader(_ds(4), batch_size=2, num_workers=2)
    assert len(list(loader)) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second loader (the next epoch's, say) does not warn again
        loader = DataLoader(_ds(4), batch_size=2, num_workers=4)
    assert [b[1].tolist() for b in loader] == [[0, 1], [2, 3]]


def test_signature_matches_torch_so_worker_options_port(monkeypatch):
    # e.g. DataLoader(ds, num_workers=4, multiprocessing_context="spawn", pin_memory_device="cuda")
    import inspect

    from glassgrad.data import dataloader

    monkeypatch.setattr(dataloader, "_warned_num_workers", False)

    torch = pytest.importorskip("torch")
    ours = inspect.signature(DataLoader.__init__).parameters
    theirs = inspect.signature(torch.utils.data.DataLoader.__init__).parameters
    assert [(n, p.kind, p.default) for n, p in ours.items()] == [
        (n, p.kind, p.default) for n, p in theirs.items()
    ]
    with pytest.warns(UserWarning, match="main process"):
        loader = DataLoader(_ds(4), batch_size=2, num_workers=2, multiprocessing_context="spawn",
                            persistent_workers=True, prefetch_factor=4, pin_memory_device="", in_order=False)  # fmt: skip
    assert [b[1].tolist() for b in loader] == [[0, 1], [2, 3]]


def _same(ours, ref):
    torch = pytest.importorskip("torch")
    if isinstance(ref, torch.Tensor):
        assert isinstance(ours, gg.Tensor)
        assert str(ours.dtype).split(".")[1] == str(ref.dtype).split(".")[1]
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    elif isinstance(ref, dict):
        assert type(ours) is type(ref) and list(ours) == list(ref)
        for k in ref:
            _same(ours[k], ref[k])
    elif isinstance(ref, list | tuple):
        assert type(ours) is type(ref) and len(ours) == len(ref)
        for a, b in zip(ours, ref):
            _same(a, b)
    else:
        assert ours == ref


Point = collections.namedtuple("Point", "x y")


def _collate_cases():
    return [
        [1.5, 2.5],
        [1, 2, 3],
        [True, False],
        [np.float32(1.0), np.float32(2.0)],
        [np.int32(3), np.int32(4)],
        [np.arange(3), np.arange(3) + 1],
        [np.ones((2, 2), dtype=np.float64), np.zeros((2, 2))],
        ["a", "b"],
        [(1.0, 0), (2.0, 1)],
        [[1, 2], [3, 4]],
        [{"x": 1.0, "y": [1, 2]}, {"x": 2.0, "y": [3, 4]}],
        [collections.OrderedDict(a=1, b=2.0), collections.OrderedDict(a=3, b=4.0)],
        [Point(1, 2.0), Point(3, 4.0)],
        [(np.ones(2, np.float32), "s", 3), (np.zeros(2, np.float32), "t", 4)],
    ]


@pytest.mark.parametrize("i", range(14))
def test_default_collate_matches_torch(i):
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    batch = _collate_cases()[i]
    _same(default_collate(batch), torch_collate(batch))


def test_default_collate_tensors_and_errors():
    torch = pytest.importorskip("torch")
    a, b = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    ours = default_collate([gg.tensor(a), gg.tensor(b)])
    ref = torch.utils.data.default_collate([torch.tensor(a), torch.tensor(b)])
    _same(ours, ref)
    with pytest.raises(RuntimeError, match="equal shape"):
        default_collate([gg.zeros(2), gg.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found"):
        default_collate([object(), object()])
    with pytest.raises(TypeError):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert

    for data in [np.arange(3), (np.zeros(2), 1.0, "s"), {"a": np.float32(2.0)}, Point(np.ones(1), 2)]:
        _same(default_convert(data), torch_convert(data))
