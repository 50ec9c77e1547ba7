"""``torch.optim.adamw``: the module PyTorch keeps ``AdamW`` in (``from torch.optim.adamw import AdamW``).

glassgrad's ``AdamW`` lives with ``Adam`` in :mod:`glassgrad.optim.adam`; this module names it
under PyTorch's path so that programs importing from the submodule run unchanged.
"""

from glassgrad.optim.adam import AdamW

__all__ = ["AdamW"]
