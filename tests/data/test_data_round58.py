"""Round 58, a differential hunt on ``torch.utils.data``: what the battery found, against PyTorch.

- ``default_collate`` of samples of mixed dtypes stacks in ``torch.stack``'s promoted dtype (an int64
  sample meeting a float32 one is float32, not NumPy's float64); NumPy scalars as ``torch.as_tensor``.
- Containers keep their type through ``default_collate``/``default_convert`` (a ``list`` subclass,
  ``OrderedDict``, a ``defaultdict`` with its factory), as PyTorch rebuilds them.
- A batch starting with a tensor and holding something else is a TypeError (not AttributeError);
  non-numeric NumPy data is refused by ``default_convert`` (a TypeError), as PyTorch.
- After ``len(loader)`` of an ``IterableDataset``, more items than its ``__len__`` warn, as PyTorch.
- A stream's loader has PyTorch's ``sampler``/``batch_sampler``; iterators count ``_num_yielded``.
- Error classes a script may catch: PyTorch's type is among the bases of glassgrad's.
"""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import data as gdata

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64"]
PAIRS = [(a, b) for a in DTYPES for b in DTYPES if a != b]


def _plain(x):
    """A batch as nested Python values with each tensor's dtype name (comparable across libraries)."""
    if hasattr(x, "numpy") and hasattr(x, "dtype"):
        return (str(x.dtype).split(".")[-1], x.detach().numpy().tolist())
    if isinstance(x, dict):
        return (type(x).__name__, [(k, _plain(v)) for k, v in x.items()])
    if isinstance(x, list | tuple | collections.deque):
        return (type(x).__name__, [_plain(v) for v in x])
    return x


