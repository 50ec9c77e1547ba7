"""Key paths of pytrees (``torch.utils._pytree``'s ``tree_flatten_with_path`` family): where each
leaf sits, as a tuple of key entries from the root, ``MappingKey(k)`` (a dict's child, printed
``[k]``), ``SequenceKey(i)`` (a list's, tuple's or deque's, ``[i]``) or ``GetAttrKey(name)`` (a
namedtuple's field, ``.name``). ``keystr(path)`` prints a path, ``key_get(tree, path)`` follows it.
A type registered with ``register_pytree_node`` needs a ``flatten_with_keys_fn`` for its paths;
without one, asking for them raises ``ValueError``, as in PyTorch.

>>> from glassgrad.utils._pytree import keystr, tree_leaves_with_path
>>> [(keystr(p), x) for p, x in tree_leaves_with_path({"a": [1, 2], "b": 3})]
[("['a'][0]", 1), ("['a'][1]", 2), ("['b']", 3)]
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict, deque, namedtuple
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from glassgrad.size import Size
from glassgrad.utils._pytree import (
    FLATTEN_WITH_KEYS,
    _flatten_node,
    _node_kind,
    tree_flatten,
    tree_iter,
)

__all__ = [
    "GetAttrKey",
    "KeyEntry",
    "KeyPath",
    "MappingKey",
    "SequenceKey",
    "key_get",
    "keystr",
    "tree_all",
    "tree_all_only",
    "tree_any",
    "tree_any_only",
    "tree_flatten_with_path",
    "tree_leaves_with_path",
    "tree_map_with_path",
]


class KeyEntry(Protocol):
    """What a key path holds: an entry that prints itself and ``get``s its child from a node."""

    def __hash__(self) -> int: ...

    def __eq__(self, other: object) -> bool: ...

    def __str__(self) -> str: ...

    def get(self, parent: Any) -> Any: ...


KeyPath = tuple  # PyTorch's alias: tuple[KeyEntry, ...]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    """The key path entry of a mapping's child (PyTorch's, printed ``[key]``)."""

    key: Any

    def __str__(self) -> str:
        return f"[{self.key!r}]"

    def get(self, mapping: Any) -> Any:
        return mapping[self.key]


def _dict_flatten_with_keys(d: dict) -> tuple[list[tuple[MappingKey, Any]], list]:
    """A dict's ``(MappingKey(key), value)`` pairs and its keys (the context), as PyTorch's helper
    that transformers passes as ``flatten_with_keys_fn``."""
    return [(MappingKey(k), v) for k, v in d.items()], list(d.keys())


@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """The key path entry of a list's or tuple's child (PyTorch's, printed ``[idx]``)."""

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"

    def get(self, sequence: Any) -> Any:
        return sequence[self.idx]


def _list_flatten_with_keys(d: list) -> tuple[list[tuple[SequenceKey, Any]], None]:
    """A list's ``(SequenceKey(i), item)`` pairs and no context (tensordict registers list
    subclasses with it as ``flatten_with_keys_fn``)."""
    return [(SequenceKey(i), v) for i, v in enumerate(d)], None


def _tuple_flatten_with_keys(d: tuple) -> tuple[list[tuple[SequenceKey, Any]], None]:
    """A tuple's ``(SequenceKey(i), item)`` pairs and no context."""
    return [(SequenceKey(i), v) for i, v in enumerate(d)], None


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """The key path entry of a namedtuple's (or dataclass's) field, printed ``.name``."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"

    def get(self, obj: Any) -> Any:
        return getattr(obj, self.name)


def _keyed_children(kind: type, node: Any) -> list:
    """``(key entry, child)`` pairs of container ``node`` of registered kind ``kind``."""
    if kind in FLATTEN_WITH_KEYS and FLATTEN_WITH_KEYS[kind] is not None:
        return list(FLATTEN_WITH_KEYS[kind](node)[0])
    children, context = _flatten_node(kind, node)
    if kind is namedtuple:  # every unregistered namedtuple class; the context is its class
        return [(GetAttrKey(f), c) for f, c in zip(context._fields, children)]
    if issubclass(kind, dict):  # dict, OrderedDict, defaultdict: the context holds the keys
        keys = context[1] if kind is defaultdict else context
        return [(MappingKey(k), c) for k, c in zip(keys, children)]
    if kind in (list, tuple, deque, Size):
        return [(SequenceKey(i), c) for i, c in enumerate(children)]
    raise ValueError(
        f"Did not find a flatten_with_keys_fn for type: {kind}. "
        "Please pass a flatten_with_keys_fn argument to register_pytree_node."
    )


def _key_paths(path: tuple, tree: Any, is_leaf: Callable[[Any], bool] | None) -> Iterable[tuple]:
    if is_leaf is not None and is_leaf(tree):
        yield path, tree
        return
    kind = _node_kind(tree)
    if kind is None:
        yield path, tree
        return
    for k, c in _keyed_children(kind, tree):
        yield from _key_paths((*path, k), c, is_leaf)


def tree_flatten_with_path(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, Any]:
    """``([(key path, leaf), ...], spec)``: ``tree_flatten`` with each leaf's path."""
    _, spec = tree_flatten(tree, is_leaf)
    return list(_key_paths((), tree, is_leaf)), spec


def tree_leaves_with_path(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    """``[(key path, leaf), ...]`` in ``tree_leaves`` order."""
    return list(_key_paths((), tree, is_leaf))


def tree_map_with_path(
    func: Callable, tree: Any, *rests: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """``tree_map`` whose ``func`` is called as ``func(key path, leaf, *matching subtrees of rests)``."""
    pairs, spec = tree_flatten_with_path(tree, is_leaf)
    columns = [list(c) for c in zip(*pairs)] or [[], []]
    columns += [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(func(*xs) for xs in zip(*columns))


def keystr(kp: tuple) -> str:
    """A key path printed, e.g. ``['a'][0].x``."""
    return "".join([str(k) for k in kp])


def key_get(obj: Any, kp: tuple) -> Any:
    """The value at key path ``kp`` in ``obj``."""
    for k in kp:
        obj = k.get(obj)
    return obj


def tree_all(pred: Callable[[Any], bool], tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether ``pred`` holds for every leaf."""
    return all(map(pred, tree_iter(tree, is_leaf=is_leaf)))


def tree_any(pred: Callable[[Any], bool], tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether ``pred`` holds for some leaf."""
    return any(map(pred, tree_iter(tree, is_leaf=is_leaf)))


def tree_all_only(type_or_types: Any, pred: Callable, tree: Any, is_leaf: Callable | None = None) -> bool:
    """Whether ``pred`` holds for every leaf that is an instance of ``type_or_types``."""
    return all(pred(x) for x in tree_iter(tree, is_leaf=is_leaf) if isinstance(x, type_or_types))


def tree_any_only(type_or_types: Any, pred: Callable, tree: Any, is_leaf: Callable | None = None) -> bool:
    """Whether ``pred`` holds for some leaf that is an instance of ``type_or_types``."""
    return any(pred(x) for x in tree_iter(tree, is_leaf=is_leaf) if isinstance(x, type_or_types))
