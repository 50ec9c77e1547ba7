"""Samplers decide the order in which a ``DataLoader`` visits a dataset (``torch.utils.data`` names).

Every sampler here draws its epoch of indices as NumPy arrays (``_epoch_chunks``: the whole epoch
in one array, or, when the epoch may be huge, one chunk at a time), so ``BatchSampler`` cuts
batches by slicing instead of collecting indices one by one; iterating a sampler still yields
Python ints, as in PyTorch. ``RandomSampler(replacement=True, num_samples=10**10)`` therefore
never holds more than one chunk of indices. Randomness comes from ``glassgrad.random``: the
sampler's ``generator`` if given, else the global generator that ``manual_seed`` seeds. The draw
happens when an epoch starts (``iter(sampler)``), so each epoch gets a new order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

from glassgrad.errors import ArgumentError
from glassgrad.random import Generator, get_generator
from glassgrad.tensor import Tensor

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]

#: indices drawn at a time by the samplers whose epoch may be arbitrarily long
CHUNK = 1 << 16

# covariant item type: `Dataset[int]` in annotations and subclass bases, as in PyTorch
_T_co = TypeVar("_T_co", covariant=True)


class Sampler(Generic[_T_co]):
    """Base class: subclasses define ``__iter__`` (yielding dataset indices) and usually ``__len__``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # PyTorch's Sampler takes no arguments since its unused `data_source` was removed (2.2);
        # subclasses written for older releases pass it to super().__init__ and fail there.
        if args or kwargs:
            given = [type(a).__name__ for a in args] + [f"{k}=" for k in kwargs]
            raise TypeError(
                f"{type(self).__name__}: Sampler.__init__ takes no arguments, got {', '.join(given)}; "
                "the old data_source argument is gone, call super().__init__() without it"
            )

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Sampler must define __iter__")


