"""What ``save``/``load`` keep of a tensor besides its data: its class and its own attributes.

PyTorch pickles a ``Parameter`` as a parameter, and any other tensor whose class is a subclass or
whose ``__dict__`` holds attributes as its class, its data and that ``__dict__``
(``_rebuild_from_type_v2``); its weights-only loader remakes the class only when it is on the
``add_safe_globals`` list. glassgrad writes no pickle, so a reference to a tensor in the file's JSON
structure carries the same facts as data:

* ``"class": [module, qualname]`` for a subclass (not for ``Buffer``, which loads as a plain
  tensor in PyTorch too); ``glassgrad.nn.parameter.Parameter`` is always allowed;
* ``"state": {...}``, the ``__dict__``, encoded like any saved structure (tensors by reference).

Loading never imports a module: the class is found on the allowlist (``add_safe_globals``,
``safe_globals``), or, with ``weights_only=False``, in a module the program has already imported.
Otherwise ``load`` refuses, naming the class and the call that allows it, as PyTorch's
weights-only loader does. The class's ``__setstate__`` gets the state when it defines one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from glassgrad.errors import UnsafeGlobalError
from glassgrad.safe_globals import get_safe_globals
from glassgrad.tensor import Tensor
from glassgrad.tensor_subclass import _rebuild_subclass

__all__ = ["class_fields", "remake", "find_global"]

_PARAMETER = ("glassgrad.nn.parameter", "Parameter")


def _parameter_class() -> type:
    from glassgrad.nn.parameter import Parameter  # (glassgrad.nn imports the serialization modules)

    return Parameter


def class_fields(obj: Tensor, path: tuple, encode: Callable[[Any, tuple], Any]) -> dict:
    """The reference fields that remake ``obj``'s class and attributes (empty for a plain tensor)."""
    from glassgrad.nn.parameter import Buffer

    cls = type(obj)
    out: dict = {}
    if cls is not Tensor and cls is not Buffer:
        out["class"] = [cls.__module__, cls.__qualname__]
    state = vars(obj)
    if state:
        out["state"] = encode(dict(state), (*path, "__dict__"))
    return out


def _allowed(module: str, qualname: str) -> Any:
    if (module, qualname) == _PARAMETER:
        return _parameter_class()
    for entry in get_safe_globals():
        obj, name = entry if isinstance(entry, tuple) else (entry, None)
        if name is None:
            name = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
        if name == f"{module}.{qualname}":
            return obj
    return None


def find_global(module: str, qualname: str, weights_only: bool, what: str) -> Any:
    """The object ``module.qualname`` names, from the allowlist or (not ``weights_only``) an
    already imported module; else ``UnsafeGlobalError`` saying how to allow it. ``what`` opens
    the message ("<where>: the file names")."""
    obj = _allowed(module, qualname)
    if obj is None and not weights_only:
        obj = _imported(module, qualname)
    if obj is None:
        hint = (
            f"import {module} first (load imports nothing)"
            if not weights_only
            else f"allow it with glassgrad.serialization.add_safe_globals([{qualname}]) (or the "
            "safe_globals context manager, or weights_only=False) if you trust the file"
        )
        raise UnsafeGlobalError(f"load: {what} {module}.{qualname}, which is not an allowed global; {hint}")
    return obj


def _imported(module: str, qualname: str) -> Any:
    """The class from a module already in ``sys.modules`` (nothing is imported), or None."""
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def remake(t: Tensor, node: dict, weights_only: bool, decode: Callable[[Any], Any], where: str) -> Tensor:
    """``t`` (a fresh plain tensor) as the saved class, with the saved attributes."""
    cls_ref = node.get("class")
    cls = Tensor
    if cls_ref is not None:
        if not (isinstance(cls_ref, list) and len(cls_ref) == 2 and all(isinstance(s, str) for s in cls_ref)):
            raise ValueError(f"expected a [module, qualname] class reference, got {cls_ref!r}")
        module, qualname = cls_ref
        cls = find_global(module, qualname, weights_only, f"{where}: a tensor was saved as")
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise UnsafeGlobalError(
                f"load: {where}: the saved tensor class {module}.{qualname} is {cls!r} here, not a Tensor subclass"
            )
    state = decode(node["state"]) if "state" in node else {}
    if not isinstance(state, dict):
        raise ValueError(f"expected the tensor's saved attributes as a dict, got {type(state).__name__}")
    if cls is _parameter_class():
        p = cls(t, requires_grad=t.requires_grad)
        vars(p).update(state)
        return p
    if cls is Tensor:
        vars(t).update(state)
        return t
    return _rebuild_subclass(cls, t, state)
