"""``glassgrad.utils._pytree``: PyTorch's ``torch.utils._pytree`` path, which libraries import
directly (x-transformers, torch-einops-utils) to walk nested containers of tensors.

A pytree is a leaf or a container node (tuple, list, dict, OrderedDict, defaultdict, deque, a
namedtuple, or a type given to :func:`register_pytree_node`) holding pytrees. As in PyTorch,
``None`` is a leaf (``glassgrad.func``'s transforms flatten with this module too). Dicts flatten
in insertion order; a :class:`TreeSpec` records the containers for :func:`tree_unflatten`.

>>> from glassgrad.utils._pytree import tree_flatten, tree_map
>>> tree_flatten([1, (2, None)])[0]
[1, 2, None]
>>> tree_map(lambda a, b: a + b, {"x": 1, "y": 2}, {"y": 20, "x": 10})
{'x': 11, 'y': 22}
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, defaultdict, deque, namedtuple
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from glassgrad.size import Size
from glassgrad.utils._pytree_serialize import register_serialization

__all__ = [
    "PyTree",
    "Context",
    "LeafSpec",
    "NodeDef",
    "TreeSpec",
    "register_pytree_node",
    "tree_flatten",
    "tree_iter",
    "tree_leaves",
    "tree_map",
    "tree_map_",
    "tree_structure",
    "tree_unflatten",
]

#: PyTorch's annotation alias for a tree (Lightning's ``_pytree`` helpers import it)
PyTree = Any
#: PyTorch's annotation alias for a node's flatten context (tensordict imports it)
Context = Any


class NodeDef(NamedTuple):
    """A registered node kind, as PyTorch's: ``flatten_fn(node) -> (children, context)``,
    ``unflatten_fn(children, context) -> node`` (Lightning reads ``.flatten_fn``)."""

    type: Any
    flatten_fn: Callable
    unflatten_fn: Callable
    flatten_with_keys_fn: Callable | None = None


# node type -> NodeDef; every namedtuple is the one node type ``collections.namedtuple``, as PyTorch's
SUPPORTED_NODES: dict[Any, NodeDef] = {}
FLATTEN_WITH_KEYS: dict[type, Callable | None] = {}  # type -> its flatten_with_keys_fn, if given


def register_pytree_node(
    cls: type,
    flatten_fn: Callable[[Any], tuple[list, Any]],
    unflatten_fn: Callable[[list, Any], Any],
    **kwargs: Any,
) -> None:
    """Make instances of ``cls`` container nodes: ``flatten_fn(node) -> (children, context)`` and
    ``unflatten_fn(children, context) -> node``. ``flatten_with_keys_fn`` gives the key paths
    (``_pytree_paths.py``); ``serialized_type_name`` ... the JSON text (``_pytree_serialize.py``)."""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"register_pytree_node: {cls.__name__} is already registered as a pytree node")
    register_serialization(cls, **kwargs)
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, kwargs.get("flatten_with_keys_fn"))
    FLATTEN_WITH_KEYS[cls] = kwargs.get("flatten_with_keys_fn")


def _is_namedtuple(node_type: type) -> bool:
    return issubclass(node_type, tuple) and hasattr(node_type, "_fields")


# PyTorch's private per-container helpers, with its signatures: libraries register their own
# dict-like classes with them (diffusers' BaseOutput: ``register_pytree_node(cls, _dict_flatten,
# lambda values, context: cls(**_dict_unflatten(values, context)))``, port round 39).
def _dict_flatten(d: dict) -> tuple[list, Any]:
    return list(d.values()), list(d.keys())


def _dict_unflatten(values: Iterable, context: Any) -> dict:
    return dict(zip(context, values, strict=True))


def _ordereddict_flatten(d: OrderedDict) -> tuple[list, Any]:
    return list(d.values()), list(d.keys())


def _ordereddict_unflatten(values: Iterable, context: Any) -> OrderedDict:
    return OrderedDict(zip(context, values, strict=True))


def _list_flatten(d: list) -> tuple[list, Any]:
    return list(d), None


def _list_unflatten(values: Iterable, context: Any) -> list:
    return list(values)


def _tuple_flatten(d: tuple) -> tuple[list, Any]:
    return list(d), None


def _tuple_unflatten(values: Iterable, context: Any) -> tuple:
    return tuple(values)


def _defaultdict_flatten(d: defaultdict) -> tuple[list, Any]:
    values, keys = _dict_flatten(d)
    return values, [d.default_factory, keys]


def _defaultdict_unflatten(values: Iterable, context: Any) -> defaultdict:
    default_factory, keys = context
    return defaultdict(default_factory, _dict_unflatten(values, keys))


def _namedtuple_flatten(d: tuple) -> tuple[list, Any]:
    """A namedtuple's items, with its class as the context (norse registers its state tuples)."""
    return list(d), type(d)


def _namedtuple_unflatten(values: Iterable, context: Any) -> tuple:
    return context(*values)


def _deque_flatten(d: deque) -> tuple[list, Any]:
    return list(d), d.maxlen


def _deque_unflatten(values: Iterable, context: Any) -> deque:
    return deque(values, maxlen=context)


