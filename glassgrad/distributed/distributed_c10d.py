"""``glassgrad.distributed.distributed_c10d``: the module PyTorch defines ``torch.distributed``'s
process-group API in, for programs that import it by that path
(``import torch.distributed.distributed_c10d as c10d``, as TRL's vLLM client does); it is also
the attribute ``glassgrad.distributed.distributed_c10d``, as in PyTorch. Its names are
``glassgrad.distributed``'s own objects (one world of one process; see that module), so a check
such as ``c10d.ReduceOp is dist.ReduceOp`` holds as in PyTorch. Names PyTorch's module has and
glassgrad does not (point-to-point ``send``/``recv``, the option structs) are
absent here as they are from ``glassgrad.distributed``.

>>> import glassgrad.distributed as dist
>>> is_initialized is dist.is_initialized, ReduceOp.SUM is dist.ReduceOp.SUM
(True, True)
"""

from __future__ import annotations

from glassgrad.distributed import (
    Backend,
    GroupMember,
    PrefixStore,
    ProcessGroup,
    ReduceOp,
    Store,
    Work,
    _rank_not_in_group,  # noqa: F401 - PyTorch's module has it too
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    all_to_all_single,
    barrier,
    broadcast,
    broadcast_object_list,
    destroy_process_group,
    gather_object,
    get_backend,
    get_default_backend_for_device,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_backend_available,
    is_gloo_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
    is_ucc_available,
    is_xccl_available,
    new_group,
    reduce,
    reduce_scatter_tensor,
    scatter_object_list,
)

__all__ = [
    "Backend", "GroupMember", "PrefixStore", "ProcessGroup", "ReduceOp", "Store",
    "Work", "all_gather", "all_gather_into_tensor", "all_reduce", "all_to_all_single", "barrier",
    "broadcast", "destroy_process_group", "get_backend", "get_default_backend_for_device",
    "get_process_group_ranks", "get_rank", "get_world_size", "group", "init_process_group",
    "is_backend_available", "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available",
    "is_torchelastic_launched", "is_ucc_available", "is_xccl_available", "new_group", "reduce",
    "reduce_scatter_tensor", "broadcast_object_list", "all_gather_object", "gather_object",
    "scatter_object_list",
]  # fmt: skip