class SequentialSampler(Sampler[int]):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order.

    >>> list(SequentialSampler(range(4)))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _epoch_chunks(self) -> Iterator[np.ndarray]:
        yield np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
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
            raise TypeError(
                f"RandomSampler: replacement should be a boolean value, but got replacement={replacement!r}"
            )
        if (
            not isinstance(self.num_samples, int)
            or isinstance(self.num_samples, bool)
            or self.num_samples <= 0
        ):
            raise ValueError(
                f"RandomSampler: num_samples should be a positive integer value, but got num_samples={self.num_samples!r}"
            )

    @property
    def num_samples(self) -> int:
        # The dataset may change size after construction, so its length is read lazily (as PyTorch does).
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _epoch_chunks(self) -> Iterator[np.ndarray]:
        n, k = len(self.data_source), self.num_samples
        if n == 0:
            raise ValueError(
                f"RandomSampler: expected a non-empty data_source to draw {k} samples from, got length 0"
            )
        rng = get_generator(self.generator)
        if self.replacement:  # independent draws, a chunk at a time: num_samples may be huge
            for start in range(0, k, CHUNK):
                yield rng.integers(0, n, size=min(CHUNK, k - start), dtype=np.int64)
            return
        # One permutation per pass over the data: a loop over passes, not over samples.
        for _ in range(k // n):
            yield rng.permutation(n).astype(np.int64, copy=False)
        if k % n:
            yield rng.permutation(n)[: k % n].astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return _ints(self._epoch_chunks())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in a random order drawn per epoch.

    Args:
        indices: dataset indices to draw from.
        generator: the random source (default: the global one).
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def _epoch_chunks(self) -> Iterator[np.ndarray]:
        idx = np.asarray(self.indices, dtype=np.int64).reshape(-1)  # (len,)
        yield idx[get_generator(self.generator).permutation(len(idx))]

    def __iter__(self) -> Iterator[int]:
        return _ints(self._epoch_chunks())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Indices ``0 .. len(weights) - 1`` drawn with probabilities proportional to ``weights``.

    The usual cure for class imbalance: give each sample the weight ``1 / count(its class)``.
    With replacement the draws are independent (made a chunk at a time); without, each index is
    drawn at most once, each draw proportional to the weights of the indices not yet drawn (as
    ``torch.multinomial``); once the nonzero weights are used up, zero-weight indices follow.

    Args:
        weights: a 1-d sequence of non-negative weights, not all zero (they need not sum to 1).
        num_samples: how many indices per epoch (a positive int).
        replacement: draw with replacement (default, as in PyTorch).
        generator: the random source (default: the global one).

    >>> sampler = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], num_samples=2, replacement=False)
    >>> len(sampler), sorted(sampler)
    (2, [1, 3])
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: Generator | None = None,
    ) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(
                f"WeightedRandomSampler: num_samples should be a positive integer value, but got num_samples={num_samples!r}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"WeightedRandomSampler: replacement should be a boolean value, but got replacement={replacement!r}"
            )
        w = np.asarray(getattr(weights, "_data", weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"WeightedRandomSampler: expected a 1-d sequence of weights, got shape {w.shape}"
            )
        if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0):
            # a RuntimeError too: PyTorch's multinomial refuses these weights
            raise ArgumentError(
                "WeightedRandomSampler: expected finite, non-negative weights with a positive sum"
            )
        self.weights = Tensor(w, _wrap=True)  # (n,) float64, a tensor as PyTorch keeps it
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def _epoch_chunks(self) -> Iterator[np.ndarray]:
        # read per epoch: a program may assign new weights to a sampler between epochs
        w = np.asarray(getattr(self.weights, "_data", self.weights), dtype=np.float64)
        n, k, p = len(w), self.num_samples, w / w.sum()
        rng = get_generator(self.generator)
        if self.replacement:
            for start in range(0, k, CHUNK):
                yield rng.choice(n, size=min(CHUNK, k - start), p=p).astype(np.int64, copy=False)
            return
        if k > n:
            raise ArgumentError(  # a RuntimeError too, as PyTorch's multinomial raises
                f"WeightedRandomSampler: expected num_samples <= {n} (the number of weights) without "
                f"replacement, got {k}"
            )
        # An exponential race: index i finishes at time Eᵢ / wᵢ (Eᵢ ~ Exp(1)), and the first k
        # to finish are a draw without replacement, each pick proportional to the remaining
        # weights. Zero weights never finish; as in PyTorch they fill any places left, in random order.
        order = rng.permutation(n)  # random order among the ties (the zero weights)
        with np.errstate(divide="ignore"):
            finish = rng.standard_exponential(n) / p[order]
        yield order[np.argsort(finish, kind="stable")[:k]].astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return _ints(self._epoch_chunks())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
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
                f"BatchSampler: batch_size should be a positive integer value, but got batch_size={batch_size!r}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last!r}"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        bs = self.batch_size
        # The fast path only for our samplers' own __iter__: a subclass that overrides __iter__
        # (a custom order) must be iterated, not bypassed through _epoch_chunks.
        if getattr(type(self.sampler), "__iter__", None) in _EPOCH_ITERS:
            # Fast path: the epoch's arrays cut into slices (a loop over batches only); a batch
            # that straddles two chunks is completed from the next one.
            rest = np.empty(0, dtype=np.int64)
            for chunk in self.sampler._epoch_chunks():  # type: ignore[union-attr]
                idx = np.concatenate([rest, chunk]) if len(rest) else chunk
                full = len(idx) - len(idx) % bs
                for start in range(0, full, bs):
                    yield idx[start : start + bs].tolist()
                rest = idx[full:]
            if len(rest) and not self.drop_last:
                yield rest.tolist()
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


def _ints(chunks: Iterable[np.ndarray]) -> Iterator[int]:
    """The indices of ``chunks`` as Python ints, one chunk converted at a time."""
    for chunk in chunks:
        yield from chunk.tolist()


# The __iter__ methods that only yield _epoch_chunks(): BatchSampler may slice those arrays instead.
_EPOCH_ITERS = frozenset(
    (
        SequentialSampler.__iter__,
        RandomSampler.__iter__,
        SubsetRandomSampler.__iter__,
        WeightedRandomSampler.__iter__,
    )
)
