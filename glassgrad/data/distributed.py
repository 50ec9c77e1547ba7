"""``DistributedSampler``: each process of a distributed run reads its own share of a dataset
(``torch.utils.data.distributed``).

The indices, shuffled with the same seed in every process (``seed + epoch``: call
``set_epoch`` at the start of each epoch for a new order), are padded by repeating the first ones
to a multiple of ``num_replicas`` (or cut to one with ``drop_last=True``), and rank ``r`` takes
every ``num_replicas``-th index from position ``r``. glassgrad's process group is a world of one
(``glassgrad.distributed``), so by default that is the whole dataset; ``num_replicas`` and
``rank`` may still be given to read one share, as PyTorch allows.

>>> sampler = DistributedSampler(range(10), num_replicas=4, rank=1, shuffle=False)
>>> list(sampler), len(sampler)
([1, 5, 9], 3)
>>> list(DistributedSampler(range(10), num_replicas=4, rank=3, shuffle=False, drop_last=True))
[3, 7]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized
from typing import TypeVar

from glassgrad.data.sampler import Sampler
from glassgrad.random import Generator

# covariant item type: `Dataset[int]` in annotations and subclass bases, as in PyTorch
_T_co = TypeVar("_T_co", covariant=True)

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler[_T_co]):
    """The share of ``dataset``'s indices that process ``rank`` of ``num_replicas`` reads.

    Args:
        dataset: the dataset (only its length is used).
        num_replicas: the number of processes (default: the process group's world size).
        rank: this process's rank (default: the process group's rank).
        shuffle: permute the indices each epoch (with ``seed + epoch``, the same in every process).
        seed: the shuffling seed; must be the same in every process.
        drop_last: cut the tail so that every rank gets ``len(dataset) // num_replicas`` indices
            instead of padding with repeated ones.
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            import glassgrad.distributed as dist  # the default group: ValueError before it starts

            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"DistributedSampler: Invalid rank {rank}, rank should be in the interval "
                f"[0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)  # as PyTorch: n // replicas
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:  # the same permutation in every process: seeded, not the global generator
            indices = Generator().manual_seed(self.seed + self.epoch).rng.permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:  # pad by repeating indices from the start
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch that seeds the next shuffle (``seed + epoch``); call it before each epoch."""
        self.epoch = epoch