@pytest.mark.parametrize(("a", "b"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_collate_of_mixed_dtypes_promotes_as_torch_stack(torch, a, b):
    def batches(lib):
        return [
            [lib.ones(2, dtype=getattr(lib, a)), lib.zeros(2, dtype=getattr(lib, b))],
            [np.ones((2, 2), dtype=a), np.zeros((2, 2), dtype=b)],
        ]

    for ours, theirs in zip(batches(gg), batches(torch), strict=True):
        assert _plain(gdata.default_collate(ours)) == _plain(torch.utils.data.default_collate(theirs))


NO_BOOL = [(a, b) for a, b in PAIRS if "bool" not in (a, b)]  # PyTorch refuses np.bool_ among ints


@pytest.mark.parametrize(("a", "b"), NO_BOOL, ids=[f"{a}-{b}" for a, b in NO_BOOL])
def test_collate_of_mixed_numpy_scalars_as_torch_as_tensor(torch, a, b):
    batch = [np.dtype(a).type(1), np.dtype(b).type(0), np.dtype(a).type(3)]
    assert _plain(gdata.default_collate(batch)) == _plain(torch.utils.data.default_collate(batch))


def test_collate_keeps_the_graph_and_promotes(torch):
    def run(lib):
        w = lib.ones(2, requires_grad=True)
        batch = lib.utils.data.default_collate([w * 2, lib.arange(2)])
        batch.sum().backward()
        return str(batch.dtype).split(".")[-1], batch.tolist(), w.grad.tolist()

    assert run(gg) == run(torch)


class Tagged(list):
    """A list subclass carrying an attribute, as PyTorch's collate keeps it (copy, then fill)."""

    tag = "t"


def _containers():
    dd = collections.defaultdict(list)
    dd["a"] = 1
    return [
        [Tagged([1, 2.0]), Tagged([3, 4.0])],
        [collections.OrderedDict(b=1, a=2), collections.OrderedDict(b=3, a=4)],
        [dd, dd],
        [collections.deque([1, 2]), collections.deque([3, 4])],
        [range(2), range(2)],  # range cannot take items: a list, as PyTorch
        [{"x": (1, Tagged([np.float32(1)]))}, {"x": (2, Tagged([np.float32(2)]))}],
    ]


@pytest.mark.parametrize("i", range(6))
def test_collate_keeps_container_types(torch, i):
    ours = gdata.default_collate(_containers()[i])
    theirs = torch.utils.data.default_collate(_containers()[i])
    assert _plain(ours) == _plain(theirs)


def test_collate_keeps_defaultdict_factory_and_list_attributes(torch):
    for lib in (gg, torch):
        out = lib.utils.data.default_collate(_containers()[2])
        assert type(out) is collections.defaultdict and out["missing"] == []
        assert type(lib.utils.data.default_collate(_containers()[0])) is Tagged


def _convert_cases():
    return [
        Tagged([np.ones(2, np.float32), 1]),
        collections.OrderedDict(a=np.arange(2), b="s"),
        collections.deque([np.int16(3)]),
        (np.ones(1), [np.float32(2)]),
        range(3),
    ]


@pytest.mark.parametrize("i", range(5))
def test_default_convert_keeps_container_types(torch, i):
    ours = gdata.default_convert(_convert_cases()[i])
    theirs = torch.utils.data.default_convert(_convert_cases()[i])
    assert _plain(ours) == _plain(theirs)


@pytest.mark.parametrize("other", ["np", "int", "list"])
def test_tensor_batch_with_a_non_tensor_is_a_type_error(torch, other):
    def batch(lib):
        return [lib.ones(2), {"np": np.ones(2), "int": 2, "list": [1.0, 2.0]}[other]]

    with pytest.raises(TypeError) as theirs:
        torch.utils.data.default_collate(batch(torch))
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0") as ours:
        gdata.default_collate(batch(gg))
    assert str(ours.value).split("but got ")[1] == str(theirs.value).split("but got ")[1]


@pytest.mark.parametrize(
    "data",
    [np.array(["2020-01-01"], "M8[D]"), np.datetime64("2020-01-01"), np.bytes_(b"a")],
    ids=["datetime-array", "datetime-scalar", "bytes"],
)
def test_default_convert_refuses_non_numeric_numpy_data(torch, data):
    with pytest.raises(TypeError):
        torch.utils.data.default_convert(data)
    with pytest.raises(TypeError):
        gdata.default_convert(data)
    with pytest.raises(TypeError):
        gdata.default_collate([np.array(["2020-01-01"], "M8[D]")] * 2)


def _stream(lib, n, length):
    class Stream(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(n))

        def __len__(self):
            return length

    return Stream()


@pytest.mark.parametrize(
    ("n", "length", "bs", "drop_last"),
    [(5, 3, 2, False), (10, 3, 2, False), (10, 3, 2, True), (5, 3, None, False), (3, 5, None, False)],
)
def test_iterable_dataset_longer_than_its_len_warns_as_torch(torch, n, length, bs, drop_last):
    def run(lib):
        loader = lib.utils.data.DataLoader(_stream(lib, n, length), batch_size=bs, drop_last=drop_last)
        reported = len(loader)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            batches = [_plain(b) if bs else b for b in loader]
        said = [str(w.message) for w in caught if "Length of IterableDataset" in str(w.message)]
        return reported, batches, [s.split(" samples have")[0][-8:] for s in said]

    assert run(gg) == run(torch)


def test_no_length_warning_without_len_or_for_map_datasets(torch):
    for lib in (gg, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert len(list(lib.utils.data.DataLoader(_stream(lib, 5, 2), batch_size=None))) == 5
            loader = lib.utils.data.DataLoader(list(range(5)), batch_size=2)
            assert len(loader) == 3 and len(list(loader)) == 3


@pytest.mark.parametrize("bs", [None, 1, 3])
def test_stream_loader_samplers_are_torch_s(torch, bs):
    def run(lib):
        loader = lib.utils.data.DataLoader(_stream(lib, 5, 5), batch_size=bs)
        it = iter(loader)
        next(it)
        next(it)
        return (
            type(loader.sampler).__name__,
            type(loader.batch_sampler).__name__,
            getattr(loader.batch_sampler, "batch_size", None),
            loader._auto_collation,
            it._num_yielded,
            [_plain(b) if bs else b for b in it],
        )

    assert run(gg) == run(torch)


def test_error_classes_catchable_as_torch_s(torch):
    for lib in (torch, gg):
        d = lib.utils.data
        concat = d.ConcatDataset([[0, 1], [2, 3, 4]])
        assert [concat[i] for i in (-1, -5)] == [4, 0]
        with pytest.raises(ValueError):
            concat[-6]
        with pytest.raises(IndexError):
            concat[5]
        with pytest.raises(AssertionError):
            d.ConcatDataset([])
        with pytest.raises(AssertionError):
            d.ConcatDataset([_stream(lib, 2, 2)])
        for weights, k in (([1.0, -1.0], 2), ([0.0, 0.0], 2), ([1.0, 2.0], 3)):
            with pytest.raises(RuntimeError):
                list(d.WeightedRandomSampler(weights, k, replacement=False))
    with pytest.raises(IndexError, match="ConcatDataset: index -6 out of range for length 5"):
        gdata.ConcatDataset([[0, 1], [2, 3, 4]])[-6]


def test_weighted_sampler_keeps_weights_as_a_float64_tensor(torch):
    ours = gdata.WeightedRandomSampler([1, 0, 3], 4)
    theirs = torch.utils.data.WeightedRandomSampler([1, 0, 3], 4)
    assert isinstance(ours.weights, gg.Tensor) and ours.weights.dtype == gg.float64
    assert ours.weights.tolist() == theirs.weights.tolist()
    ours.weights = gg.tensor([0.0, 1.0, 0.0])  # new weights for the next epoch, as a program may set
    assert set(ours) == {1}


def _subset_script(lib, change):
    """A Subset whose indices the program changes after making it (reassigned, grown, set)."""
    d = lib.utils.data
    subset = d.Subset(d.TensorDataset(lib.arange(10) * 10), [0, 1, 2])
    if change == "reassign":
        subset.indices = [7, -1, 8]
    elif change == "mutate":
        subset.indices.append(5)
        subset.indices[0] = 9
    elif change == "tensor":
        subset.indices = lib.tensor([4, -2])
    return [[t.tolist() for t in b] for b in d.DataLoader(subset, batch_size=2)]


@pytest.mark.parametrize("change", ["none", "reassign", "mutate", "tensor"])
def test_subset_reads_its_indices_at_every_batch(torch, change):
    assert _subset_script(gg, change) == _subset_script(torch, change)


def test_subset_of_any_keys(torch):
    for lib in (gg, torch):
        subset = lib.utils.data.Subset({"a": 1.0, "b": 2.0}, ["b", "a"])
        assert next(iter(lib.utils.data.DataLoader(subset, batch_size=2))).tolist() == [2.0, 1.0]


@pytest.mark.parametrize("shape", [(4,), (4, 2)], ids=["1d", "2d"])
def test_tensor_dataset_samples_are_views(torch, shape):
    def run(lib):
        ds = lib.utils.data.TensorDataset(lib.zeros(*shape))
        (x,) = ds[1]
        x += 5  # an in-place augmentation writes through, as in PyTorch
        return ds.tensors[0].tolist()

    assert run(gg) == run(torch)


@pytest.mark.parametrize(
    "workers", [np.int64(0), np.int32(1), False], ids=["np-int64-0", "np-int32-1", "False"]
)
def test_num_workers_may_be_any_integer(torch, workers):
    for lib in (gg, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # glassgrad's once-only note that it loads in-process
            batches = list(lib.utils.data.DataLoader(list(range(5)), batch_size=2, num_workers=workers))
        assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    for bad in (-1, np.int64(-1), 1.5):
        with pytest.raises(ValueError, match="expected num_workers >= 0"):
            gdata.DataLoader(list(range(5)), num_workers=bad)
