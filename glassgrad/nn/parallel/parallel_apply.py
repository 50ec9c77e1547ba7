"""``torch.nn.parallel.parallel_apply``, importable as PyTorch's submodule (``parallel_functions.py``)."""

from glassgrad.nn.parallel_functions import parallel_apply

__all__ = ["parallel_apply"]
