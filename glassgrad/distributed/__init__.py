"""``glassgrad.distributed``: PyTorch's ``torch.distributed`` for one process.

glassgrad runs in one process on the CPU. Training scripts import ``torch.distributed`` and
``DistributedDataParallel`` even when they run alone (nanoGPT, the FSDP and DDP examples), and
decide from ``RANK``/``WORLD_SIZE`` whether to start a process group. So this module has PyTorch's
names, and the group it can start is a world of one: rank 0 of 1, where every collective leaves
its tensors as they are (the sum, mean, min or max over one process is the value itself). A group
of more than one process raises ``NotImplementedError``. Before ``init_process_group`` the
queries raise PyTorch's ``ValueError``. A backward through a tensor given to the in-place
``all_reduce``/``broadcast`` passes its gradient through unchanged and warns, as PyTorch's (whose
collectives have no gradient formula). The same world of one carries device meshes
(``device_mesh``), ``DTensor`` (``tensor``), tensor parallelism (``tensor.parallel``), FSDP2
(``fsdp``) and the model state-dict helpers of ``checkpoint.state_dict``, so that the
tensor-parallel and FSDP2 examples run: placements change no value with one process.

>>> import glassgrad.distributed as dist
>>> dist.is_available(), dist.is_initialized()
(True, False)
"""

from __future__ import annotations

import os
import warnings
from enum import Enum
from typing import Any

__all__ = [
    "is_available", "is_initialized", "init_process_group", "destroy_process_group", "get_rank",
    "get_world_size", "get_backend", "barrier", "all_reduce", "broadcast", "all_gather", "reduce",
    "all_gather_into_tensor", "reduce_scatter_tensor", "ReduceOp", "Work", "new_group",
    "is_torchelastic_launched", "get_default_backend_for_device", "DeviceMesh", "init_device_mesh",
    "ProcessGroup", "Store", "HashStore", "TCPStore", "FileStore", "PrefixStore", "DistError", "DistStoreError",
    "DistNetworkError", "Backend", "is_gloo_available", "is_nccl_available", "is_mpi_available",
    "is_ucc_available", "is_xccl_available", "is_backend_available", "all_to_all_single",
    "get_process_group_ranks", "broadcast_object_list", "all_gather_object", "gather_object",
    "scatter_object_list",
]  # fmt: skip

_NOT_INIT = "Default process group has not been initialized, please make sure to call init_process_group."
_state: dict[str, Any] = {"backend": None}


class ReduceOp(Enum):
    """The reductions of ``all_reduce``/``reduce``; over a world of one each is the identity."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


# PyTorch's members are of the nested type ``ReduceOp.RedOpType`` (Lightning annotates with it)
ReduceOp.RedOpType = ReduceOp  # type: ignore[attr-defined]


class ProcessGroup:
    """PyTorch's process-group class, which optimizers and DDP code name in annotations
    (``process_group: Optional[ProcessGroup] = None``): ``ProcessGroup(rank, size)`` or
    ``ProcessGroup(store, rank, size)``, only for a world of one (rank 0 of 1)."""

    def __init__(self, *args: Any) -> None:
        if len(args) not in (2, 3):
            raise TypeError(
                f"ProcessGroup: expected (rank, size) or (store, rank, size), got {len(args)} arguments"
            )
        rank, size = int(args[-2]), int(args[-1])
        if size != 1 or rank != 0:
            raise NotImplementedError(
                f"ProcessGroup: glassgrad runs in one process; expected rank 0 and size 1, got rank {rank} "
                f"and size {size}"
            )

    def rank(self) -> int:
        return 0

    def size(self) -> int:
        return 1


class Work:
    """What a collective called with ``async_op=True`` returns: with one process it is done."""

    def wait(self, timeout: Any = None) -> bool:
        return True

    def is_completed(self) -> bool:
        return True


def _done(async_op: bool) -> Work | None:
    return Work() if async_op else None


def _root(src: int) -> None:
    if src != 0:
        raise RuntimeError(f"invalid root rank: {src}")


def is_available() -> bool:
    """True: the package is there (a world of one process; see the module docstring)."""
    return True


def is_initialized() -> bool:
    return _state["backend"] is not None


def is_torchelastic_launched() -> bool:
    """Whether ``torchrun`` started this process (it sets ``TORCHELASTIC_RUN_ID``)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: Any = None,
    world_size: int = -1,
    rank: int = -1,
    **kwargs: Any,
) -> None:
    """Start the default group: only a world of one process (``world_size`` and ``rank`` from the
    arguments, else ``WORLD_SIZE``/``RANK``, else 1 and 0)."""
    if is_initialized():
        raise ValueError("trying to initialize the default process group twice!")
    if kwargs.get("device_id") is not None:
        _refuse_device_id(kwargs["device_id"])
    _refuse_unbuilt_backend(backend)
    size = world_size if world_size != -1 else int(os.environ.get("WORLD_SIZE", "1"))
    me = rank if rank != -1 else int(os.environ.get("RANK", "0"))
    if size != 1 or me != 0:
        raise NotImplementedError(
            f"init_process_group: glassgrad runs in one process; expected world_size 1 and rank 0, got "
            f"world_size {size} and rank {me} (run the script without torchrun, or with one process)"
        )
    _state["backend"] = backend or "undefined"  # PyTorch's name for a group started without one


