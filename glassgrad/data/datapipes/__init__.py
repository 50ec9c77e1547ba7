"""``torch.utils.data.datapipes``: the ``IterDataPipe``/``MapDataPipe`` bases and the shuffler.

Only what programs reach for is here: the two base classes and ``iter.ShufflerIterDataPipe``
(Hugging Face Accelerate imports it to tell a shuffled pipe from any other stream); PyTorch's
functional forms (``dp.shuffle()``, ``dp.map()``) and the rest of its pipe zoo are not.
"""

from glassgrad.data.datapipes import iter  # PyTorch's submodule name
from glassgrad.data.datapipes.datapipe import IterDataPipe, MapDataPipe

__all__ = ["IterDataPipe", "MapDataPipe", "iter"]
