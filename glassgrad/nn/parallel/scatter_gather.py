"""``torch.nn.parallel.scatter_gather``: ``scatter`` and ``gather``, importable as PyTorch's
submodule (``parallel_functions.py``)."""

from glassgrad.nn.parallel_functions import gather, scatter

__all__ = ["scatter", "gather"]