# Backends a CPU build of PyTorch lacks: asking for one raises its RuntimeError, here as there.
_UNBUILT = {"nccl": "NCCL", "xccl": "XCCL", "mpi": "MPI"}


def _refuse_unbuilt_backend(backend: str | None) -> None:
    """PyTorch's ``RuntimeError`` for a backend its CPU build does not have ("nccl", also inside
    "cpu:gloo,cuda:nccl"); "gloo" (the CPU's) and no backend are accepted."""
    for part in str(backend or "").lower().split(","):
        name = part.split(":")[-1].strip()
        if name in _UNBUILT:
            raise RuntimeError(
                f"init_process_group: Distributed package doesn't have {_UNBUILT[name]} built in "
                f"(glassgrad runs on the CPU; use backend='gloo', got backend={backend!r})"
            )


def _refuse_device_id(device_id: Any) -> None:
    """PyTorch's ``ValueError`` for ``device_id`` on a build without an accelerator."""
    from glassgrad.device import device as _device

    if isinstance(device_id, int):
        raise ValueError(
            "init_process_group: device_id is an int, but no accelerator support is found from the current "
            "compilation (glassgrad has none; pass no device_id)"
        )
    d = _device(device_id)
    if d.type in ("cpu", "meta"):
        raise ValueError(
            f"init_process_group device_id parameter must be an accelerator with an index, got {d} "
            "(glassgrad has no accelerator; pass no device_id)"
        )
    raise ValueError(
        f"init_process_group: device_id {d} does not match the current compilation's accelerator support: None "
        "(glassgrad runs on the CPU; pass no device_id)"
    )


_BACKENDS = {"cpu": "gloo", "cuda": "nccl", "xpu": "xccl", "mps": "gloo"}  # PyTorch 2.13's table


def get_default_backend_for_device(device: Any) -> str:
    """The backend PyTorch picks for ``device`` (a string, ``device`` or accelerator): "gloo" for the
    CPU (and MPS), "nccl" for CUDA, "xccl" for XPU; ``ValueError`` for a type without one ("meta")."""
    from glassgrad.device import device as _device

    if device is None:
        raise TypeError(
            "get_default_backend_for_device: expected a device (a string such as 'cpu' or a device), got None "
            "(torch.accelerator.current_accelerator() is None on a machine without an accelerator)"
        )
    if isinstance(device, int):
        raise RuntimeError(
            f"get_default_backend_for_device: Cannot access accelerator device when none is available "
            f"(device index {device}; glassgrad runs on the CPU)"
        )
    kind = _device(device).type
    if kind not in _BACKENDS:
        raise ValueError(
            f"get_default_backend_for_device: Default backend not registered for device : {kind}"
        )
    return _BACKENDS[kind]


def destroy_process_group(group: Any = None) -> None:
    _require()
    _state["backend"] = None


def _require() -> None:
    if not is_initialized():
        raise ValueError(_NOT_INIT)


def get_rank(group: Any = None) -> int:
    _require()
    return 0


def get_world_size(group: Any = None) -> int:
    _require()
    return 1


def get_backend(group: Any = None) -> str:
    _require()
    return _state["backend"]


class GroupMember:
    """The group handles scripts pass as ``group=``: ``WORLD`` is the default group, which is None
    here (the one group of a world of one, as ``new_group`` returns); ``NON_GROUP_MEMBER`` is -100."""

    WORLD: Any = None
    NON_GROUP_MEMBER = -100


class group:  # noqa: N801 - PyTorch's name
    """``dist.group.WORLD``: the default group (None here, as ``GroupMember.WORLD``)."""

    WORLD: Any = None


def _rank_not_in_group(group: Any) -> bool:
    """Whether this process is outside ``group``: only for ``GroupMember.NON_GROUP_MEMBER`` (PyTorch's
    private helper, which pytorch-ignite's ``idist`` calls)."""
    return group is not None and group == GroupMember.NON_GROUP_MEMBER


