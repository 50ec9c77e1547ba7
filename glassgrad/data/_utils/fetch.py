"""``torch.utils.data._utils.fetch``: what turns one index (or list of indices) into a batch.

``_MapDatasetFetcher`` indexes a map-style dataset (through ``__getitems__`` when the dataset has
one), ``_IterableDatasetFetcher`` draws the next sample(s) of an iterable one; both then apply
``collate_fn``, as PyTorch's do. ``_DatasetKind.create_fetcher`` (in ``dataloader``) picks one.
"""

from __future__ import annotations

from typing import Any

from glassgrad.data.collation import default_collate
from glassgrad.data.dataset import BatchedSamples

__all__: list[str] = []


class _BaseDatasetFetcher:
    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Any, drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.fetch: a subclass must define it")


class _IterableDatasetFetcher(_BaseDatasetFetcher):
    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Any, drop_last: bool) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


class _MapDatasetFetcher(_BaseDatasetFetcher):
    def fetch(self, possibly_batched_index: Any) -> Any:
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            if getitems:
                data = getitems(possibly_batched_index)
                if isinstance(data, BatchedSamples) and self.collate_fn is not default_collate:
                    # glassgrad's batched columns are for default_collate; any other collate_fn
                    # (a user's own, whatever its name) gets the list of samples, as in PyTorch
                    data = [self.dataset[idx] for idx in possibly_batched_index]
            else:
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)
