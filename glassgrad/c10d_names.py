"""``torch._C._distributed_c10d``: the compiled module PyTorch's ``torch.distributed`` classes come
from. Published code imports them from there (PyTorchVideo's ``layers/distributed.py`` does
``from torch._C._distributed_c10d import ProcessGroup`` for a type annotation); here each name is
the very class of ``glassgrad.distributed``, as in PyTorch (``dist.ProcessGroup is
torch._C._distributed_c10d.ProcessGroup``). ``glassgrad._C`` registers this module under
``glassgrad._C._distributed_c10d`` so that the ``from ... import`` form finds it.

>>> from glassgrad._C._distributed_c10d import ProcessGroup
>>> import glassgrad.distributed as dist
>>> ProcessGroup is dist.ProcessGroup
True
"""

from __future__ import annotations

from typing import Any

#: the classes both modules share in PyTorch 2.13 (``torch.distributed.Backend`` is another class)
SHARED = ("ProcessGroup", "Store", "HashStore", "TCPStore", "FileStore", "PrefixStore", "ReduceOp", "Work")


def __getattr__(name: str) -> Any:
    if name in SHARED:  # read lazily: glassgrad.distributed imports much of glassgrad
        import glassgrad.distributed as dist

        return getattr(dist, name)
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"module 'glassgrad._C._distributed_c10d' has no attribute {name!r}: glassgrad has no compiled "
        f"extension; only the classes it shares with glassgrad.distributed exist here: {', '.join(SHARED)}"
    )


def __dir__() -> list[str]:
    return sorted(SHARED)
