"""``torch.distributed``'s object collectives for the world of one process (see the package's
docstring): ``broadcast_object_list``, ``all_gather_object``, ``gather_object`` and
``scatter_object_list``. PyTorch pickles each object and unpickles it on every receiving rank, the
sending rank included for the gathers and the scatter, so those give a copy; the broadcast leaves
the source rank's list as it is. Avalanche's ``DistributedHelper`` imports ``broadcast_object_list``.

>>> import glassgrad.distributed as dist
>>> dist.init_process_group("gloo", rank=0, world_size=1)
>>> out = [None]
>>> dist.all_gather_object(out, {"step": 3})
>>> out
[{'step': 3}]
>>> dist.destroy_process_group()
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["broadcast_object_list", "all_gather_object", "gather_object", "scatter_object_list"]


def _root_of(src: Any, group_src: Any) -> int:
    from glassgrad.distributed import _root

    root = 0 if src is None and group_src is None else int(group_src if src is None else src)
    _root(root)
    return root


def broadcast_object_list(
    object_list: list,
    src: int | None = None,
    group: Any = None,
    device: Any = None,
    group_src: int | None = None,
) -> None:
    """Send rank ``src``'s objects to every process, in place: this process is rank 0 and has them."""
    from glassgrad.distributed import _require

    _require()
    _root_of(src, group_src)


def all_gather_object(object_list: list, obj: Any, group: Any = None) -> None:
    """Put each process's ``obj`` in ``object_list`` (one slot per process): here a copy in slot 0."""
    from glassgrad.distributed import _require

    _require()
    object_list[0] = copy.deepcopy(obj)


def gather_object(
    obj: Any,
    object_gather_list: list | None = None,
    dst: int | None = None,
    group: Any = None,
    group_dst: int | None = None,
) -> None:
    """Collect each process's ``obj`` into ``object_gather_list`` on rank ``dst``: here a copy in slot 0."""
    from glassgrad.distributed import _require

    _require()
    _root_of(dst, group_dst)
    if object_gather_list is None:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    object_gather_list[0] = copy.deepcopy(obj)


def scatter_object_list(
    scatter_object_output_list: list,
    scatter_object_input_list: list | None = None,
    src: int | None = None,
    group: Any = None,
    group_src: int | None = None,
) -> None:
    """Send the ``i``-th object of rank ``src``'s input list to process ``i``: here a copy of the one."""
    from glassgrad.distributed import _require

    _require()
    _root_of(src, group_src)
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    inputs = list(scatter_object_input_list or [])
    if len(inputs) != 1:
        raise RuntimeError(
            f"scatter_object_list: Incorrect input list size {len(inputs)}. Input list size should be 1, "
            "same as size of the process group."
        )
    scatter_object_output_list[0] = copy.deepcopy(inputs[0])
