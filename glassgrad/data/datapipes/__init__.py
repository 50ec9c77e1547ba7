"""``torch.utils.data.datapipes``: the ``IterDataPipe``/``MapDataPipe`` bases and the shuffler.

Only what programs reach for is here: the two base classes (with PyTorch's iterator hook: reset
per iteration, one live iterator per pipe) and ``iter.ShufflerIterDataPipe``, also as ``dp.shuffle()``
(Hugging Face Accelerate imports it to tell a shuffled pipe from any other stream); the rest of
PyTorch's pipe zoo (``IterableWrapper``, ``dp.map()``, ``dp.batch()`` ...) is not.
"""

from glassgrad.data.datapipes import iter  # PyTorch's submodule name
from glassgrad.data.datapipes.datapipe import IterDataPipe, MapDataPipe

__all__ = ["IterDataPipe", "MapDataPipe", "iter"]
