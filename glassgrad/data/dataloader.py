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

import collections.abc
import copy
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import numpy as np

from glassgrad.data import graph_settings
from glassgrad.data.datapipes.datapipe import IterDataPipe
from glassgrad.data.dataset import BatchedSamples, Dataset, IterableDataset
from glassgrad.data.loader_iter import (  # noqa: F401 (torch.utils.data.dataloader's names)
    _BaseDataLoaderIter,
    _DatasetKind,
    _InfiniteConstantSampler,
    _MultiProcessingDataLoaderIter,
    _SingleProcessDataLoaderIter,
)
from glassgrad.data.loader_options import check_attribute, check_iterator_options, check_worker_options
from glassgrad.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from glassgrad.dtypes import note_complex
from glassgrad.ops.joining import stack, torch_layout
from glassgrad.random import Generator
from glassgrad.tensor import Tensor, tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

# covariant item type: `Dataset[int]` in annotations and subclass bases, as in PyTorch
_T_co = TypeVar("_T_co", covariant=True)
_T = TypeVar("_T")
# PyTorch's annotation aliases, imported by libraries for their own signatures (Opacus' DPDataLoader)
_worker_init_fn_t = Callable[[int], None]
_collate_fn_t = Callable[[list[_T]], Any]

# NumPy dtypes that cannot become tensors: strings (S, a, U) and objects (O), as in PyTorch.
_NP_STR_OBJ = re.compile("[SaUO]")
_COLLATE_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _stack(arrays: list[np.ndarray], what: str) -> np.ndarray:
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(
            f"default_collate: expected {what} of equal shape to stack, got shapes {sorted(shapes)}"
        )
    # B x (*) -> (B, *), laid out as torch.stack lays it out (contiguous for non-contiguous images)
    return torch_layout(np.stack(arrays), arrays, stacked=True)


def default_collate(batch: Any) -> Any:
    """Stack a list of samples into a batch, as ``torch.utils.data.default_collate`` does.

    Tensors and NumPy arrays are stacked along a new first dimension (dtype kept); Python floats
    become a float64 tensor and ints an int64 tensor (PyTorch's rule); strings stay a list; dicts,
    namedtuples and lists/tuples are collated field by field (tuples come back as lists).

    Shape:
        - batch: ``B`` samples, each a (nested) structure of ``(*)`` leaves.
        - output: the same structure with ``(B, *)`` tensors.

    >>> default_collate([(1.0, 0), (2.0, 1)])
    [tensor([1., 2.], dtype=glassgrad.float64), tensor([0, 1])]
    >>> default_collate([{"x": [1, 2]}, {"x": [3, 4]}])
    {'x': [tensor([1, 3]), tensor([2, 4])]}
    """
    if isinstance(batch, BatchedSamples):
        return list(batch.columns)  # already batched by __getitems__: nothing to stack
    elem = batch[0]
    from glassgrad.data._utils import collate  # (it imports this module)

    fn = collate.registered_fn(elem)  # a library's own type in default_collate_fn_map (MONAI's MetaTensor)
    if fn is not None:
        return fn(batch, collate_fn_map=collate.default_collate_fn_map)
    return collate_builtin(batch)


