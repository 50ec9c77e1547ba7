"""``torch.nn.parallel.distributed``: ``DistributedDataParallel``, importable as PyTorch's submodule."""

from glassgrad.nn.parallel import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
