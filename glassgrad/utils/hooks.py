"""``torch.utils.hooks``: ``RemovableHandle``, what every ``register_*_hook`` returns (modules,
tensors, optimizers), at PyTorch's module path for code that imports or annotates with it."""

from glassgrad.nn.hooks import RemovableHandle

__all__ = ["RemovableHandle"]
