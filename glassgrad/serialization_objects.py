"""Plain objects in checkpoints: an instance of a module-level class, saved as its class by
reference and its attributes, ``{"__object__": [module, qualname], "state": {...}}``.

timm's ``CheckpointSaver`` writes ``checkpoint["args"] = args``, the training script's
``argparse.Namespace``, and its ``resume_checkpoint`` loads the file inside
``torch.serialization.safe_globals([argparse.Namespace])``. PyTorch's pickle saves such an object
as its class and its ``__dict__`` (``NEWOBJ`` + ``BUILD``); its weights-only loader makes the
object only when the class is allowed, by ``cls.__new__(cls)`` and then ``__setstate__(state)``
or, without one, ``__dict__.update(state)``. ``save`` writes the same two facts as data, and
``load`` remakes the object the same way. No ``__init__`` and no other code of the class is run.

The class is found as a tensor's class is (``serialization_subclass.find_global``): on the
allowlist (``add_safe_globals``, ``safe_globals``) or, with ``weights_only=False``, in a module
already imported; ``load`` imports nothing, and otherwise refuses with ``UnsafeGlobalError`` (a
``pickle.UnpicklingError``, PyTorch's kind). Saved so: objects whose class pickles with the
default protocol (no ``__reduce__``/``__reduce_ex__`` of its own) and whose state is a dict:
their ``__dict__``, or what their own ``__getstate__`` answers. Anything with a ``state_dict``
(a module, an optimizer) stays refused, pointing at ``state_dict()``; so do objects without a
``__dict__`` (``object()``, ``__slots__`` classes) and local classes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassgrad.errors import CheckpointError, UnsafeGlobalError
from glassgrad.serialization_globals import GLOBAL_TAG, encode_global
from glassgrad.serialization_subclass import find_global
from glassgrad.tensor import Tensor

__all__ = ["OBJECT_TAG", "encode_object", "decode_object"]

OBJECT_TAG = "__object__"


def _state(obj: Any) -> dict | None:
    """The attributes pickle would save for ``obj`` with the default protocol, or None when
    ``obj`` is not such a plain object."""
    cls = type(obj)
    if cls.__reduce_ex__ is not object.__reduce_ex__ or cls.__reduce__ is not object.__reduce__:
        return None
    if callable(getattr(obj, "state_dict", None)) or not hasattr(obj, "__dict__"):
        return None
    try:  # an object with C-level state (an open file, a lock) has a __dict__, but pickle refuses it
        obj.__reduce_ex__(2)
    except TypeError:
        return None
    getstate = getattr(cls, "__getstate__", None)
    if getstate is not None and getstate is not getattr(object, "__getstate__", None):
        state = obj.__getstate__()
    else:
        state = vars(obj)
    return dict(state) if isinstance(state, dict) and all(isinstance(k, str) for k in state) else None


def encode_object(obj: Any, encode: Callable[[Any, tuple], Any], path: tuple) -> dict:
    """``{"__object__": [module, qualname], "state": ...}`` for a plain object; else the
    ``TypeError`` that ``save`` gives for anything it cannot write."""
    state = _state(obj)
    if state is None:
        where = "/".join(map(str, path)) or "the top level"
        hint = (
            "; save its state_dict() instead (no pickled objects: load it into a new one)"
            if callable(getattr(obj, "state_dict", None))
            else ""
        )
        raise TypeError(
            f"save: expected tensors, arrays, numbers, strings, bytes, bools, None, lists, tuples, dicts or "
            f"objects of module-level classes with a __dict__, got {type(obj).__name__} at {where}{hint}"
        )
    ref = encode_global(type(obj), path)[GLOBAL_TAG]  # (a local class is refused there, by name)
    return {OBJECT_TAG: ref, "state": encode(state, (*path, "__dict__"))}


def decode_object(node: dict, decode: Callable[[Any], Any], weights_only: bool, where: str) -> Any:
    """The object an ``__object__`` node describes, made as PyTorch's weights-only loader makes
    an allowed class's instance: ``cls.__new__(cls)``, then its state."""
    ref = node[OBJECT_TAG]
    if not (isinstance(ref, list) and len(ref) == 2 and all(isinstance(s, str) for s in ref)):
        raise CheckpointError(
            f"load: {where}: corrupted structure metadata: expected a [module, qualname] class reference, "
            f"got {ref!r:.80}"
        )
    module, qualname = ref
    cls = find_global(module, qualname, weights_only, f"{where}: an object was saved as an instance of")
    # save writes no tensor, module or optimizer so: a file naming one was not written by save
    if not isinstance(cls, type) or issubclass(cls, Tensor) or callable(getattr(cls, "state_dict", None)):
        raise UnsafeGlobalError(f"load: {where}: {module}.{qualname} is {cls!r:.60} here, not a plain class")
    state = decode(node.get("state", {}))
    if not isinstance(state, dict):
        raise CheckpointError(
            f"load: {where}: corrupted structure metadata: expected an object's attributes as a dict, "
            f"got {type(state).__name__}"
        )
    obj = cls.__new__(cls)
    if hasattr(obj, "__setstate__"):
        obj.__setstate__(state)
    else:
        obj.__dict__.update(state)
    return obj
