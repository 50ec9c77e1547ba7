"""``torch.utils.data.graph``: the graph of data pipes a pipe reads from (``traverse_dps``)."""

from __future__ import annotations

from typing import Any

from glassgrad.data.datapipes.datapipe import IterDataPipe, MapDataPipe

__all__ = ["traverse_dps"]

DataPipe = IterDataPipe | MapDataPipe
DataPipeGraph = dict[int, tuple[Any, "DataPipeGraph"]]


def _connected_pipes(datapipe: Any) -> list[Any]:
    """The pipes in ``datapipe``'s pickled state (``__getstate__``), as PyTorch finds them by
    pickling it: looked for inside lists, tuples, sets and dicts, not inside other pipes."""
    found: list[Any] = []
    todo = [datapipe.__getstate__()]
    while todo:
        obj = todo.pop(0)
        if isinstance(obj, (IterDataPipe, MapDataPipe)):
            if obj is not datapipe and not any(obj is f for f in found):
                found.append(obj)
        elif isinstance(obj, dict):
            todo.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo.extend(obj)
    return found


def _traverse(datapipe: Any, path: frozenset[int]) -> DataPipeGraph:
    # `path` holds the pipes above this one: a cycle stops here, a pipe shared by two branches
    # appears under both, as PyTorch's graph has them
    dp_id = id(datapipe)
    if dp_id in path:
        return {dp_id: (datapipe, {})}
    sub: DataPipeGraph = {}
    for child in _connected_pipes(datapipe):
        sub.update(_traverse(child, path | {dp_id}))
    return {dp_id: (datapipe, sub)}


def traverse_dps(datapipe: Any) -> DataPipeGraph:
    """The graph ending at ``datapipe``: ``{id(dp): (dp, graph of the pipes dp reads from)}``."""
    if not isinstance(datapipe, (IterDataPipe, MapDataPipe)):
        raise RuntimeError(f"Expected `IterDataPipe` or `MapDataPipe`, but {type(datapipe)} is found")
    return _traverse(datapipe, frozenset())
