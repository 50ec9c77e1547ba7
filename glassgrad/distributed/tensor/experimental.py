"""``glassgrad.distributed.tensor.experimental``: PyTorch's ``torch.distributed.tensor.experimental``
for a world of one process. ``implicit_replication()`` is the context manager under which PyTorch
lets an op mix a ``DTensor`` with a plain ``Tensor`` (the plain one taken as replicated). An op of
glassgrad always accepts that mix (a ``DTensor`` holds the whole tensor), so the context only marks
where a program asks for it.

>>> import glassgrad as gg
>>> import glassgrad.distributed as dist
>>> from glassgrad.distributed.tensor import distribute_tensor
>>> d = distribute_tensor(gg.ones(2), dist.init_device_mesh("cpu", (1,)))
>>> with implicit_replication():
...     (d + gg.ones(2)).tolist()
[2.0, 2.0]
>>> dist.destroy_process_group()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["implicit_replication"]


@contextmanager
def implicit_replication() -> Iterator[None]:
    """Within the context a plain ``Tensor`` operand of a ``DTensor`` op is taken as replicated
    (as everywhere in glassgrad's world of one process)."""
    yield
