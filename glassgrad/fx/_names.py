"""Names in generated code: ``_Namespace`` (unique, legal Python names for nodes and globals, with
PyTorch's numbering: ``add``, ``add_1``; ``getattr_1`` since ``getattr`` is a builtin) and
``public_path`` (``torch.relu``, ``torch.nn.functional.relu`` for glassgrad's public functions,
which the generated code reaches through ``torch``, bound to glassgrad)."""

from __future__ import annotations

import builtins
import keyword
import math
import re
import sys
from collections import defaultdict
from typing import Any

__all__ = ["CUSTOM_BUILTINS", "Namespace", "public_path", "snake_case"]

_ILLEGAL_CHAR = re.compile("[^0-9a-zA-Z_]+")
_NAME_SUFFIX = re.compile(r"(.*)_(\d+)$")
_CAMEL = re.compile(r"(?<=[a-z])([A-Z])")

# Public namespaces, as generated code names them (``torch`` is glassgrad there).
_SPACES = (
    ("glassgrad", "torch"),
    ("glassgrad.nn.functional", "torch.nn.functional"),
    ("glassgrad.linalg", "torch.linalg"),
    ("glassgrad.fft", "torch.fft"),
    ("glassgrad.special", "torch.special"),
    ("glassgrad.ops.profiler", "torch.ops.profiler"),
    ("glassgrad.ops.aten", "torch.ops.aten"),
)


def _custom_builtins() -> dict[str, Any]:
    import glassgrad

    return {
        "inf": math.inf,
        "nan": math.nan,
        "NoneType": type(None),
        "torch": glassgrad,
        "device": glassgrad.device,
    }


CUSTOM_BUILTINS: dict[str, Any] = {}


def snake_case(s: str) -> str:
    """``BatchNorm2d`` -> ``batch_norm2d``: PyTorch's node-name spelling of a target."""
    return _CAMEL.sub(r"_\1", s).lower()


def public_path(fn: Any) -> str | None:
    """``torch.<name>`` where ``fn`` is a glassgrad public function (also one reached through its
    ``__torch_function__`` wrapper), else None."""
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str):
        return None
    from glassgrad.torch_function import Overridable

    def base(f: Any) -> Any:  # a function under its __torch_function__ wrapper, or itself
        return f.__wrapped__ if isinstance(f, Overridable) else f

    inner = base(fn)
    for modname, shown in _SPACES:
        module = sys.modules.get(modname)
        value = getattr(module, name, None) if module is not None else None
        if value is not None and base(value) is inner:
            return f"{shown}.{name}"
    return None


class Namespace:
    """Unique names within one graph's generated function: nodes and the globals it needs."""

    def __init__(self) -> None:
        self._obj_to_name: dict[Any, str] = {}
        self._used_names: set[str] = set()
        self._base_count: dict[str, int] = defaultdict(int)

    def create_name(self, candidate: str, obj: Any | None) -> str:
        if obj is not None and obj in self._obj_to_name:
            return self._obj_to_name[obj]
        candidate = _ILLEGAL_CHAR.sub("_", candidate) or "_unnamed"
        if candidate[0].isdigit():
            candidate = f"_{candidate}"
        match = _NAME_SUFFIX.match(candidate)
        if match is None:
            base, num = candidate, None
        else:
            base, num = match.group(1), int(match.group(2))
        candidate = base if num is None else f"{base}_{num}"
        if not num:
            num = self._base_count[base]
        while candidate in self._used_names or self._is_illegal_name(candidate, obj):
            num += 1
            candidate = f"{base}_{num}"
        self._used_names.add(candidate)
        self._base_count[base] = num
        if obj is not None:
            self._obj_to_name[obj] = candidate
        return candidate

    def associate_name_with_obj(self, name: str, obj: Any) -> None:
        self._obj_to_name[obj] = name

    def _rename_object(self, obj: Any, name: str) -> None:
        self._obj_to_name[obj] = name

    @staticmethod
    def _is_illegal_name(name: str, obj: Any) -> bool:
        if name in keyword.kwlist:
            return True
        if name in builtins.__dict__:
            return obj is not builtins.__dict__[name]
        if not CUSTOM_BUILTINS:
            CUSTOM_BUILTINS.update(_custom_builtins())
        if name in CUSTOM_BUILTINS:
            return obj is not CUSTOM_BUILTINS[name]
        return False
