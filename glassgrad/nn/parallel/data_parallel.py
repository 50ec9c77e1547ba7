"""``torch.nn.parallel.data_parallel``: ``DataParallel`` and ``data_parallel``, importable as
PyTorch's submodule."""

from glassgrad.nn.parallel import DataParallel
from glassgrad.nn.parallel_functions import data_parallel

__all__ = ["DataParallel", "data_parallel"]
