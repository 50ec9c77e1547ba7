"""``torch.distributed.algorithms._checkpoint``: activation checkpointing and offloading wrappers
(``checkpoint_wrapper.py``)."""

from glassgrad.distributed.algorithms._checkpoint import checkpoint_wrapper

__all__ = ["checkpoint_wrapper"]
