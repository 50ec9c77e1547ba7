"""Round 67 (pt_data_numpy): PyTorch's ``test_dataloader.py`` run against glassgrad, what it found.

- A batch that raises (the dataset's ``__getitem__``, ``collate_fn``) reaches the caller, and the
  next ``next`` goes on with the following batch, as PyTorch's iterator does; the iterator was a
  generator, which the exception finished, so a loop that skips bad batches ended its epoch there
  without a word.
- A ``TensorDataset`` subclass with its own ``__getitem__`` (an augmentation) is asked sample by
  sample: glassgrad's batched fast path (``TensorDataset.__getitems__``, which PyTorch's has not)
  skipped it, directly or through a ``Subset``, and the batches came unaugmented, silently; a
  user's ``collate_fn`` that happens to be named ``default_collate`` gets the list of samples.
- The same fast path took a float index (1.7) or a bool one as an integer row; such a batch (and an
  empty one) now goes sample by sample, where PyTorch's errors come from.
- ``ChainDataset`` reaching a map-style dataset raises what PyTorch asserts (an ``AssertionError``);
  the refusals of ``StackDataset``, the samplers and ``DataLoader`` carry PyTorch's words.
"""

from __future__ import annotations

import pytest

from glassgrad import data as gdata


class _Flaky:
    """A map-style dataset whose odd items raise, in either library."""

    def __init__(self, base, n):
        self.base, self.n = base, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i % 2:
            raise KeyError(f"bad sample {i}")
        return i


def _skip_bad(loader):
    """What a training loop that skips failing batches sees: the good batches and the error count."""
    it, good, bad = iter(loader), [], 0
    while True:
        try:
            batch = next(it)
        except StopIteration:
            return good, bad
        except KeyError:
            bad += 1
            continue
        good.append(batch if isinstance(batch, int) else batch.tolist())


@pytest.mark.parametrize("batch_size", [None, 1, 2])
def test_a_failing_batch_does_not_end_the_epoch(torch, batch_size):
    for lib in (gdata, torch.utils.data):
        got = _skip_bad(lib.DataLoader(_Flaky(lib, 7), batch_size=batch_size))
        if batch_size == 2:  # every pair holds an odd index: all but the last single [6] fail
            assert got == ([[6]], 3), lib
        else:
            assert got == ([0, 2, 4, 6] if batch_size is None else [[0], [2], [4], [6]], 3), lib


def test_a_failing_collate_fn_does_not_end_the_epoch(torch):
    def collate(batch):
        if batch[0] == 2:
            raise KeyError("bad batch")
        return torch.tensor(batch) if lib is torch.utils.data else gdata.default_collate(batch)

    for lib in (gdata, torch.utils.data):
        assert _skip_bad(lib.DataLoader(list(range(6)), batch_size=2, collate_fn=collate)) == (
            [[0, 1], [4, 5]],
            1,
        )


class _Stream:
    """An iterable dataset whose iterator raises at 2 and keeps going (a class, not a generator)."""

    def __init__(self, base):
        self.base = base

    def __iter__(self):
        return _StreamIter()


class _StreamIter:
    def __init__(self):
        self.i = -1

    def __next__(self):
        self.i += 1
        if self.i == 2:
            raise KeyError("bad record")
        if self.i == 5:
            raise StopIteration
        return self.i


def test_a_stream_that_raises_goes_on_where_its_iterator_does(torch):
    for lib in (gdata, torch.utils.data):
        ds = type("S", (_Stream, lib.IterableDataset), {})(lib)
        assert _skip_bad(lib.DataLoader(ds, batch_size=None)) == ([0, 1, 3, 4], 1)


def test_pytorch_form_iterator_goes_on_too(torch):
    # _SingleProcessDataLoaderIter(loader), as fastai drives it
    for lib, mod in ((gdata, gdata.dataloader), (torch.utils.data, torch.utils.data.dataloader)):
        loader = lib.DataLoader(_Flaky(lib, 5), batch_size=None)
        it = mod._SingleProcessDataLoaderIter(loader)
        assert next(it) == 0
        with pytest.raises(KeyError):
            next(it)
        assert next(it) == 2


def test_iterating_a_stream_calls_its_iter_when_the_loader_iterator_is_made(torch):
    class Bad:
        def __iter__(self):
            raise RuntimeError("Error in __iter__")

    for lib in (gdata, torch.utils.data):
        loader = lib.DataLoader(type("B", (Bad, lib.IterableDataset), {})())
        with pytest.raises(RuntimeError, match="Error in __iter__"):
            iter(loader)