def collate_builtin(batch: Any) -> Any:
    """:func:`default_collate` without asking ``default_collate_fn_map``: the built-in
    ``collate_*_fn`` of ``_utils.collate`` call it, so that a registered function that calls them
    (MONAI's ``collate_meta_tensor_fn`` calls ``collate_tensor_fn``) does not come back to itself."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        if type(elem) is not Tensor:
            # a Tensor subclass: the public torch.stack, so that its __torch_function__ makes the
            # batch (PyTorch's collate_tensor_fn; MONAI's MetaTensor stays a MetaTensor)
            import glassgrad

            return glassgrad.stack(list(batch), 0)
        if any(t.requires_grad for t in batch):
            return stack(list(batch), 0)  # the stack op, so the graph is kept
        return Tensor(_stack([t._data for t in batch], "tensors"), _wrap=True)
    if isinstance(elem, np.ndarray):
        if _NP_STR_OBJ.search(elem.dtype.str) is not None:
            raise TypeError(_COLLATE_ERR.format(elem.dtype))
        return _wrapped(_stack([np.asarray(a) for a in batch], "arrays"))
    if isinstance(elem, np.bool_ | np.number):
        return _wrapped(np.asarray(batch))  # (B,), the scalars' dtype
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float64), _wrap=True)  # (B,)
    if isinstance(elem, int):
        return tensor(batch)  # (B,) int64, or bool for bools
    if isinstance(elem, str | bytes):
        return batch
    return collate_fields(batch, default_collate, "default_collate")


def collate_fields(batch: list, recurse: Callable, op: str, err: str = _COLLATE_ERR) -> Any:
    """A batch of mappings, namedtuples or sequences collated field by field with ``recurse``
    (``default_collate``, or ``_utils.collate``'s map-driven ``collate``); else a TypeError (``err``)."""
    elem = batch[0]
    if isinstance(elem, collections.abc.Mapping):
        out = {key: recurse([d[key] for d in batch]) for key in elem}
        if isinstance(elem, collections.abc.MutableMapping):
            try:
                clone = copy.copy(elem)  # keep the mapping's own type (OrderedDict, ...)
                clone.update(out)
                return clone
            except TypeError:
                return out
        return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(recurse(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError(f"{op}: each element in list of batch should be of equal size")
        return [recurse(samples) for samples in zip(*batch)]  # strings stay tuples, as in PyTorch
    raise TypeError(err.format(type(elem)))


def _wrapped(arr: np.ndarray) -> Tensor:
    """A tensor holding a sample's array; complex data turns on the complex gate (``dtypes.complex_seen``),
    as ``from_numpy`` does, so that every op on it is judged (its twin, or refused)."""
    if arr.dtype.kind == "c":
        note_complex()
    return Tensor(arr, _wrap=True)


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars inside ``data`` into tensors, leaving everything else.

    Used instead of :func:`default_collate` when automatic batching is off (``batch_size=None``).
    """
    if isinstance(data, np.ndarray) and _NP_STR_OBJ.search(data.dtype.str) is None:
        return _wrapped(data)
    if isinstance(data, np.bool_ | np.number):
        return _wrapped(np.asarray(data))
    if isinstance(data, str | bytes | Tensor):
        return data
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        return [default_convert(d) for d in data]
    return data


def _fetch(dataset: Any, indices: list[int]) -> Any:
    getitems = getattr(dataset, "__getitems__", None)
    if getitems is not None:
        return getitems(indices)
    return [dataset[i] for i in indices]


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
        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None and sampler is not None:
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
        self._auto_collation = batch_sampler is not None or (
            isinstance(dataset, IterableDataset) and batch_size is not None
        )
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.__initialized = True  # `_DataLoader__initialized`, PyTorch's name

    __initialized = False
    _IterableDataset_len_called = None  # PyTorch's iterators read it

    def __setattr__(self, attr: str, val: Any) -> None:
        super().__setattr__(attr, check_attribute(self, attr, val))  # PyTorch's refusals, see loader_options

    @property
    def _dataset_kind(self) -> int:
        return _DatasetKind.Iterable if isinstance(self.dataset, IterableDataset) else _DatasetKind.Map

    @property
    def _index_sampler(self) -> Any:
        """What ``_SingleProcessDataLoaderIter(loader)`` draws indices from, as in PyTorch."""
        if isinstance(self.dataset, IterableDataset):
            if self.batch_size is None:
                return _InfiniteConstantSampler()
            return BatchSampler(_InfiniteConstantSampler(), self.batch_size, self.drop_last)  # type: ignore[arg-type]
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # type: ignore[arg-type]  # TypeError if the stream has no length
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
        ds, collate = self.dataset, self.collate_fn
        if isinstance(ds, IterableDataset):
            return _SingleProcessDataLoaderIter(
                self, _iter_stream(ds, collate, self.batch_size, self.drop_last)
            )
        return _SingleProcessDataLoaderIter(self, _iter_map(ds, collate, self.batch_sampler, self.sampler))


def _iter_map(ds: Any, collate: Callable, batch_sampler: Any, sampler: Any) -> Iterator[Any]:
    if batch_sampler is not None:
        if collate is default_collate:
            for indices in batch_sampler:
                yield collate(_fetch(ds, indices))
            return
        # A collate_fn of the user's gets what PyTorch gives it, the list of samples
        # [ds[i], ...] (it may sort it in place), not the columns of the fast path.
        for indices in batch_sampler:
            batch = _fetch(ds, indices)
            yield collate([ds[i] for i in indices] if isinstance(batch, BatchedSamples) else batch)
    else:
        for i in sampler:
            yield collate(ds[i])


def _iter_stream(ds: Any, collate: Callable, bs: int | None, drop_last: bool) -> Iterator[Any]:
    if bs is None:
        for sample in ds:
            yield collate(sample)
        return
    batch: list = []
    for sample in ds:
        batch.append(sample)
        if len(batch) == bs:
            yield collate(batch)
            batch = []
    if batch and not drop_last:
        yield collate(batch)
