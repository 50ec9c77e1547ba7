"""``torch.nn.parallel.replicate``, importable as PyTorch's submodule (``parallel_functions.py``)."""

from glassgrad.nn.parallel_functions import replicate

__all__ = ["replicate"]
