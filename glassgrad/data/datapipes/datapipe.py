"""``torch.utils.data.datapipes.datapipe``: the base classes of data pipes."""

from __future__ import annotations

from glassgrad.data.dataset import Dataset, IterableDataset

__all__ = ["IterDataPipe", "MapDataPipe"]


class IterDataPipe(IterableDataset):
    """A stream stage: an ``IterableDataset`` whose ``__iter__`` reads from ``self.datapipe``."""

    def reset(self) -> None:
        """Called when a new iteration starts (PyTorch's hook); nothing to reset by default."""


class MapDataPipe(Dataset):
    """A map-style stage: a ``Dataset`` with ``__getitem__`` and ``__len__``."""
