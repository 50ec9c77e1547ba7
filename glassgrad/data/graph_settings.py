"""``torch.utils.data.graph_settings``: settings applied across a graph of data pipes.

The ``DataLoader`` calls ``apply_random_seed`` at each epoch (seeds drawn from its ``generator``)
and ``apply_sharding(dp, 1, 0)`` (one process, rank 0) on the pipes it loads, as PyTorch's.
"""

from __future__ import annotations

import inspect
import warnings
from enum import IntEnum
from typing import Any

from glassgrad.data.graph import DataPipeGraph, traverse_dps

__all__ = ["apply_random_seed", "apply_sharding", "apply_shuffle_settings", "get_all_graph_pipes"]


class SHARDING_PRIORITIES(IntEnum):  # noqa: N801 - PyTorch's name (datapipes.iter.sharding)
    DEFAULT = 1
    DISTRIBUTED = 2
    MULTIPROCESSING = 3


def get_all_graph_pipes(graph: DataPipeGraph) -> list[Any]:
    """Every pipe of a ``traverse_dps`` graph, each once, in depth-first order.

    A pipe in place of the graph is traversed first (glassgrad's earlier form of this function)."""
    from glassgrad.data.datapipes.datapipe import IterDataPipe, MapDataPipe

    if isinstance(graph, (IterDataPipe, MapDataPipe)):
        graph = traverse_dps(graph)
    out: dict[int, Any] = {}  # id -> pipe, in first-visit order
    stack = [iter(graph.items())]
    while stack:  # depth-first without recursion (a pipe's children before its next sibling)
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            continue
        dp_id, (dp, sub) = step
        if dp_id not in out:
            out[dp_id] = dp
            stack.append(iter(sub.items()))
    return list(out.values())


def _is_shuffle_datapipe(dp: Any) -> bool:
    # bound methods only, as PyTorch: a class (not an instance) in the graph has them unbound
    return inspect.ismethod(getattr(dp, "set_shuffle", None)) and inspect.ismethod(
        getattr(dp, "set_seed", None)
    )


def apply_shuffle_settings(datapipe: Any, shuffle: bool | None = None) -> Any:
    """Turn every shuffler in the graph on or off (``None`` leaves them as they are), as PyTorch's:
    ``shuffle=True`` on a graph without one puts ``datapipe.shuffle()`` at its end, with a
    warning. Returns the (possibly wrapped) pipe."""
    if shuffle is None:
        return datapipe
    shufflers = [dp for dp in get_all_graph_pipes(traverse_dps(datapipe)) if _is_shuffle_datapipe(dp)]
    if not shufflers and shuffle:
        warnings.warn(
            "`shuffle=True` was set, but the datapipe does not contain a `Shuffler`. Adding one at the end. "
            "Be aware that the default buffer size might not be sufficient for your task.",
            stacklevel=2,
        )
        datapipe = datapipe.shuffle()
        shufflers = [datapipe]
    for dp in shufflers:
        dp.set_shuffle(shuffle)
    return datapipe


def apply_random_seed(datapipe: Any, rng: Any) -> Any:
    """Give every pipe of the graph with a ``set_seed`` method a seed drawn from the generator
    ``rng`` (one int64 draw each, in graph order), as PyTorch's. Returns ``datapipe``."""
    import glassgrad

    for dp in get_all_graph_pipes(traverse_dps(datapipe)):
        if inspect.ismethod(getattr(dp, "set_seed", None)):
            dp.set_seed(int(glassgrad.empty((), dtype=glassgrad.int64).random_(generator=rng).item()))
    return datapipe


def apply_sharding(
    datapipe: Any,
    num_of_instances: int,
    instance_id: int,
    sharding_group: SHARDING_PRIORITIES = SHARDING_PRIORITIES.DEFAULT,
) -> Any:
    """Call ``apply_sharding(num_of_instances, instance_id)`` on each pipe of the graph that has
    the method; two of them on one branch raise ``RuntimeError`` (each would drop its share of
    the other's items). ``sharding_group`` is passed on to methods that take three arguments."""

    stack = [(traverse_dps(datapipe), None)]  # (a graph, the sharded pipe above it or None)
    while stack:
        graph, applied = stack.pop()
        for dp, sub in graph.values():
            here = applied
            if inspect.ismethod(getattr(dp, "apply_sharding", None)):
                if applied is not None:
                    raise RuntimeError(
                        "Sharding twice on a single pipeline is likely unintended and will cause data loss. "
                        f"Sharding already applied to {applied} while trying to apply to {dp}"
                    )
                if len(inspect.signature(dp.apply_sharding).parameters) < 3:
                    dp.apply_sharding(num_of_instances, instance_id)
                else:
                    dp.apply_sharding(num_of_instances, instance_id, sharding_group=sharding_group)
                here = dp
            stack.append((sub, here))
    return datapipe
