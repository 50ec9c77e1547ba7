"""``glassgrad.distributed.rpc``: PyTorch's ``torch.distributed.rpc`` for a world of one process
(see ``api``): ``init_rpc``, ``rpc_sync``, ``remote``, ``RRef``, ``shutdown``, ``get_worker_info``."""

from __future__ import annotations

from glassgrad.distributed.rpc import api
from glassgrad.distributed.rpc.api import (
    RRef,
    WorkerInfo,
    get_worker_info,
    init_rpc,
    remote,
    rpc_sync,
    shutdown,
)

__all__ = [
    "api",
    "is_available",
    "RRef",
    "WorkerInfo",
    "init_rpc",
    "shutdown",
    "get_worker_info",
    "rpc_sync",
    "remote",
]


def is_available() -> bool:
    """True: the package is there (a world of one process)."""
    return True
