"""More of ``torch.utils._pytree``: ``register_dataclass`` (a dataclass, or a class built from
named fields, as a node whose children are its non-None fields, with ``GetAttrKey`` paths),
``tree_map_only``/``tree_map_only_``/``map_only`` (a type, a tuple or union of types, or a
predicate choosing the leaves ``func`` applies to), the namedtuple tests, ``tree_is_leaf``,
``arg_tree_leaves`` and the spec builders ``treespec_leaf``/``treespec_tuple``/``treespec_dict``.

>>> import dataclasses
>>> from glassgrad.utils._pytree import register_dataclass, tree_leaves
>>> @dataclasses.dataclass
... class Point:
...     x: int
...     y: int = None
>>> register_dataclass(Point)
>>> tree_leaves([Point(1), Point(2, 3)])
[1, 2, 3]
"""

from __future__ import annotations

import dataclasses
import functools
import types
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from glassgrad.utils._pytree import (
    FLATTEN_WITH_KEYS,
    SUPPORTED_NODES,
    LeafSpec,
    NodeDef,
    TreeSpec,
    _node_kind,
    tree_iter,
    tree_map,
    tree_map_,
    tree_structure,
)
from glassgrad.utils._pytree_paths import GetAttrKey
from glassgrad.utils._pytree_serialize import register_serialization

__all__ = [
    "arg_tree_leaves",
    "is_namedtuple",
    "is_namedtuple_class",
    "is_namedtuple_instance",
    "map_only",
    "register_dataclass",
    "tree_is_leaf",
    "tree_map_only",
    "tree_map_only_",
    "treespec_dict",
    "treespec_leaf",
    "treespec_tuple",
]


def register_dataclass(
    cls: type,
    *,
    field_names: list[str] | None = None,
    drop_field_names: list[str] | None = None,
    serialized_type_name: str | None = None,
) -> None:
    """Make ``cls`` a node whose children are the fields ``field_names`` (a dataclass's init
    fields by default, less ``drop_field_names``) that are not None; it is rebuilt as
    ``cls(**fields)``, the None ones passed as None. PyTorch's errors for a class that is not a
    dataclass without ``field_names`` and for ``field_names`` that miss or add init fields."""
    drop_field_names = drop_field_names or []
    if not dataclasses.is_dataclass(cls):
        if field_names is None:
            raise ValueError(
                "field_names must be specified with a list of all fields used to "
                f"initialize {cls}, as it is not a dataclass."
            )
    elif field_names is None:
        field_names = [f.name for f in dataclasses.fields(cls) if f.init]
    else:
        init_fields = {f.name for f in dataclasses.fields(cls) if f.init} - set(drop_field_names)
        if init_fields != set(field_names):
            msg = "field_names does not include all dataclass fields.\n"
            if missing := init_fields - set(field_names):
                msg += (
                    f"Missing fields in `field_names`: {missing}. If you want to include these fields in "
                    "the pytree, please add them to `field_names`, otherwise please add them to "
                    "`drop_field_names`.\n"
                )
            if unexpected := set(field_names) - init_fields:
                msg += (
                    f"Unexpected fields in `field_names`: {unexpected}. "
                    "Please remove these fields, or add them to `drop_field_names`.\n"
                )
            raise ValueError(msg)
    names = list(field_names)

    def flatten(obj: Any) -> tuple[list, list]:
        flat, flat_names, none_names = [], [], []
        for name in names:
            value = getattr(obj, name)
            if value is None:
                none_names.append(name)
            else:
                flat.append(value)
                flat_names.append(name)
        return flat, [flat_names, none_names]

    def unflatten(values: Iterable, context: list) -> Any:
        flat_names, none_names = context
        return cls(**dict(zip(flat_names, values)), **dict.fromkeys(none_names))

    def flatten_with_keys(obj: Any) -> tuple[list, list]:
        flat, (flat_names, _) = flatten(obj)
        return [(GetAttrKey(k), v) for k, v in zip(flat_names, flat)], flat_names

    if cls in SUPPORTED_NODES:
        warnings.warn(
            f"{cls} is already registered as pytree node. Overwriting the previous registration.",
            UserWarning,
            stacklevel=2,
        )
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten, unflatten, flatten_with_keys)
    FLATTEN_WITH_KEYS[cls] = flatten_with_keys
    register_serialization(cls, serialized_type_name)  # its context (two name lists) is JSON as it is


