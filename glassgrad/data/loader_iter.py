"""What ``iter(DataLoader)`` returns, under ``torch.utils.data.dataloader``'s class names.

glassgrad loads every batch in the calling process, so an iterator is always a
``_SingleProcessDataLoaderIter``; ``_MultiProcessingDataLoaderIter`` exists for code that names it
(TorchIO's ``in_torch_loader`` looks for either class on the call stack while a dataset makes a
sample, as it would in PyTorch), and ``_BaseDataLoaderIter`` is the base of both, as PyTorch's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__: list[str] = []


class _BaseDataLoaderIter:
    """The batches of one pass over a loader, and ``len()`` as PyTorch's iterators have it (the
    CycleGAN notebook takes ``min(len(iter_X), len(iter_Y))`` as its batches per epoch); a plain
    generator has no length."""

    def __init__(self, loader: Any, batches: Iterator[Any]) -> None:
        self._loader, self._batches = loader, batches

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def __next__(self) -> Any:
        return next(self._batches)

    def __len__(self) -> int:
        return len(self._loader)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """The iterator every glassgrad ``DataLoader`` gives (``num_workers`` is accepted and ignored)."""


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """PyTorch's worker-process iterator, by name only: glassgrad never makes one."""


_LoaderIter = _SingleProcessDataLoaderIter  # the name earlier glassgrad versions used
