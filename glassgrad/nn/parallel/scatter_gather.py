"""``torch.nn.parallel.scatter_gather``: ``scatter``, ``scatter_kwargs`` and ``gather``, importable as PyTorch's
submodule (``parallel_functions.py``)."""

from glassgrad.nn.parallel._functions import Gather, Scatter
from glassgrad.nn.parallel_functions import gather, scatter, scatter_kwargs

__all__ = ["scatter", "scatter_kwargs", "gather", "Gather", "Scatter"]
