"""``glassgrad.distributed.checkpoint``: of PyTorch's distributed checkpointing, the model state-dict
helpers a world of one process needs (``state_dict`` submodule); see ``state_dict.py``."""

from __future__ import annotations

from glassgrad.distributed.checkpoint import state_dict

__all__ = ["state_dict"]
