"""``DataLoader`` and the collate functions, with ``torch.utils.data``'s names and semantics.

A loader asks its batch sampler for a list of indices, fetches those samples from the dataset and
``collate_fn`` turns the list of samples into one batch. Fetching uses ``dataset.__getitems__(indices)``
when the dataset has it (``TensorDataset`` and ``Subset`` do): the batch is then ONE fancy-index per
tensor, and ``default_collate`` passes the already batched columns through. A ``collate_fn`` of the
user's gets the list ``[dataset[i] for i in indices]``, as in PyTorch.

Loading always happens in the main process (``num_workers > 0`` is accepted so PyTorch code runs,
with a warning): NumPy indexing of in-memory data is faster than shipping batches between processes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from glassgrad.data import graph_settings
from glassgrad.data.collation import (  # noqa: F401 (torch.utils.data.dataloader's names)
    collate_builtin,
    collate_fields,
    default_collate,
    default_convert,
)
from glassgrad.data.datapipes.datapipe import IterDataPipe
from glassgrad.data.dataset import Dataset, IterableDataset
from glassgrad.data.loader_iter import (  # noqa: F401 (torch.utils.data.dataloader's names)
    _BaseDataLoaderIter,
    _DatasetKind,
    _FetchedBatches,
    _InfiniteConstantSampler,
    _MultiProcessingDataLoaderIter,
    _prepare_datapipe,
    _SingleProcessDataLoaderIter,
)
from glassgrad.data.loader_options import check_attribute, check_iterator_options, check_worker_options
from glassgrad.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from glassgrad.random import Generator
from glassgrad.user_frames import user_stacklevel

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

# covariant item type: `Dataset[int]` in annotations and subclass bases, as in PyTorch
_T_co = TypeVar("_T_co", covariant=True)
_T = TypeVar("_T")
# PyTorch's annotation aliases, imported by libraries for their own signatures (Opacus' DPDataLoader)
_worker_init_fn_t = Callable[[int], None]
_collate_fn_t = Callable[[list[_T]], Any]


def get_worker_info() -> None:
    """Information about the loading worker process, as in PyTorch: ``None`` in the main process.

    glassgrad loads every batch in the main process whatever ``num_workers`` is, so this is
    always ``None``; an ``IterableDataset`` that splits its stream by worker then reads all of it,
    once, which is what PyTorch does with ``num_workers=0``.
    """
    return None


_warned_num_workers = False  # set by the first DataLoader(num_workers > 0)


class DataLoader(Generic[_T_co]):
    """Iterate a dataset in batches, as ``torch.utils.data.DataLoader`` does.

    Args:
        dataset: a map-style ``Dataset`` (``len`` and ``[i]``) or an ``IterableDataset``.
        batch_size: samples per batch; ``None`` turns batching off (samples come one by one).
        shuffle: draw a new random order at the start of every epoch (from ``generator``, else the
            global generator that ``manual_seed`` seeds, so a seed reproduces the order).
        sampler: the order of indices (excludes ``shuffle``).
        batch_sampler: yields whole lists of indices (excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        num_workers: accepted for PyTorch code; loading always runs in this process (so
            ``pin_memory``, ``timeout``, ``worker_init_fn``, ``multiprocessing_context``,
            ``prefetch_factor``, ``persistent_workers``, ``pin_memory_device`` and ``in_order`` are
            accepted and have nothing to do; the combinations PyTorch refuses are refused, see
            ``loader_options``).
        collate_fn: merges a list of samples into a batch (default :func:`default_collate`).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        generator: the random source for shuffling; save its ``get_state()`` in a checkpoint to
            resume with the same order.

    Shape:
        With ``TensorDataset(X, y)`` of shapes ``(N, *)`` and ``(N,)``, each batch is
        ``[x (B, *), y (B,)]`` with ``B = batch_size`` (the last one may be smaller).

    >>> import glassgrad as gg
    >>> from glassgrad.data import TensorDataset
    >>> loader = DataLoader(TensorDataset(gg.arange(5)), batch_size=2)
    >>> len(loader), [b[0].tolist() for b in loader]
    (3, [[0, 1], [2, 3], [4]])
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | None = None,
        batch_sampler: Sampler | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        prefetch_factor = check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        global _warned_num_workers
        if num_workers > 0 and not _warned_num_workers:  # once per process: loaders are made per epoch
            _warned_num_workers = True
            warnings.warn(
                f"DataLoader: num_workers={num_workers} ignored; glassgrad loads batches in the main process "
                "(this warning is shown once)",
                stacklevel=user_stacklevel(),
            )
        if isinstance(dataset, IterableDataset):
            if isinstance(dataset, IterDataPipe) and shuffle is not None:  # PyTorch's: its shufflers follow
                # The pipe this returns (a shuffler added when there was none) is dropped, as
                # PyTorch 2.13 drops it: its loader keeps the pipe it was given.
                graph_settings.apply_shuffle_settings(dataset, shuffle=shuffle)
            elif shuffle:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified batch_sampler option, got batch_sampler={batch_sampler}"
                )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )
        if sampler is None:  # a stream's is PyTorch's endless one: libraries read loader.sampler
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.generator = generator
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.multiprocessing_context = multiprocessing_context
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order
        self._auto_collation = batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.__initialized = True  # `_DataLoader__initialized`, PyTorch's name

    __initialized = False
    _IterableDataset_len_called: int | None = None  # set by len() of a stream; iterators read it

    def __setattr__(self, attr: str, val: Any) -> None:
        super().__setattr__(attr, check_attribute(self, attr, val))  # PyTorch's refusals, see loader_options

    @property
    def _dataset_kind(self) -> int:
        return _DatasetKind.Iterable if isinstance(self.dataset, IterableDataset) else _DatasetKind.Map

    @property
    def _index_sampler(self) -> Any:
        """What ``_SingleProcessDataLoaderIter(loader)`` draws indices from, as in PyTorch."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # type: ignore[arg-type]  # TypeError if the stream has no length
            self._IterableDataset_len_called = n  # read by the next iterator, which warns past it
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        index_sampler = self.batch_sampler if self.batch_sampler is not None else self.sampler
        return len(index_sampler)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Any]:
        check_iterator_options(self.num_workers, self.timeout, self.prefetch_factor)
        # PyTorch's warnings when an epoch starts: there is no accelerator to pin for. Attributed
        # to this line (stacklevel 1), as PyTorch's to its own, so the default filters show each
        # once per process, not once per loop of the caller's
        if self.pin_memory:
            if self.pin_memory_device:
                warnings.warn(
                    "pin_memory_device is deprecated, the current accelerator will be used as the device,"
                    f"ignore pin_memory_device='{self.pin_memory_device}'.",
                    stacklevel=1,
                )
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, "
                "then device pinned memory won't be used.",
                stacklevel=1,
            )
        # The loader's attributes are read now, when the iterator is made, as PyTorch's iterator
        # reads them in its __init__: RecBole's loaders answer `dataset` with the list of indices
        # only while `__iter__` runs and with their own dataset object afterwards.
        _prepare_datapipe(self)
        fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self.dataset, self._auto_collation, self.collate_fn, self.drop_last
        )
        return _SingleProcessDataLoaderIter(self, _FetchedBatches(fetcher, self._index_sampler))
