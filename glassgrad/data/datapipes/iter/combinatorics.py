"""``torch.utils.data.datapipes.iter.combinatorics``: ``ShufflerIterDataPipe``."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sized
from typing import Any

from glassgrad.data.datapipes.datapipe import IterDataPipe, functional_datapipe
from glassgrad.errors import ArgumentAssertionError

__all__ = ["ShufflerIterDataPipe"]


@functional_datapipe("shuffle")
class ShufflerIterDataPipe(IterDataPipe):
    """Shuffle a stream through a buffer of ``buffer_size`` items, as PyTorch's ``Shuffler``
    (functional form ``dp.shuffle(buffer_size=...)``).

    Each item read goes into the buffer; once it is full, a random slot is yielded and takes the
    new item's place; at the end the buffer empties in random order. ``set_shuffle(False)`` passes
    the stream through unchanged; ``set_seed(s)`` fixes the next iteration's order (otherwise a
    seed is drawn from glassgrad's generator, so ``manual_seed`` makes it repeatable). A
    ``DataLoader`` seeds it at each epoch from its ``generator`` (``graph_settings.apply_random_seed``).
    ``reset()`` runs when an iteration starts (the base class's hook).

    >>> from glassgrad.data.datapipes.iter import ShufflerIterDataPipe
    >>> sorted(ShufflerIterDataPipe(range(5), buffer_size=2).set_seed(0))
    [0, 1, 2, 3, 4]
    >>> list(ShufflerIterDataPipe(range(5)).set_shuffle(False))
    [0, 1, 2, 3, 4]
    """

    def __init__(self, datapipe: Any, *, buffer_size: int = 10000, unbatch_level: int = 0) -> None:
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size <= 0:
            # PyTorch raises AssertionError; a ValueError too, as glassgrad raised before
            raise ArgumentAssertionError(
                f"ShufflerIterDataPipe: expected buffer_size a positive int, got {buffer_size!r}"
            )
        if unbatch_level != 0:
            raise NotImplementedError(
                f"ShufflerIterDataPipe: unbatch_level={unbatch_level!r} is not supported; expected 0"
            )
        super().__init__()
        self.datapipe = datapipe
        self.buffer_size = buffer_size
        self._buffer: list[Any] = []
        self._enabled = True
        self._seed: int | None = None
        self._rng = random.Random()

    def set_shuffle(self, shuffle: bool = True) -> ShufflerIterDataPipe:
        self._enabled = shuffle
        return self

    def set_seed(self, seed: int) -> ShufflerIterDataPipe:
        self._seed = seed
        return self

    def reset(self) -> None:
        self._buffer = []
        if self._enabled:
            if self._seed is None:
                import glassgrad

                self._seed = int(glassgrad.empty((), dtype=glassgrad.int64).random_().item())
            self._rng.seed(self._seed)
            self._seed = None

    def __iter__(self) -> Iterator[Any]:
        if not self._enabled:
            yield from self.datapipe
            return
        for item in self.datapipe:
            if len(self._buffer) == self.buffer_size:
                k = self._rng.randint(0, len(self._buffer) - 1)
                out, self._buffer[k] = self._buffer[k], item
                yield out
            else:
                self._buffer.append(item)
        while self._buffer:
            yield self._buffer.pop(self._rng.randint(0, len(self._buffer) - 1))

    def __len__(self) -> int:
        if isinstance(self.datapipe, Sized):
            return len(self.datapipe)
        raise TypeError(f"{type(self).__name__}: its source {type(self.datapipe).__name__} has no len()")