def new_group(ranks: Any = None, **kwargs: Any) -> None:
    """A subgroup of the world of one: the default group itself (None, as PyTorch's default)."""
    _require()


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait for every process: there is only this one."""
    _require()
    return _done(async_op)


def all_reduce(
    tensor: Any, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:
    """Reduce ``tensor`` over the processes, in place: over one process it keeps its values."""
    _require()
    _warn_on_backprop(tensor, "c10d::allreduce_")
    return _done(async_op)


def reduce(
    tensor: Any, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:
    _require()
    _root(dst)
    return _done(async_op)


def broadcast(tensor: Any, src: int = 0, group: Any = None, async_op: bool = False) -> Work | None:
    """Send rank ``src``'s ``tensor`` to every process: this process is rank 0 and has it."""
    _require()
    _root(src)
    _warn_on_backprop(tensor, "c10d::broadcast_")
    return _done(async_op)


def _warn_on_backprop(tensor: Any, op: str) -> None:
    """PyTorch's in-place ``all_reduce``/``broadcast`` have no gradient formula: a gradient that
    later flows back through ``tensor`` passes unchanged, with a ``UserWarning`` at every backward
    that reaches it (Barlow Twins' ``all_reduce`` of its cross-correlation). Users silence it by its
    opening words, so those are PyTorch's."""
    from glassgrad.autograd.grad_mode import is_grad_enabled
    from glassgrad.user_frames import user_stacklevel

    if not (is_grad_enabled() and getattr(tensor, "requires_grad", False)):
        return
    message = (
        f"{op}: an autograd kernel was not registered to the Autograd key(s) but we are trying to "
        "backprop through it. The collective has no gradient formula, so the gradient passed through "
        "it unchanged; use a differentiable collective, or all_reduce a detached tensor, if that is not "
        "what you meant."
    )

    def warn(grad: Any) -> None:
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())  # the user's backward() line

    tensor.register_hook(warn)


def all_gather(tensor_list: list, tensor: Any, group: Any = None, async_op: bool = False) -> Work | None:
    """Fill ``tensor_list`` (one tensor per process) with each process's ``tensor``: here, one."""
    _require()
    if len(tensor_list) != 1:
        raise ValueError(f"all_gather: expected a list of 1 tensor (world size 1), got {len(tensor_list)}")
    return _copy_into(tensor_list[0], tensor, async_op)


def all_gather_into_tensor(output: Any, input: Any, group: Any = None, async_op: bool = False) -> Work | None:  # noqa: A002
    """Every process's ``input`` concatenated into ``output``: with one process, ``input`` itself."""
    _require()
    return _copy_into(output, input, async_op)


def reduce_scatter_tensor(
    output: Any,
    input: Any,  # noqa: A002 - PyTorch's name
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """``input`` reduced over the processes and split among them into ``output``: with one, a copy."""
    _require()
    return _copy_into(output, input, async_op)


def _copy_into(dst: Any, src: Any, async_op: bool) -> Work | None:
    from glassgrad.autograd import no_grad

    if tuple(dst.shape) != tuple(src.shape):
        raise ValueError(
            f"expected an output of the input's shape {tuple(src.shape)} (world size 1), got {tuple(dst.shape)}"
        )
    with no_grad():
        dst.copy_(src)
    return _done(async_op)


# after the functions above: device_mesh reads them through this package
# (PyTorch's `import torch` makes torch.distributed.rpc and torch.distributed.autograd too)
from glassgrad.distributed import autograd, rpc  # noqa: E402,F401
from glassgrad.distributed.backend_names import (  # noqa: E402
    Backend,
    is_backend_available,
    is_gloo_available,
    is_mpi_available,
    is_nccl_available,
    is_ucc_available,
    is_xccl_available,
)
from glassgrad.distributed.collectives_more import all_to_all_single, get_process_group_ranks  # noqa: E402
from glassgrad.distributed.device_mesh import DeviceMesh, init_device_mesh  # noqa: E402
from glassgrad.distributed.object_collectives import (  # noqa: E402
    all_gather_object,
    broadcast_object_list,
    gather_object,
    scatter_object_list,
)
from glassgrad.distributed.store import (  # noqa: E402
    DistError,
    DistNetworkError,
    DistStoreError,
    FileStore,
    HashStore,
    PrefixStore,
    Store,
    TCPStore,
)

# isort: split
# last: it re-exports the names above (PyTorch's `import torch.distributed` makes it an attribute too)
from glassgrad.distributed import distributed_c10d  # noqa: E402,F401
