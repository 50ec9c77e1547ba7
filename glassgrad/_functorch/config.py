"""``torch._functorch.config``: the common settings with PyTorch 2.13's defaults. They may be read
and set (setting changes nothing: glassgrad does not compile); a name PyTorch does not have raises
``AttributeError``, as PyTorch's config does."""

from __future__ import annotations

import sys
import types
from typing import Any

_DEFAULTS: dict[str, Any] = {
    "enable_autograd_cache": True,
    "enable_remote_autograd_cache": None,
    "strict_autograd_cache": False,
    "functionalize_rng_ops": False,
    "debug_assert": False,
    "cse": True,
    "view_replay_for_aliased_outputs": True,
    "ban_recompute_reductions": True,
    "activation_memory_budget": 1.0,
    "donated_buffer": True,
    "recompute_views": False,
    "aggressive_recomputation": False,
}


class _Config(types.ModuleType):
    """The module's class: known settings only, as PyTorch's config module."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"torch._functorch.config.{name} does not exist (glassgrad knows {sorted(_DEFAULTS)})"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _DEFAULTS and not name.startswith("_"):
            raise AttributeError(
                f"torch._functorch.config.{name} does not exist (glassgrad knows {sorted(_DEFAULTS)})"
            )
        super().__setattr__(name, value)


globals().update(_DEFAULTS)
sys.modules[__name__].__class__ = _Config
