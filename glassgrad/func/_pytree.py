"""Nested tuples, lists and dicts of tensors ("pytrees") flattened to a list of leaves and back.

The transforms take and return such structures as PyTorch's do; a spec records the containers so
results come back in the shape the caller used. ``None`` is an empty node (no leaf), as in PyTorch.
A type given to ``torch.utils._pytree.register_pytree_node`` (``glassgrad.utils._pytree``) is a
node here too, as PyTorch's transforms share that registry (curvlinops registers ``UserDict`` so).
"""

from __future__ import annotations

from typing import Any

from glassgrad.utils._pytree import SUPPORTED_NODES

__all__ = ["tree_flatten", "tree_unflatten", "tree_map", "unflatten_groups"]

_LEAF = "leaf"
_REGISTERED = "registered"


def tree_flatten(tree: Any) -> tuple[list, Any]:
    """``(leaves, spec)``: leaves in order (dicts by insertion order) and what rebuilds ``tree``."""
    leaves: list = []

    def walk(node: Any) -> Any:
        if node is None:
            return None
        registered = SUPPORTED_NODES.get(type(node))
        if registered is not None:  # (children, context) by the registered flatten function
            children, context = registered.flatten_fn(node)
            return (_REGISTERED, type(node), context, [walk(v) for v in children])
        if isinstance(node, tuple) and hasattr(node, "_fields"):  # a namedtuple keeps its class
            return (type(node), [walk(v) for v in node])
        if isinstance(node, tuple | list):
            return (type(node), [walk(v) for v in node])
        if isinstance(node, dict):
            return (type(node), list(node.keys()), [walk(v) for v in node.values()])
        leaves.append(node)
        return _LEAF

    return leaves, walk(tree)


def tree_unflatten(leaves: list, spec: Any) -> Any:
    """The structure ``spec`` (from :func:`tree_flatten`) holding ``leaves`` in order."""
    it = iter(leaves)

    def build(s: Any) -> Any:
        if s is None:
            return None
        if s == _LEAF:
            return next(it)
        if len(s) == 4:  # a registered node
            _, kind, context, subs = s
            return SUPPORTED_NODES[kind].unflatten_fn([build(c) for c in subs], context)
        if len(s) == 3:
            kind, keys, subs = s
            return kind(zip(keys, [build(c) for c in subs]))
        kind, subs = s
        items = [build(c) for c in subs]
        return kind(*items) if hasattr(kind, "_fields") else kind(items)

    return build(spec)


def tree_map(fn: Any, tree: Any) -> Any:
    """``tree`` with ``fn`` applied to every leaf."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def unflatten_groups(leaves: list, specs: list) -> list:
    """One tree per ``(spec, count)`` of ``specs``, each built from the next ``count`` of ``leaves``."""
    trees, k = [], 0
    for spec, n in specs:
        trees.append(tree_unflatten(leaves[k : k + n], spec))
        k += n
    return trees
