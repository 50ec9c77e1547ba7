"""Datasets: ``Dataset``, ``IterableDataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
``ChainDataset``, ``StackDataset`` and ``random_split``, with ``torch.utils.data``'s names and semantics.

A map-style dataset answers ``len(ds)`` and ``ds[i]``. It may also answer ``ds.__getitems__(indices)``
with a whole batch at once; the ``DataLoader`` uses that when present (as PyTorch does), which is how
``TensorDataset`` hands out a batch with ONE fancy-index per tensor instead of a Python loop over items.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from glassgrad.data.batched import BatchedSamples, _take, int_positions
from glassgrad.errors import IndexOutOfRangeError, ShapeError
from glassgrad.random import Generator, get_generator
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "ChainDataset",
    "StackDataset",
    "BatchedSamples",
    "random_split",
]

# covariant item type: `Dataset[int]` in annotations and subclass bases, as in PyTorch
_T_co = TypeVar("_T_co", covariant=True)
_T_stack = TypeVar("_T_stack", tuple[Any, ...], dict[str, Any])


class Dataset(Generic[_T_co]):
    """A map-style dataset: subclasses define ``__getitem__(index)`` and usually ``__len__``.

    ``ds1 + ds2`` concatenates (a :class:`ConcatDataset`).
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[_T_co]):
    """A stream of samples: subclasses define ``__iter__``. The ``DataLoader`` batches it in order.

    Shuffling and samplers do not apply to a stream (``DataLoader`` raises ``ValueError``).
    ``s1 + s2`` chains the streams (a :class:`ChainDataset`), as PyTorch's does.
    """

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of IterableDataset must define __iter__"
        )


class _SizeMismatchError(ShapeError, AssertionError):
    """Tensors of different lengths given to ``TensorDataset``: PyTorch asserts it
    (``AssertionError``), so a script's ``except AssertionError`` catches this one too."""


class _DatasetsError(ValueError, AssertionError):
    """``ConcatDataset`` given no dataset or a stream: PyTorch asserts these (``AssertionError``),
    so a script's ``except AssertionError`` catches this one too."""


class _ChainError(TypeError, AssertionError):
    """``ChainDataset`` reaching a map-style dataset: PyTorch asserts it (``AssertionError``) when
    iterating, so a script's ``except AssertionError`` catches this one too."""


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are the rows of tensors that share their first dimension: ``ds[i] = (t[i] for t)``.

    Args:
        *tensors: tensors with the same size of dimension 0.

    Shape:
        - tensors: ``(N, *)`` each; a sample is a tuple of ``(*)`` tensors.

    >>> import glassgrad as gg
    >>> ds = TensorDataset(gg.tensor([[1.0, 2.0], [3.0, 4.0]]), gg.tensor([0, 1]))
    >>> len(ds), ds[1]
    (2, (tensor([3., 4.]), tensor(1)))
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor, got none")
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: expected Tensors, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError(
                    "TensorDataset: expected tensors with a first (sample) dimension, got a 0-d tensor"
                )
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise _SizeMismatchError(
                f"TensorDataset: expected the same size of dimension 0 in every tensor, got {shapes}"
            )
        self.tensors = tuple(tensors)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(_take(t, index) for t in self.tensors)

    def __getitems__(self, indices: Sequence[int]) -> BatchedSamples | list:
        """The whole batch with one fancy-index per tensor (no loop over samples).

        A subclass with its own ``__getitem__`` (an augmentation) is asked sample by sample, as
        PyTorch's loader asks it: PyTorch's ``TensorDataset`` has no ``__getitems__``, so the fast
        path must not skip the subclass's method (it did, and the batches came unaugmented).
        """
        idx = int_positions(indices)  # (B,)
        if idx is None or type(self).__getitem__ is not TensorDataset.__getitem__:
            return [self[i] for i in indices]
        return BatchedSamples([_take(t, idx) for t in self.tensors])

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset[_T_co]):
    """The samples of ``dataset`` at ``indices`` (in that order).

    Args:
        dataset: the whole dataset.
        indices: positions in ``dataset``.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        # PyTorch 2.13's check: the DataLoader fetches a batch with ``__getitems__``, which would
        # bypass a subclass's own ``__getitem__``
        if (
            type(self).__getitem__ is not Subset.__getitem__
            and type(self).__getitems__ is Subset.__getitems__
        ):
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__. When subclassing "
                "Subset and overriding __getitem__, you must also override __getitems__ to ensure "
                "DataLoader works correctly with your custom logic. A simple implementation:\n\n"
                "def __getitems__(self, indices):\n    return [self.__getitem__(idx) for idx in indices]"
            )

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: Sequence[int]) -> Any:
        # ``self.indices`` is read at every batch, never cached: programs reassign or grow it
        # (active learning, curricula) and may hold any keys of their dataset (a dict's strings).
        # The batch goes on whole if the dataset can take it.
        if hasattr(self.dataset, "__getitems__"):
            own = self.indices
            positions = int_positions(indices)  # (B,)
            if isinstance(own, np.ndarray | Tensor) and positions is not None:  # one fancy-index
                mapped = np.asarray(getattr(own, "_data", own))[positions].tolist()
            else:
                mapped = [own[i] for i in indices]
            return self.dataset.__getitems__(mapped)
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[_T_co]):
    """Several map-style datasets one after another.

    Args:
        datasets: the datasets (none of them an ``IterableDataset``).
    """

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise _DatasetsError("ConcatDataset: expected at least one dataset, got none")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise _DatasetsError(
                    "ConcatDataset does not support IterableDataset: expected map-style datasets, "
                    "got an IterableDataset (chain streams with ChainDataset)"
                )
        self.cumulative_sizes = self.cumsum(self.datasets)

    @staticmethod
    def cumsum(sequence: Iterable[Any]) -> list[int]:
        """The running totals of the lengths of ``sequence``'s items (PyTorch's static helper, which
        Avalanche's ``FlatData`` calls on the class): ``[len(a), len(a) + len(b), ...]``."""
        totals, total = [], 0
        for item in sequence:
            total += len(item)
            totals.append(total)
        return totals

    @property
    def cummulative_sizes(self) -> list[int]:
        """PyTorch's old misspelt name for ``cumulative_sizes``, with its ``FutureWarning``."""
        warnings.warn(
            "`cummulative_sizes` attribute is renamed to `cumulative_sizes`", FutureWarning, stacklevel=2
        )
        return self.cumulative_sizes

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):  # a ValueError too, as PyTorch raises
                raise IndexOutOfRangeError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which >= len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
        start = 0 if which == 0 else self.cumulative_sizes[which - 1]
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Several streams one after another: iterating gives every sample of each in turn.

    Args:
        datasets: the ``IterableDataset`` objects to chain (read lazily, once per iteration).
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise _ChainError(
                    f"ChainDataset: expected IterableDatasets, got {type(d).__name__} "
                    "(ChainDataset only supports IterableDataset)"
                )
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)  # TypeError from a stream without __len__


