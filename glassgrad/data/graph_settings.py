"""``torch.utils.data.graph_settings``: settings applied across a graph of data pipes."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["apply_shuffle_settings", "get_all_graph_pipes"]


def get_all_graph_pipes(datapipe: Any) -> list[Any]:
    """Every pipe reachable from ``datapipe`` through its ``datapipe`` sources (each once)."""
    from glassgrad.data.datapipes.datapipe import IterDataPipe, MapDataPipe

    seen: list[Any] = []
    todo = [datapipe]
    while todo:
        dp = todo.pop()
        if any(dp is s for s in seen) or not isinstance(dp, (IterDataPipe, MapDataPipe)):
            continue
        seen.append(dp)
        for v in vars(dp).values():
            todo.extend(v if isinstance(v, (list, tuple)) else [v])
    return seen


def apply_shuffle_settings(datapipe: Any, shuffle: bool | None = None) -> Any:
    """Turn every shuffler in the graph on or off (``None`` leaves them as they are), as PyTorch's:
    ``shuffle=True`` on a graph without one puts a ``ShufflerIterDataPipe`` at its end, with a
    warning. Returns the (possibly wrapped) pipe."""
    if shuffle is None:
        return datapipe
    shufflers = [
        dp
        for dp in get_all_graph_pipes(datapipe)
        if callable(getattr(dp, "set_shuffle", None)) and callable(getattr(dp, "set_seed", None))
    ]
    if not shufflers and shuffle:
        from glassgrad.data.datapipes.iter.combinatorics import ShufflerIterDataPipe

        warnings.warn(
            "`shuffle=True` was set, but the datapipe does not contain a `Shuffler`. Adding one at the end.",
            stacklevel=2,
        )
        datapipe = ShufflerIterDataPipe(datapipe)
        shufflers = [datapipe]
    for dp in shufflers:
        dp.set_shuffle(shuffle)
    return datapipe