register_pytree_node(tuple, _tuple_flatten, _tuple_unflatten)
register_pytree_node(namedtuple, _namedtuple_flatten, _namedtuple_unflatten)  # context: the class
register_pytree_node(list, _list_flatten, _list_unflatten)
register_pytree_node(dict, _dict_flatten, _dict_unflatten)
register_pytree_node(OrderedDict, _ordereddict_flatten, _ordereddict_unflatten)
register_pytree_node(defaultdict, _defaultdict_flatten, _defaultdict_unflatten)
register_pytree_node(deque, _deque_flatten, _deque_unflatten)
# a shape is a node of ints, as PyTorch's (pyro maps its provenance over tree_map(x.shape))
register_pytree_node(Size, lambda s: (list(s), None), lambda c, _: tuple(c))  # tuple back, as PyTorch's


#: the node types registered here, whose contexts hash (PyTorch's BUILTIN_TYPES)
_BUILTIN_NODES = frozenset(SUPPORTED_NODES)


def _get_node_type(tree: Any) -> Any:
    """PyTorch's node type of ``tree``: its class, or ``collections.namedtuple`` for any namedtuple
    (they are all nodes); a leaf's class is not in ``SUPPORTED_NODES``."""
    node_type = type(tree)
    return namedtuple if _is_namedtuple(node_type) else node_type


def _node_kind(node: Any) -> Any:
    """The registered kind of ``node`` (``collections.namedtuple`` for a namedtuple whose class
    is not registered itself), or None for a leaf."""
    t = type(node)
    if t in SUPPORTED_NODES:
        return t
    if _is_namedtuple(t):
        return namedtuple
    return None


def _flatten_node(kind: Any, node: Any) -> tuple[list, Any]:
    return SUPPORTED_NODES[kind].flatten_fn(node)


def _unflatten_node(kind: Any, children: list, context: Any) -> Any:
    return SUPPORTED_NODES[kind].unflatten_fn(children, context)


class TreeSpec:
    """The structure of a pytree: ``type`` (None for a leaf), the node's ``context`` (a dict's
    keys, a deque's maxlen, ...) and one child spec per child."""

    def __init__(self, type: type | None, context: Any, children_specs: list[TreeSpec]) -> None:  # noqa: A002
        self.type = type
        self.context = context
        self._children = list(children_specs)
        if type is None:
            self.num_leaves, self.num_nodes = 1, 1
        else:
            self.num_leaves = sum(c.num_leaves for c in self._children)
            self.num_nodes = 1 + sum(c.num_nodes for c in self._children)

    @property
    def num_children(self) -> int:
        return len(self._children)

    def is_leaf(self) -> bool:
        return self.type is None

    def children(self) -> list[TreeSpec]:
        return list(self._children)

    @property
    def children_specs(self) -> list[TreeSpec]:
        """The child specs themselves: PyTorch's older name, which it still answers with a warning."""
        warnings.warn(
            "`treespec.children_specs` is deprecated. Use `treespec.child(index)` to access a single child, "
            "or `treespec.children()` to get all children.",
            FutureWarning,
            stacklevel=2,
        )
        return self._children

    def child(self, index: int) -> TreeSpec:
        return self._children[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TreeSpec):
            return NotImplemented
        return self.type is other.type and self.context == other.context and self._children == other._children

    def __hash__(self) -> int:
        """PyTorch's: a registered type's context (maybe unhashable) is left out of the hash."""
        if self.type is defaultdict:
            context: Any = (self.context[0], tuple(self.context[1]))
        elif self.type in (dict, OrderedDict):
            context = tuple(self.context)
        elif self.type is None or self.type in _BUILTIN_NODES:
            context = self.context
        else:
            context = None
        return hash((self.type, context, tuple(self._children)))

    def __repr__(self, indent: int = 0) -> str:
        """PyTorch's text: the first child on the line, each later one on its own line indented
        two more spaces per level (error messages print specs, as PyTorch's vjp does)."""
        if self.is_leaf():
            return "*"
        indent += 2
        children = [c.__repr__(indent) for c in self._children]
        return f"TreeSpec({self.type.__name__}, {self.context}, [{(',' + chr(10) + ' ' * indent).join(children)}])"

    def unflatten(self, leaves: Any) -> Any:
        """The pytree of this structure holding ``leaves`` in order."""
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(
                f"tree_unflatten: got {len(leaves)} leaves but the spec {self!r} holds "
                f"{self.num_leaves}; expected exactly that many"
            )
        return self._build(iter(leaves))

    # The walks below are methods and module functions, not nested closures: a closure that calls
    # itself is a reference cycle (function <-> cell) holding the leaves it collects, the tensors of
    # a whole graph under torch.func, until the cyclic GC runs; PyTorch frees them at once.
    def _build(self, it: Iterator) -> Any:
        if self.type is None:
            return next(it)
        return _unflatten_node(self.type, [c._build(it) for c in self._children], self.context)

    def flatten_up_to(self, tree: Any) -> list:
        """The subtrees of ``tree`` at this spec's leaves; ``tree`` must have this spec's containers
        down to them (dicts matched by key, in this spec's key order)."""
        out: list = []
        self._up_to(tree, out)
        return out

    def _up_to(self, node: Any, out: list) -> None:
        if self.is_leaf():
            out.append(node)
            return
        kind = _node_kind(node)
        if kind is None or not (kind is self.type or _both_dicts(kind, self.type)):
            raise ValueError(
                f"tree_map: expected a {self.type.__name__} node to match the first tree, "
                f"got {type(node).__name__}"
            )
        if kind is namedtuple and type(node) is not self.context:
            raise ValueError(
                f"tree_map: expected a {self.context.__name__} namedtuple to match the first "
                f"tree, got {type(node).__name__}"
            )
        if isinstance(node, dict):
            keys = self.context[1] if self.type is defaultdict else self.context
            if set(node.keys()) != set(keys):
                raise ValueError(
                    f"tree_map: expected a dict with keys {sorted(map(str, keys))}, "
                    f"got keys {sorted(map(str, node.keys()))}"
                )
            children = [node[k] for k in keys]
        else:
            children, _ = _flatten_node(kind, node)
            if len(children) != self.num_children:
                raise ValueError(
                    f"tree_map: expected a {kind.__name__} of {self.num_children} children "
                    f"to match the first tree, got {len(children)}"
                )
        for c, s in zip(children, self._children):
            s._up_to(c, out)


