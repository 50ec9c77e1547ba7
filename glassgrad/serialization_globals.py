"""Classes and module-level functions in checkpoints, saved by reference as PyTorch's pickle saves
them (``GLOBAL module qualname``): ``{"__global__": [module, qualname]}``.

chemprop's ``save_model`` writes ``hparams["message_passing"]["cls"] = BondMessagePassing`` and
loads it back to rebuild the model. A reference names code but runs none: ``load`` hands back the
class or function itself and calls nothing. It finds it as a tensor's class is found
(``serialization_subclass.py``): on the allowlist (``add_safe_globals``, ``safe_globals``), or, with
``weights_only=False``, in a module the program has already imported; ``load`` imports nothing.
Otherwise it refuses, naming the global and the call that allows it, as PyTorch's weights-only
loader does. A local class or function (``<locals>`` in its name) or a lambda cannot be found by
name, so ``save`` refuses it, as pickle does.

An enum member (chemprop's ``Activation.RELU``, a ``str`` subclass that JSON would flatten to
``"relu"``) is its class by reference and its name: ``{"__enum__": [module, qualname, name]}``;
``load`` looks the name up in the class's members (PyTorch's pickle calls ``cls(value)``). A
combination of flags that no single member names is saved as before (an ``IntFlag`` as its int).
"""

from __future__ import annotations

import enum
import types
from typing import Any

from glassgrad.errors import CheckpointError, UnsafeGlobalError
from glassgrad.serialization_subclass import _imported, find_global

__all__ = ["GLOBAL_TAG", "ENUM_TAG", "GLOBAL_TYPES", "encode_global", "decode_global"]

GLOBAL_TAG = "__global__"
ENUM_TAG = "__enum__"
#: what ``save`` writes by reference (hashable: they may be dict keys too)
GLOBAL_TYPES = (type, types.FunctionType, types.BuiltinFunctionType, enum.Enum)


def encode_global(obj: Any, path: tuple) -> dict | None:
    """``{"__global__": [module, qualname]}`` for a class or function, ``{"__enum__": [module,
    qualname, name]}`` for an enum member, else None."""
    if isinstance(obj, enum.Enum):
        if type(obj).__members__.get(obj.name) is not obj:  # a combination of flags
            return None
        return {ENUM_TAG: [*encode_global(type(obj), path)[GLOBAL_TAG], obj.name]}
    if not isinstance(obj, GLOBAL_TYPES):
        return None
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    kind = "class" if isinstance(obj, type) else "function"
    where = "/".join(map(str, path)) or "the top level"
    if not (isinstance(module, str) and isinstance(qualname, str)) or _imported(module, qualname) is not obj:
        raise TypeError(
            f"save: the {kind} {qualname or obj!r} at {where} is saved by reference (module and name), "
            f"and {module}.{qualname} does not name it (a local {kind} or a lambda); define it at module level"
        )
    return {GLOBAL_TAG: [module, qualname]}


def decode_global(node: dict, weights_only: bool, where: str) -> Any:
    """The class or function a ``__global__`` reference names (allowed or already imported), or
    the member an ``__enum__`` reference names."""
    if ENUM_TAG in node:
        ref = node[ENUM_TAG]
        if not (isinstance(ref, list) and len(ref) == 3 and all(isinstance(s, str) for s in ref)):
            raise CheckpointError(
                f"load: {where}: corrupted structure metadata: expected a [module, qualname, name] enum "
                f"reference, got {ref!r:.80}"
            )
        cls = decode_global({GLOBAL_TAG: ref[:2]}, weights_only, where)
        member = cls.__members__.get(ref[2]) if isinstance(cls, type) and issubclass(cls, enum.Enum) else None
        if member is None:
            raise CheckpointError(f"load: {where}: {ref[0]}.{ref[1]} has no enum member {ref[2]!r:.40}")
        return member
    ref = node[GLOBAL_TAG]
    if not (isinstance(ref, list) and len(ref) == 2 and all(isinstance(s, str) for s in ref)):
        raise CheckpointError(
            f"load: {where}: corrupted structure metadata: expected a [module, qualname] reference, got {ref!r:.80}"
        )
    module, qualname = ref
    obj = find_global(module, qualname, weights_only, f"{where}: the file names")
    if not isinstance(obj, GLOBAL_TYPES) or isinstance(obj, enum.Enum):
        raise UnsafeGlobalError(
            f"load: {where}: {module}.{qualname} is {type(obj).__name__} here, not a class or function"
        )
    return obj
