"""``torch._dynamo.config``: the common settings with PyTorch 2.13's defaults. They may be read and
set (setting changes nothing: glassgrad does not compile); a name PyTorch does not have raises
``AttributeError``, as PyTorch's config does."""

from __future__ import annotations

import sys
import types
from typing import Any

_DEFAULTS: dict[str, Any] = {
    "suppress_errors": False,
    "cache_size_limit": 8,
    "recompile_limit": 8,
    "accumulated_cache_size_limit": 256,
    "accumulated_recompile_limit": 256,
    "verbose": False,
    "optimize_ddp": True,
    "capture_scalar_outputs": False,
    "capture_dynamic_output_shape_ops": False,
    "automatic_dynamic_shapes": True,
    "assume_static_by_default": True,
    "force_parameter_static_shapes": True,
    "specialize_int": False,
    "dynamic_shapes": True,
}


class _Config(types.ModuleType):
    """The module's class: known settings only, as PyTorch's config module."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"torch._dynamo.config.{name} does not exist (glassgrad knows {sorted(_DEFAULTS)})"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _DEFAULTS and not name.startswith("_"):
            raise AttributeError(
                f"torch._dynamo.config.{name} does not exist (glassgrad knows {sorted(_DEFAULTS)})"
            )
        super().__setattr__(name, value)


globals().update(_DEFAULTS)
sys.modules[__name__].__class__ = _Config
