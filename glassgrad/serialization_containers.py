"""Subclasses of tuple, list and dict in checkpoints: a namedtuple, a ``Counter``, a
``defaultdict``, a user's ``dict`` subclass load as their own class, as PyTorch's pickle keeps them.

``save`` wrote them as the plain container, so a namedtuple of training statistics loaded as a
bare tuple (``stats.loss`` then failed) and a ``Counter`` of token counts as a dict (``+`` and
``most_common`` gone): what the user saved was lost, silently. They are now written as
``{"__container__": [module, qualname], "base": "tuple" | "list" | "dict", "items": ...}`` (plus
``"factory"`` for a ``defaultdict``'s ``default_factory`` and ``"state"`` for attributes in a
``__dict__``), and ``load`` makes them as pickle does: ``cls.__new__(cls, *args)`` for a tuple
(``args``: ``__getnewargs__``, the items of a namedtuple), ``cls.__new__(cls)`` then ``extend`` or
``obj[k] = v`` for a list or dict, then the attributes. No ``__init__`` runs.

The class is found as any saved class (``serialization_subclass.find_global``): with
``weights_only=True`` only on the allowlist, where ``collections.Counter`` always is (PyTorch's
weights-only loader allows it); otherwise ``UnsafeGlobalError``, PyTorch's
``pickle.UnpicklingError``. ``OrderedDict`` and ``Size`` keep their own tags
(``serialization_values.py``).
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

from glassgrad.errors import CheckpointError, UnsafeGlobalError
from glassgrad.serialization_globals import GLOBAL_TAG, encode_global
from glassgrad.serialization_subclass import find_global

__all__ = ["CONTAINER_TAG", "encode_container", "decode_container"]

CONTAINER_TAG = "__container__"
_BASES = {"tuple": tuple, "list": list, "dict": dict}
_ALWAYS = {("collections", "Counter"): collections.Counter}  # PyTorch's weights-only allowlist has it


def encode_container(obj: Any, encode: Callable[[Any, tuple], Any], path: tuple) -> dict | None:
    """The tagged JSON of a strict subclass of tuple, list or dict, else None."""
    cls = type(obj)
    if cls is tuple or cls is list or cls is dict:
        return None
    base = next((name for name, b in _BASES.items() if isinstance(obj, b)), None)
    if base is None:
        return None
    out: dict = {CONTAINER_TAG: encode_global(cls, path)[GLOBAL_TAG], "base": base}
    if base == "tuple":
        out["items"] = encode(list(obj.__getnewargs__()), path)  # what pickle hands __new__
    elif base == "list":
        out["items"] = encode(list(obj), path)
    else:
        out["items"] = encode(dict(obj), path)
        factory = getattr(obj, "default_factory", None) if isinstance(obj, collections.defaultdict) else None
        if factory is not None:
            out["factory"] = encode(factory, (*path, "default_factory"))
    state = getattr(obj, "__dict__", None)
    if state:
        out["state"] = encode(dict(state), (*path, "__dict__"))
    return out


def decode_container(node: dict, decode: Callable[[Any], Any], weights_only: bool, where: str) -> Any:
    """The object a ``__container__`` node describes, made as pickle makes it."""
    ref, base = node[CONTAINER_TAG], _BASES.get(node.get("base"))
    if not (isinstance(ref, list) and len(ref) == 2 and all(isinstance(s, str) for s in ref)) or base is None:
        raise CheckpointError(
            f"load: {where}: corrupted structure metadata: expected a [module, qualname] reference and a "
            f"base of tuple, list or dict, got {ref!r:.60} and {node.get('base')!r:.20}"
        )
    cls = _ALWAYS.get(tuple(ref)) or find_global(*ref, weights_only, f"{where}: the file names")
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise UnsafeGlobalError(
            f"load: {where}: {ref[0]}.{ref[1]} is {cls!r:.60} here, not a {base.__name__}"
        )
    items, state = decode(node.get("items", [])), decode(node.get("state", {}))
    expected = dict if base is dict else list
    if not isinstance(items, expected) or not isinstance(state, dict):
        raise CheckpointError(
            f"load: {where}: corrupted structure metadata: expected the items of a {ref[1]} as a "
            f"{expected.__name__}, got {type(items).__name__}"
        )
    if base is tuple:
        obj = cls.__new__(cls, *items)
    else:
        obj = cls.__new__(cls)
        if base is list:
            obj.extend(items)
        else:
            if "factory" in node:  # a class or function by reference, found as any other
                factory = decode(node["factory"])
                if not (isinstance(obj, collections.defaultdict) and callable(factory)):
                    raise CheckpointError(
                        f"load: {where}: corrupted structure metadata: a default_factory {factory!r:.40} "
                        f"for a {ref[1]}"
                    )
                obj.default_factory = factory
            for k, v in items.items():
                obj[k] = v
    if state:
        if hasattr(obj, "__setstate__"):
            obj.__setstate__(state)
        else:
            obj.__dict__.update(state)
    return obj
