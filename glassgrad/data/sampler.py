"""Samplers decide the order in which a ``DataLoader`` visits a dataset (``torch.utils.data`` names).

Every sampler here draws its whole epoch of indices as one NumPy array (``_epoch_indices``), so
``BatchSampler`` cuts batches by slicing instead of collecting indices one by one; iterating a
sampler still yields Python ints, as in PyTorch. Randomness comes from ``glassgrad.random``: the
sampler's ``generator`` if given, else the global generator that ``manual_seed`` seeds. The draw
happens when an epoch starts (``iter(sampler)``), so each epoch gets a new order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

from glassgrad.random import Generator, get_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler"]


class Sampler:
    """Base class: subclasses define ``__iter__`` (yielding dataset indices) and usually ``__len__``."""

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Sampler must define __iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order.

    >>> list(SequentialSampler(range(4)))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _epoch_indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in random order: a fresh permutation per epoch, or draws with replacement.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw ``num_samples`` indices independently (with repeats) instead of permuting.
        num_samples: how many indices per epoch (default ``len(data_source)``); without replacement
            and larger than the dataset, whole permutations are concatenated, as PyTorch does.
        generator: the random source (default: the global one).
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: expected replacement to be a bool, got {replacement!r}")
        if (
            not isinstance(self.num_samples, int)
            or isinstance(self.num_samples, bool)
            or self.num_samples <= 0
        ):
            raise ValueError(
                f"RandomSampler: expected num_samples to be a positive integer, got {self.num_samples!r}"
            )

    @property
    def num_samples(self) -> int:
        # The dataset may change size after construction, so its length is read lazily (as PyTorch does).
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _epoch_indices(self) -> np.ndarray:
        n, k = len(self.data_source), self.num_samples
        if n == 0:
            raise ValueError(
                f"RandomSampler: expected a non-empty data_source to draw {k} samples from, got length 0"
            )
        rng = get_generator(self.generator)
        if self.replacement:
            return rng.integers(0, n, size=k, dtype=np.int64)
        # One permutation per pass over the data: a loop over passes, not over samples.
        perms = [rng.permutation(n) for _ in range(k // n)]
        if k % n:
            perms.append(rng.permutation(n)[: k % n])
        return np.concatenate(perms).astype(np.int64, copy=False)  # (k,)

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch_indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order drawn per epoch.

    Args:
        indices: dataset indices to draw from.
        generator: the random source (default: the global one).
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def _epoch_indices(self) -> np.ndarray:
        idx = np.asarray(self.indices, dtype=np.int64).reshape(-1)  # (len,)
        return idx[get_generator(self.generator).permutation(len(idx))]

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch_indices().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size``.

    Args:
        sampler: any sampler or iterable of indices.
        batch_size: indices per batch (a positive integer).
        drop_last: drop the final batch if it is smaller than ``batch_size``.

    >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6]]
    >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=True))
    [[0, 1, 2], [3, 4, 5]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"BatchSampler: expected batch_size to be a positive integer, got {batch_size!r}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: expected drop_last to be a bool, got {drop_last!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        bs = self.batch_size
        # The fast path only for our samplers' own __iter__: a subclass that overrides __iter__
        # (a custom order) must be iterated, not bypassed through _epoch_indices.
        if getattr(type(self.sampler), "__iter__", None) in _EPOCH_ITERS:
            # Fast path: the whole epoch as one array, cut into slices (a loop over batches only).
            idx = self.sampler._epoch_indices()  # type: ignore[union-attr]
            stop = len(idx) - len(idx) % bs if self.drop_last else len(idx)
            for start in range(0, stop, bs):
                yield idx[start : start + bs].tolist()
            return
        batch: list[int] = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == bs:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# The __iter__ methods that only yield _epoch_indices(): BatchSampler may slice that array instead.
_EPOCH_ITERS = frozenset((SequentialSampler.__iter__, RandomSampler.__iter__, SubsetRandomSampler.__iter__))
