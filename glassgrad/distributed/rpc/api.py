"""``glassgrad.distributed.rpc.api``: the RPC calls and ``RRef`` for a world of one process.

PyTorch's ``torch.distributed.rpc`` calls functions on other workers. glassgrad runs in one
process, so ``init_rpc`` starts only a world of one (rank 0 of 1), the one worker it knows is
itself, and ``rpc_sync``/``rpc_async``/``remote`` call the function here. An ``RRef`` is then
always owned by this worker. Training loops test ``isinstance(out, torch.distributed.rpc.api.RRef)`` (rasbt's
``helper_train.py``) without ever starting RPC; that check works, and as in PyTorch making an
``RRef`` or calling before ``init_rpc`` raises ``RuntimeError``.

>>> import glassgrad.distributed.rpc as rpc
>>> rpc.init_rpc("worker0", rank=0, world_size=1)
>>> rpc.rpc_sync("worker0", max, args=(1, 2))
2
>>> rpc.remote("worker0", pow, args=(2, 3)).to_here()
8
>>> rpc.shutdown()
"""

from __future__ import annotations

from typing import Any, NamedTuple

from glassgrad.distributed.rpc.constants import DEFAULT_RPC_TIMEOUT_SEC, UNSET_RPC_TIMEOUT

__all__ = [
    "RRef",
    "WorkerInfo",
    "init_rpc",
    "shutdown",
    "get_worker_info",
    "rpc_sync",
    "rpc_async",
    "remote",
    "DEFAULT_RPC_TIMEOUT_SEC",
    "UNSET_RPC_TIMEOUT",
]

_NOT_SET = (
    "Current RPC agent is not set! Did you initialize the RPC framework (e.g. by calling `rpc.init_rpc`)?"
)
_agent: dict[str, Any] = {"me": None}


class WorkerInfo(NamedTuple):
    """A worker's name and id (its rank)."""

    name: str
    id: int


def _me() -> WorkerInfo:
    if _agent["me"] is None:
        raise RuntimeError(_NOT_SET)
    return _agent["me"]


def init_rpc(
    name: str,
    backend: Any = None,
    rank: int = -1,
    world_size: int | None = None,
    rpc_backend_options: Any = None,
) -> None:
    """Start RPC: only a world of one process (``rank`` 0, ``world_size`` 1 or None)."""
    if _agent["me"] is not None:
        raise RuntimeError("init_rpc: RPC is already initialized")
    if not isinstance(name, str) or not name:
        raise ValueError(f"init_rpc: expected a non-empty worker name, got {name!r}")
    if world_size not in (None, 1) or rank not in (-1, 0):
        raise NotImplementedError(
            f"init_rpc: glassgrad runs in one process; expected world_size 1 and rank 0, got "
            f"world_size {world_size} and rank {rank}"
        )
    _agent["me"] = WorkerInfo(name, 0)


def shutdown(graceful: bool = True, timeout: float = 0) -> None:
    """Stop RPC (``init_rpc`` may be called again)."""
    _me()
    _agent["me"] = None


def get_worker_info(worker_name: str | None = None) -> WorkerInfo:
    """This worker's ``WorkerInfo`` (the only one in a world of one)."""
    me = _me()
    if worker_name is not None and worker_name != me.name:
        raise RuntimeError(
            f"get_worker_info: unknown destination worker {worker_name} (the only worker is {me.name!r})"
        )
    return me


def _local(op: str, to: Any) -> None:
    me = _me()
    name = to.name if isinstance(to, WorkerInfo) else to
    if name not in (me.name, me.id):
        raise RuntimeError(
            f"{op}: unknown destination worker {to!r} (glassgrad's only worker is {me.name!r})"
        )


def rpc_sync(
    to: Any,
    func: Any,
    args: tuple | None = None,
    kwargs: dict | None = None,
    timeout: float = UNSET_RPC_TIMEOUT,
) -> Any:
    """``func(*args, **kwargs)`` run on worker ``to``: this process, the only one."""
    _local("rpc_sync", to)
    return func(*(args or ()), **(kwargs or {}))


def rpc_async(
    to: Any,
    func: Any,
    args: tuple | None = None,
    kwargs: dict | None = None,
    timeout: float = UNSET_RPC_TIMEOUT,
) -> Any:
    """A future of ``func(*args, **kwargs)`` run on worker ``to`` (this process): the call runs
    now and the returned ``glassgrad.Future`` (``torch.Future``) is complete; an error the call
    raises is the future's exception, raised by ``wait()``, as PyTorch's remote errors are."""
    from glassgrad.futures import _FutureBase

    _local("rpc_async", to)
    fut: Any = _FutureBase()
    try:
        out = func(*(args or ()), **(kwargs or {}))
    except Exception as exc:  # the callee's error travels in the future, as over the wire
        fut.set_exception(exc)
    else:
        fut.set_result(out)
    return fut


def _barrier(worker_names: Any) -> None:
    """Wait until every worker in ``worker_names`` gets here: in a world of one, only this one."""
    me = _me()
    unknown = [n for n in worker_names if n not in (me.name, me.id)]
    if unknown:
        raise RuntimeError(f"_barrier: unknown workers {unknown!r} (glassgrad's only worker is {me.name!r})")


def remote(
    to: Any,
    func: Any,
    args: tuple | None = None,
    kwargs: dict | None = None,
    timeout: float = UNSET_RPC_TIMEOUT,
) -> RRef:
    """An ``RRef`` to ``func(*args, **kwargs)`` run on worker ``to`` (this process)."""
    _local("remote", to)
    return RRef(func(*(args or ()), **(kwargs or {})))


class RRef:
    """A reference to a value owned by a worker; here always this one. ``RRef(value)`` needs
    ``init_rpc`` first, as in PyTorch."""

    def __init__(self, value: Any, type_hint: Any = None) -> None:
        self._owner = _me()
        self._value = value

    def local_value(self) -> Any:
        return self._value

    def to_here(self, timeout: float = UNSET_RPC_TIMEOUT) -> Any:
        return self._value

    def is_owner(self) -> bool:
        return True

    def owner(self) -> WorkerInfo:
        return self._owner

    def owner_name(self) -> str:
        return self._owner.name

    def confirmed_by_owner(self) -> bool:
        return True