def _both_dicts(a: Any, b: Any) -> bool:
    return isinstance(a, type) and isinstance(b, type) and issubclass(a, dict) and issubclass(b, dict)


def LeafSpec() -> TreeSpec:  # noqa: N802 - PyTorch's name
    """The spec of a single leaf."""
    return TreeSpec(None, None, [])


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, TreeSpec]:
    """``(leaves, spec)``: the leaves of ``tree`` in order and the :class:`TreeSpec` that rebuilds it.
    ``is_leaf(node)`` returning True stops the walk at ``node``."""
    leaves: list = []
    return leaves, _flatten_into(tree, is_leaf, leaves)


def _flatten_into(node: Any, is_leaf: Callable[[Any], bool] | None, leaves: list) -> TreeSpec:
    """``node``'s spec; its leaves are appended to ``leaves``."""
    kind = None if (is_leaf is not None and is_leaf(node)) else _node_kind(node)
    if kind is None:
        leaves.append(node)
        return LeafSpec()
    children, context = _flatten_node(kind, node)
    return TreeSpec(kind, context, [_flatten_into(c, is_leaf, leaves) for c in children])


def tree_unflatten(leaves: Any, treespec: TreeSpec) -> Any:
    """The pytree of structure ``treespec`` holding ``leaves`` in order."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"tree_unflatten: expected treespec to be a TreeSpec, got {type(treespec).__name__}")
    return treespec.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    """The leaves of ``tree`` in order."""
    return tree_flatten(tree, is_leaf)[0]


def tree_iter(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> Iterator:
    """An iterator over the leaves of ``tree``."""
    return iter(tree_leaves(tree, is_leaf))


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> TreeSpec:
    """The :class:`TreeSpec` of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func: Callable, tree: Any, *rests: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``tree`` with each leaf ``x`` replaced by ``func(x, *ys)``, the ``ys`` being the subtrees at
    the same place in each of ``rests`` (which must have ``tree``'s containers)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten([func(*xs) for xs in zip(leaves, *others)])


def tree_map_(func: Callable, tree: Any, *rests: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Call ``func`` on each leaf (with the matching subtrees of ``rests``) for its side effects;
    returns ``tree`` itself."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec.flatten_up_to(r) for r in rests]
    for xs in zip(leaves, *others):
        func(*xs)
    return tree


# at the end (they read this module's registry): key paths, register_dataclass, map_only, JSON ...
from glassgrad.utils._pytree_more import *  # noqa: E402, F403 (register_dataclass, map_only, ...)
from glassgrad.utils._pytree_more import __all__ as _more_all  # noqa: E402
from glassgrad.utils._pytree_more import _broadcast_to_and_flatten as _broadcast_to_and_flatten  # noqa: E402
from glassgrad.utils._pytree_paths import *  # noqa: E402, F403 (key paths, tree_all ...)
from glassgrad.utils._pytree_paths import __all__ as _paths_all  # noqa: E402
from glassgrad.utils._pytree_paths import _dict_flatten_with_keys as _dict_flatten_with_keys  # noqa: E402
from glassgrad.utils._pytree_paths import _list_flatten_with_keys as _list_flatten_with_keys  # noqa: E402
from glassgrad.utils._pytree_paths import _tuple_flatten_with_keys as _tuple_flatten_with_keys  # noqa: E402
from glassgrad.utils._pytree_serialize import *  # noqa: E402, F403 (treespec_dumps, treespec_loads, ...)
from glassgrad.utils._pytree_serialize import __all__ as _serialize_all  # noqa: E402
from glassgrad.utils._pytree_serialize import _register_namedtuple as _register_namedtuple  # noqa: E402

__all__ += _paths_all + _more_all + _serialize_all
