"""``torch._jit_internal``: the few helpers library code imports from it (Pyro's ``PyroModule``
does ``from torch._jit_internal import _copy_to_script_wrapper``). Nothing compiles here, so the
markers only tag the function, as PyTorch's do, and return it unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from glassgrad.jit import _overload, _overload_method, export, ignore, is_scripting, unused

__all__ = [
    "_copy_to_script_wrapper",
    "_overload",
    "_overload_method",
    "export",
    "ignore",
    "is_scripting",
    "unused",
]

F = TypeVar("F", bound=Callable[..., Any])


def _copy_to_script_wrapper(fn: F) -> F:
    """Mark ``fn`` to be copied onto a scripted module's wrapper (a tag only: nothing scripts)."""
    fn._torchscript_modifier = "copy_to_script_wrapper"  # type: ignore[attr-defined]
    return fn
