"""``torch.utils.data.datapipes.iter``: iterable data pipes."""

from glassgrad.data.datapipes.iter import combinatorics
from glassgrad.data.datapipes.iter.combinatorics import ShufflerIterDataPipe

Shuffler = ShufflerIterDataPipe  # PyTorch's short name

__all__ = ["Shuffler", "ShufflerIterDataPipe", "combinatorics"]
