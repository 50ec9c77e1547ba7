"""Forward-over-reverse: tangents of the gradients a ``create_graph`` backward records.

Inside ``forward_ad.dual_level()``, ``autograd.grad(..., create_graph=True)`` runs each node's
recorded rule (``recorded.py``) with Tensor ops, so the forward-mode observer sees those ops and
gives the gradients tangents, as PyTorch's forward-over-reverse does. A rule reads the op's inputs
and output through ``recorded.operand``/``recorded.output``, which wrap the *saved arrays* as new
Tensors: without more, those would carry no tangent and the gradients' tangents would silently
miss every term through the forward values (``d(g * b) = g * t_b`` lost). So while a level is
active the observer notes, per recorded node, the tangents its inputs and output had at forward
time, and the wrappers hand them on.

The table is keyed by node identity, holds only nodes made inside the active level (a weak
reference drops the entry with its node) and is cleared when the level ends; outside a level
nothing is noted and the wrappers pay one truth test.
"""

from __future__ import annotations

import weakref
from typing import Any

#: id(node) -> [weakref to the node, per-input tangent Tensor or None, the output's tangent or None]
_noted: dict[int, list] = {}


def note(node: Any, in_tangents: list | None, out_tangent: Any) -> None:
    """Keep ``node``'s input tangents (Tensors, None where an input has none) and output tangent."""
    key = id(node)

    def forget(ref: Any) -> None:  # the node died: drop its entry, unless the id was reused since
        entry = _noted.get(key)
        if entry is not None and entry[0] is ref:
            del _noted[key]

    _noted[key] = [weakref.ref(node, forget), in_tangents, out_tangent]


def _entry(node: Any) -> list | None:
    entry = _noted.get(id(node))
    if entry is None or entry[0]() is not node:
        return None
    return entry


def input_tangent(node: Any, i: int) -> Any:
    """The tangent input ``i`` of ``node`` had at forward time, or None."""
    if not _noted:
        return None
    entry = _entry(node)
    if entry is None or entry[1] is None or i >= len(entry[1]):
        return None
    return entry[1][i]


def output_tangent(node: Any) -> Any:
    """The tangent ``node``'s output got at forward time, or None."""
    if not _noted:
        return None
    entry = _entry(node)
    return None if entry is None else entry[2]


def clear() -> None:
    """Forget every noted node (the level ended: its tangents are gone)."""
    _noted.clear()