def test_chain_dataset_of_a_map_style_dataset_is_an_assertion_error(torch):
    import glassgrad as gg

    for lib, values in ((gdata, gg.arange(3)), (torch.utils.data, torch.arange(3))):
        with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
            list(lib.ChainDataset([lib.TensorDataset(values)]))


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda lib: lib.StackDataset(), ValueError, "At least one dataset should be passed"),
        (lambda lib: lib.StackDataset([1], b=[2]), ValueError, "Supported either"),
        (lambda lib: lib.StackDataset([1, 2], [1]), ValueError, "Size mismatch between datasets"),
        (
            lambda lib: lib.ConcatDataset([_EmptyStream(lib)]),
            AssertionError,
            "does not support IterableDataset",
        ),
        (
            lambda lib: lib.RandomSampler(range(3), replacement=0),
            TypeError,
            "replacement should be a boolean value, but got replacement=0",
        ),
        (
            lambda lib: lib.RandomSampler(range(3), num_samples=0),
            ValueError,
            "num_samples should be a positive integer value, but got num_samples=0",
        ),
        (
            lambda lib: lib.WeightedRandomSampler([1.0], 1, replacement=1),
            ValueError,
            "replacement should be a boolean value, but got replacement=1",
        ),
        (
            lambda lib: lib.WeightedRandomSampler([1.0], 0),
            ValueError,
            "num_samples should be a positive integer value, but got num_samples=0",
        ),
        (
            lambda lib: lib.BatchSampler(range(3), 0, False),
            ValueError,
            "batch_size should be a positive integer value, but got batch_size=0",
        ),
        (
            lambda lib: lib.BatchSampler(range(3), 2, 1),
            ValueError,
            "drop_last should be a boolean value, but got drop_last=1",
        ),
        (
            lambda lib: lib.DataLoader(range(3), num_workers=-1),
            ValueError,
            "num_workers option should be non-negative",
        ),
    ],
)
def test_refusals_carry_pytorch_words(torch, make, error, words):
    for lib in (gdata, torch.utils.data):
        with pytest.raises(error, match=words):
            make(lib)


def test_stack_dataset_getitems_size_mismatch_words(torch):
    class Short:
        def __getitem__(self, i):
            return i

        def __getitems__(self, items):
            return list(items)[:-1]

        def __len__(self):
            return 4

    for lib in (gdata, torch.utils.data):
        with pytest.raises(ValueError, match="Nested dataset's output size mismatch. Expected 4, got 3"):
            lib.StackDataset(Short(), [1, 2, 3, 4]).__getitems__([0, 1, 2, 3])


def _EmptyStream(lib):
    return type("E", (lib.IterableDataset,), {"__iter__": lambda self: iter(())})()


def _augmented(lib):
    class Augmented(lib.TensorDataset):
        """The common pattern: a TensorDataset whose __getitem__ transforms each sample."""

        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 100, y

    return Augmented


def test_a_tensor_dataset_subclass_getitem_is_not_skipped(torch):
    # glassgrad's batched fast path (TensorDataset.__getitems__, which PyTorch's has not) took the
    # rows directly: the subclass's transform never ran, and the batches came unaugmented
    import glassgrad as gg

    got = {}
    for lib, mod in ((gdata, gg), (torch.utils.data, torch)):
        ds = _augmented(lib)(mod.arange(4.0), mod.arange(4))
        whole = [b[0].tolist() for b in lib.DataLoader(ds, batch_size=2)]
        through_subset = [b[0].tolist() for b in lib.DataLoader(lib.Subset(ds, [3, 1]), batch_size=2)]
        got[lib] = (whole, through_subset)
    assert got[gdata] == got[torch.utils.data] == ([[0.0, 100.0], [200.0, 300.0]], [[300.0, 100.0]])


def test_a_users_collate_fn_named_default_collate_gets_the_list_of_samples(torch):
    # the fast path's columns went to any function named "default_collate", not only glassgrad's
    import glassgrad as gg

    def default_collate(batch):
        batch.sort(key=lambda sample: -int(sample[1]))  # a list, sorted in place, as PyTorch gives it
        return [int(sample[1]) for sample in batch]

    for lib, mod in ((gdata, gg), (torch.utils.data, torch)):
        ds = lib.TensorDataset(mod.arange(4.0), mod.arange(4))
        assert list(lib.DataLoader(ds, batch_size=2, collate_fn=default_collate)) == [[1, 0], [3, 2]]


@pytest.mark.parametrize(
    ("sampler", "error"),
    [
        ([1.0, 0.0], IndexError),  # a float index: PyTorch's t[1.0] refuses it (it was taken as 1)
        ([1.5, 0.0], IndexError),  # (it was truncated to 1)
        ([True, False], RuntimeError),  # t[True] adds a dim: the samples do not stack (it was row 1)
    ],
)
def test_a_batch_of_indices_that_are_not_integers_is_refused_as_pytorch(torch, sampler, error):
    import glassgrad as gg

    for lib, mod in ((gdata, gg), (torch.utils.data, torch)):
        ds = lib.TensorDataset(mod.arange(6.0).view(6, 1), mod.arange(6))
        for dataset in (ds, lib.Subset(ds, mod.arange(6) if lib is gdata else torch.arange(6))):
            with pytest.raises(error):
                list(lib.DataLoader(dataset, sampler=sampler, batch_size=2))


def test_an_empty_batch_of_indices_is_refused_as_pytorch(torch):
    import glassgrad as gg

    for lib, mod in ((gdata, gg), (torch.utils.data, torch)):
        with pytest.raises(IndexError):
            list(lib.DataLoader(lib.TensorDataset(mod.arange(3.0)), batch_sampler=[[], [1]]))