class StackDataset(Dataset[_T_stack]):
    """Equal-length datasets read side by side: sample i is ``(a[i], b[i], ...)`` for
    ``StackDataset(a, b)`` or ``{"x": a[i], "y": b[i]}`` for ``StackDataset(x=a, y=b)``.
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError(
                "StackDataset: expected datasets as positional or as keyword arguments, not both "
                "(Supported either tuple- (via args) or dict- (via kwargs) like input/output, but both types are given)"
            )
        parts = list(args) or list(kwargs.values())
        if not parts:
            raise ValueError(
                "StackDataset: expected at least one dataset, got none (At least one dataset should be passed)"
            )
        lengths = [len(d) for d in parts]
        if len(set(lengths)) > 1:
            raise ValueError(
                f"StackDataset: expected datasets of one length, got lengths {lengths} "
                "(Size mismatch between datasets)"
            )
        self._length = lengths[0]
        self.datasets: tuple | dict = args if args else kwargs

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """A batch of samples; a part with its own ``__getitems__`` answers its column in one call."""
        named = isinstance(self.datasets, dict)
        parts = list(self.datasets.values()) if named else list(self.datasets)
        cols = []
        for d in parts:
            getitems = getattr(d, "__getitems__", None)
            col = getitems(indices) if getitems is not None else [d[i] for i in indices]
            if len(col) != len(indices):
                raise ValueError(
                    f"StackDataset: Nested dataset's output size mismatch. Expected {len(indices)}, got {len(col)}"
                )
            cols.append(col)
        if named:
            return [dict(zip(self.datasets, row, strict=True)) for row in zip(*cols, strict=True)]
        return [tuple(row) for row in zip(*cols, strict=True)]

    def __len__(self) -> int:
        return self._length


def _fractions_to_lengths(n: int, fractions: Sequence[float]) -> list[int]:
    """PyTorch's rule: floor each share, then hand the remainder out one by one from the front."""
    for i, frac in enumerate(fractions):
        if frac < 0 or frac > 1:
            raise ValueError(f"random_split: expected fractions in [0, 1], got {frac} at position {i}")
    lengths = [math.floor(n * frac) for frac in fractions]
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(
                f"random_split: length of split at index {i} is 0; this split will be empty",
                stacklevel=user_stacklevel(),
            )
    return lengths


def random_split(
    dataset: Dataset, lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths (or fractions).

    Args:
        dataset: the dataset to split.
        lengths: sizes that sum to ``len(dataset)``, or fractions that sum to 1 (floored, with the
            remainder given one at a time to the first splits, as PyTorch does).
        generator: the random source (default: the global one that ``manual_seed`` seeds).

    Returns:
        One :class:`Subset` per length.

    >>> import glassgrad as gg
    >>> a, b = random_split(TensorDataset(gg.arange(10)), [0.8, 0.2], generator=gg.Generator(0))
    >>> len(a), len(b)
    (8, 2)
    """
    n = len(dataset)  # type: ignore[arg-type]
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _fractions_to_lengths(n, lengths)
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: expected lengths summing to the dataset's length {n} (or fractions summing "
            f"to 1), got {list(lengths)}"
        )
    perm = get_generator(generator).permutation(n)  # (n,)
    bounds = np.cumsum([0, *lengths]).tolist()
    return [Subset(dataset, perm[lo:hi].tolist()) for lo, hi in itertools.pairwise(bounds)]
