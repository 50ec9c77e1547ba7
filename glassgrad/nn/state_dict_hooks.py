"""The wrappers ``StateDict`` keeps its state-dict hooks in: a load pre-hook bound weakly to its
module, and the public-API mark for a post-hook. Kept apart from ``state_dict.py`` for size."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

__all__: list[str] = []


class _LoadPreHook:
    """A load-state-dict pre-hook, bound to its module when it takes the module first.

    The module is held weakly (a strong reference from its own hook table would be a cycle), but
    copied strongly: ``copy.deepcopy`` of the module then binds the copy's hook to the copy.
    """

    def __init__(self, hook: Callable, module: Any = None) -> None:
        self.hook = hook
        self.module = None if module is None else weakref.ref(module)

    def __call__(self, *args: Any) -> Any:
        if self.module is None:
            return self.hook(*args)
        module = self.module()
        if module is None:
            raise RuntimeError("load_state_dict pre-hook: expected its module alive, got a deleted one")
        return self.hook(module, *args)

    def __getstate__(self) -> dict:
        if self.module is None:
            return {"hook": self.hook, "module": None}
        return {"hook": self.hook, "module": self.module(), "with_module": True}

    def __setstate__(self, state: dict) -> None:
        self.hook = state["hook"]
        module = state["module"]
        if module is None and state.get("with_module"):  # else it would run without its module
            raise RuntimeError(
                "load_state_dict pre-hook: expected its module alive to copy it, got a deleted one"
            )
        self.module = None if module is None else weakref.ref(module)


class _PublicPostHook:
    """Carries the public-API mark for a post-hook that cannot take attributes (a bound method)."""

    _from_public_api = True

    def __init__(self, hook: Callable) -> None:
        self.hook = hook

    def __call__(self, *args: Any) -> Any:
        return self.hook(*args)
