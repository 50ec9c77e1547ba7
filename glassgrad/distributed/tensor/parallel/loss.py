"""``loss_parallel`` (PyTorch's ``torch.distributed.tensor.parallel.loss_parallel``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["loss_parallel"]


@contextlib.contextmanager
def loss_parallel() -> Iterator[None]:
    """Inside the block PyTorch computes ``F.cross_entropy``/``F.nll_loss`` on logits sharded over
    the class dimension without gathering them. In a world of one process every shard is all the
    classes, so the ordinary loss is that loss: the block changes nothing (the loss is a plain
    Tensor, where PyTorch's is a replicated DTensor of the same value)."""
    yield
