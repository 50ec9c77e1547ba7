"""What ``save``/``load`` keep of a tensor besides its data: its class and its own attributes.

PyTorch pickles a ``Parameter`` as a parameter, and any other tensor whose class is a subclass or
whose ``__dict__`` holds attributes as its class, its data and that ``__dict__``
(``_rebuild_from_type_v2``); its weights-only loader remakes the class only when it is on the
``add_safe_globals`` list. glassgrad writes no pickle, so a reference to a tensor in the file's JSON
structure carries the same facts as data:

* ``"class": [module, qualname]`` for a subclass (not for ``Buffer``, which loads as a plain
  tensor in PyTorch too); ``glassgrad.nn.parameter.Parameter`` is always allowed;
* ``"state": {...}``, the ``__dict__``, encoded like any saved structure (tensors by reference),
  and ``"slots": {...}``, the values of ``__slots__`` a subclass declares;
* or, for a subclass with a ``__getstate__`` of its own, ``"getstate": ...``, what it returns, as
  PyTorch's ``_get_obj_state`` keeps it (before round 67 it was ignored: what such a class keeps
  outside its ``__dict__`` was dropped silently, and a class with ``__slots__`` could not load).

Loading never imports a module: the class is found on the allowlist (``add_safe_globals``,
``safe_globals``), or, with ``weights_only=False``, in a module the program has already imported.
Otherwise ``load`` refuses, naming the class and the call that allows it, as PyTorch's
weights-only loader does. As PyTorch's ``_rebuild_from_type_v2``: the class's ``__setstate__`` gets the state when it defines
one, else the attributes are set (``_set_obj_state``).
"""

from __future__ import annotations

import copyreg
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
    if _own(cls, "__getstate__") is not None:  # the class says what its state is
        out["getstate"] = encode(obj.__getstate__(), (*path, "__getstate__"))
        return out
    state = vars(obj)
    if state:
        out["state"] = encode(dict(state), (*path, "__dict__"))
    slots = {k: getattr(obj, k) for k in _own_slots(cls) if hasattr(obj, k)}
    if slots:
        out["slots"] = encode(slots, (*path, "__slots__"))
    return out


def _own(cls: type, name: str) -> Any:
    """``name`` as a user's subclass defines it (a class between ``cls`` and Tensor, not glassgrad's
    own Parameter or Buffer), or None."""
    for klass in cls.__mro__:
        if klass is Tensor:
            return None
        if name in vars(klass) and not klass.__module__.startswith("glassgrad."):
            return vars(klass)[name]
    return None


def _own_slots(cls: type) -> list[str]:
    """The ``__slots__`` names a subclass adds to Tensor's (mangled as stored)."""
    tensor_slots = set(copyreg._slotnames(Tensor))  # type: ignore[attr-defined]
    return [k for k in copyreg._slotnames(cls) if k not in tensor_slots]  # type: ignore[attr-defined]


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
    if "getstate" not in node and "slots" not in node and not _own_slots(cls):
        return _rebuild_subclass(cls, t, state)
    out = _fresh(cls, t)
    if "getstate" in node:
        state = decode(node["getstate"])
    elif "slots" in node:
        slots = decode(node["slots"])
        if not isinstance(slots, dict):
            raise ValueError(f"expected the tensor's saved __slots__ as a dict, got {type(slots).__name__}")
        state = (state or None, slots)  # what object.__getstate__ gives for a class with __slots__
    if _own(cls, "__setstate__") is not None:
        out.__setstate__(state)
    else:
        _set_obj_state(out, state)
    return out


def _fresh(cls: type, t: Tensor) -> Tensor:
    """``t`` (a fresh leaf of ``load``: no views, no graph) as a ``cls`` instance. A class with
    ``__slots__`` of its own has another memory layout, where ``__class__`` assignment (``as_subclass``)
    fails; a new ``cls`` object takes ``t``'s Tensor fields instead (PyTorch's ``as_subclass`` copes
    with such classes in C)."""
    if not _own_slots(cls):
        return _rebuild_subclass(cls, t, {})
    out = object.__new__(cls)
    for k in copyreg._slotnames(Tensor):  # type: ignore[attr-defined]
        if hasattr(t, k):
            object.__setattr__(out, k, getattr(t, k))
    return out


def _set_obj_state(obj: Tensor, state: Any) -> None:
    """PyTorch's ``torch._utils._set_obj_state``: a dict of attributes, or ``(dict, slots)``."""
    if isinstance(state, tuple):
        if len(state) != 2:
            raise ValueError(f"expected a tensor's saved state as (dict, slots), got {len(state)} items")
        dict_state, slots_state = state
    else:
        dict_state, slots_state = state, None
    for part in (dict_state, slots_state):
        if part:
            if not isinstance(part, dict):
                raise ValueError(f"expected a tensor's saved attributes as a dict, got {type(part).__name__}")
            for k, v in part.items():
                setattr(obj, k, v)
