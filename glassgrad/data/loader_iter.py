"""What ``iter(DataLoader)`` returns, under ``torch.utils.data.dataloader``'s class names.

glassgrad loads every batch in the calling process, so an iterator is always a
``_SingleProcessDataLoaderIter``; ``_MultiProcessingDataLoaderIter`` exists for code that names it
(TorchIO's ``in_torch_loader`` looks for either class on the call stack while a dataset makes a
sample, as it would in PyTorch), and ``_BaseDataLoaderIter`` is the base of both, as PyTorch's.

``_SingleProcessDataLoaderIter(loader)`` with the loader alone works as PyTorch's does: it reads the
loader's ``dataset``, ``_dataset_kind``, ``_index_sampler``, ``_auto_collation``, ``collate_fn`` and
``drop_last`` and fetches each index through ``_DatasetKind.create_fetcher`` (fastai's
``DataLoader`` drives a duck-typed "fake loader" this way).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

from glassgrad.data._utils.fetch import _IterableDatasetFetcher, _MapDatasetFetcher
from glassgrad.data.sampler import Sampler

__all__: list[str] = []


class _DatasetKind:
    """``torch.utils.data.dataloader._DatasetKind``: map-style (0) or iterable (1), and the fetcher
    that turns one index (or list of indices) of the loader's ``_index_sampler`` into a batch."""

    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(
        kind: int, dataset: Any, auto_collation: bool, collate_fn: Any, drop_last: bool
    ) -> Any:
        if kind == _DatasetKind.Map:
            return _MapDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
        return _IterableDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)


class _InfiniteConstantSampler(Sampler[None]):
    """``itertools.repeat(None)`` as a sampler: the indices of an iterable dataset, as PyTorch's
    (a stream's ``DataLoader.sampler``)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


class _FetchedBatches:
    """The batches of one pass: the sampler's next index, then the fetcher, one step per ``next``.

    A class, not a generator: an exception from the dataset or ``collate_fn`` reaches the caller
    and the next ``next`` goes on with the following index, as PyTorch's iterator does. A generator
    would be finished by the exception, so a loop that skips a bad batch (``except ValueError:
    continue``) would end its epoch there without a word. ``StopIteration`` from the fetcher (an
    iterable dataset that ran out) ends the pass.
    """

    __slots__ = ("_fetcher", "_indices")

    def __init__(self, fetcher: Any, index_sampler: Any) -> None:
        self._fetcher = fetcher
        self._indices = iter(index_sampler)

    def __iter__(self) -> _FetchedBatches:
        return self

    def __next__(self) -> Any:
        return self._fetcher.fetch(next(self._indices))


def _prepare_datapipe(loader: Any) -> None:
    """What PyTorch's iterator does to a data pipe when an epoch starts: seed its random pipes
    (shufflers) from one draw of the loader's ``generator`` (else the global one), so the order
    follows that generator and differs per epoch, then shard it for one process (``(1, 0)``)."""
    import glassgrad
    from glassgrad.data import graph_settings
    from glassgrad.data.datapipes.datapipe import IterDataPipe, MapDataPipe

    dataset = loader.dataset
    if isinstance(dataset, IterDataPipe):
        seed = glassgrad.empty((), dtype=glassgrad.int64).random_(generator=loader.generator).item()
        graph_settings.apply_random_seed(dataset, glassgrad.Generator().manual_seed(int(seed)))
    if isinstance(dataset, (IterDataPipe, MapDataPipe)):
        graph_settings.apply_sharding(dataset, 1, 0)


class _BaseDataLoaderIter:
    """The batches of one pass over a loader, and ``len()`` as PyTorch's iterators have it (the
    CycleGAN notebook takes ``min(len(iter_X), len(iter_Y))`` as its batches per epoch); a plain
    generator has no length."""

    def __init__(self, loader: Any, batches: Iterator[Any] | None = None) -> None:
        self._loader, self._index_sampler = loader, None
        if batches is None:  # PyTorch's form: the loader alone, read through its attributes
            self._index_sampler = loader._index_sampler
            _prepare_datapipe(loader)
            fetcher = _DatasetKind.create_fetcher(
                loader._dataset_kind,
                loader.dataset,
                loader._auto_collation,
                loader.collate_fn,
                loader.drop_last,
            )
            batches = _FetchedBatches(fetcher, self._index_sampler)
        self._batches = batches
        self._num_yielded = 0  # PyTorch's count (checkpointing code reads it to resume mid-epoch)
        # the stream's length as len(loader) last read it: more batches than that is warned of
        self._IterableDataset_len_called = getattr(loader, "_IterableDataset_len_called", None)

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def __next__(self) -> Any:
        data = next(self._batches)
        self._num_yielded += 1
        expected = self._IterableDataset_len_called
        if expected is not None and self._num_yielded > expected:
            # PyTorch's check, which compares batches with the dataset's length in samples
            warnings.warn(
                f"Length of IterableDataset {self._loader.dataset} was reported to be {expected} "
                f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ",
                stacklevel=2,
            )
        return data

    def __len__(self) -> int:
        if self._index_sampler is not None:
            return len(self._index_sampler)
        return len(self._loader)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """The iterator every glassgrad ``DataLoader`` gives (``num_workers`` is accepted and ignored)."""


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """PyTorch's worker-process iterator, by name only: glassgrad never makes one."""


_LoaderIter = _SingleProcessDataLoaderIter  # the name earlier glassgrad versions used
