"""``glassgrad.distributed.rpc.constants``: PyTorch's RPC timeouts, in seconds.

``UNSET_RPC_TIMEOUT`` is the default ``timeout`` of ``rpc_sync``/``rpc_async``/``remote``/
``RRef.to_here`` ("use the agent's default"); libraries name it in their own signatures
(torchopt's ``pytree.tree_to_here``)."""

from __future__ import annotations

__all__ = ["DEFAULT_RPC_TIMEOUT_SEC", "UNSET_RPC_TIMEOUT"]

DEFAULT_RPC_TIMEOUT_SEC: float = 60.0
UNSET_RPC_TIMEOUT: float = -1.0
