"""The engine's checks before a node's backward runs and before a gradient reaches a leaf: a
saved array changed in place since forward, a leaf whose shape changed since the graph was
recorded. Both raise instead of giving a wrong gradient."""

from __future__ import annotations

from glassgrad.autograd.function import Node
from glassgrad.errors import GraphError

__all__ = ["_check_versions", "_reshaped_leaf"]


def _check_versions(node: Node) -> None:
    versions = node.versions
    if versions.__class__ is not list:  # saved-tensor hooks packed the saved arrays (graph.py)
        versions.restore(node)
        return
    for counter, expected, which, shape, _ in versions:
        if counter[0] != expected:
            what = (
                f"its output of shape {tuple(shape)}"
                if which < 0
                else f"input {which} of shape {tuple(shape)}"
            )
            raise GraphError(
                f"{node.fn.name}: {what}, saved for backward, was modified in place after the op ran "
                f"(version {counter[0]}, expected {expected}; a tensor and its views share one version); "
                "change a clone() instead"
            )


def _reshaped_leaf(t, g) -> None:
    """A leaf whose shape changed after the graph was recorded (an in-place shape method or
    ``.data = `` under no_grad): adding into its ``.grad`` would broadcast silently."""
    old = "" if t.grad is None else f" and its .grad has shape {tuple(t.grad._data.shape)}"
    raise GraphError(
        f"backward: expected a gradient of the leaf's shape {tuple(t._data.shape)}, got {tuple(g.shape)}"
        f"{old}: the leaf's shape changed after the graph was recorded"
    )