def map_only(type_or_types_or_pred: Any) -> Callable[[Callable], Callable]:
    """A decorator: ``func`` applied to a value that is an instance of the type(s), or for which
    the predicate holds; any other value returned as it is."""
    if isinstance(type_or_types_or_pred, (type, tuple, types.UnionType)):

        def pred(x: Any) -> bool:
            return isinstance(x, type_or_types_or_pred)

    elif callable(type_or_types_or_pred):
        pred = type_or_types_or_pred
    else:
        raise TypeError("Argument must be a type, a tuple of types, or a callable.")

    def wrapper(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapped(x: Any) -> Any:
            return func(x) if pred(x) else x

        return wrapped

    return wrapper


def tree_map_only(
    type_or_types_or_pred: Any, func: Callable, tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """``tree_map`` applying ``func`` only to the leaves ``map_only`` selects."""
    return tree_map(map_only(type_or_types_or_pred)(func), tree, is_leaf=is_leaf)


def tree_map_only_(
    type_or_types_or_pred: Any, func: Callable, tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """``tree_map_`` (for side effects; returns ``tree``) on the leaves ``map_only`` selects."""
    return tree_map_(map_only(type_or_types_or_pred)(func), tree, is_leaf=is_leaf)


def is_namedtuple_class(cls: Any) -> bool:
    """Whether ``cls`` is a namedtuple class."""
    return (
        isinstance(cls, type)
        and issubclass(cls, tuple)
        and isinstance(getattr(cls, "_fields", None), tuple)
        and all(type(field) is str for field in cls._fields)
        and callable(getattr(cls, "_make", None))
        and callable(getattr(cls, "_asdict", None))
    )


def is_namedtuple_instance(obj: Any) -> bool:
    """Whether ``obj`` is a namedtuple."""
    return is_namedtuple_class(type(obj))


def is_namedtuple(obj: Any) -> bool:
    """Whether ``obj`` is a namedtuple or a namedtuple class."""
    return is_namedtuple_class(obj if isinstance(obj, type) else type(obj))


def tree_is_leaf(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether ``tree`` is a leaf (``is_leaf(tree)``, or not a container node; None is a leaf)."""
    if is_leaf is not None and is_leaf(tree):
        return True
    return _node_kind(tree) is None


def arg_tree_leaves(*args: Any, **kwargs: Any) -> list:
    """The leaves of ``args`` then of ``kwargs``' values: ``tree_leaves((args, kwargs))``."""
    leaves: list = []
    for a in args:
        leaves.extend(tree_iter(a))
    for a in kwargs.values():
        leaves.extend(tree_iter(a))
    return leaves


def treespec_leaf() -> TreeSpec:
    """The spec of a leaf."""
    return LeafSpec()


def treespec_tuple(iterable: Iterable = (), /) -> TreeSpec:
    """The spec of a tuple of the given child specs."""
    children = list(iterable)
    if any(not isinstance(child, TreeSpec) for child in children):
        raise ValueError(f"Expected a tuple of TreeSpec values, got: {children!r}.")
    return TreeSpec(tuple, None, children)


def treespec_dict(mapping: Mapping | Iterable = (), /, **kwargs: TreeSpec) -> TreeSpec:
    """The spec of a dict of the given child specs (keys in the given order)."""
    dct = dict(mapping, **kwargs)
    if any(not isinstance(child, TreeSpec) for child in dct.values()):
        raise ValueError(f"Expected a dictionary of TreeSpec values, got: {dct!r}.")
    return TreeSpec(dict, list(dct.keys()), list(dct.values()))


def _broadcast_to_and_flatten(
    tree: Any, treespec: TreeSpec, is_leaf: Callable[[Any], bool] | None = None
) -> list | None:
    """PyTorch's private helper (vmap's ``in_dims``): ``tree`` is a prefix of ``treespec``'s
    structure, and each of its leaves is repeated once per leaf of the subtree it stands for, in
    the spec's leaf order; None when ``tree`` is not such a prefix (another container or length)."""
    full = treespec.unflatten([0] * treespec.num_leaves)
    out: list = []

    def repeat(x: Any, subtree: Any) -> None:
        out.extend([x] * tree_structure(subtree, is_leaf).num_leaves)

    try:
        tree_map_(repeat, tree, full, is_leaf=is_leaf)
    except ValueError:
        return None
    return out
