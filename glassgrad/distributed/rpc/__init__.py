"""``glassgrad.distributed.rpc``: PyTorch's ``torch.distributed.rpc`` for a world of one process
(see ``api``): ``init_rpc``, ``rpc_sync``, ``rpc_async``, ``remote``, ``RRef``, ``shutdown``,
``get_worker_info``, and the timeouts of ``constants``."""

from __future__ import annotations

from glassgrad.distributed.rpc import api, constants
from glassgrad.distributed.rpc.api import (
    DEFAULT_RPC_TIMEOUT_SEC,
    UNSET_RPC_TIMEOUT,
    RRef,
    WorkerInfo,
    get_worker_info,
    init_rpc,
    remote,
    rpc_async,
    rpc_sync,
    shutdown,
)

__all__ = [
    "api",
    "constants",
    "DEFAULT_RPC_TIMEOUT_SEC",
    "UNSET_RPC_TIMEOUT",
    "is_available",
    "RRef",
    "WorkerInfo",
    "init_rpc",
    "shutdown",
    "get_worker_info",
    "rpc_sync",
    "rpc_async",
    "remote",
]


def is_available() -> bool:
    """True: the package is there (a world of one process)."""
    return True
