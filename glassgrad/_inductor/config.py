"""``torch._inductor.config``: the common settings with PyTorch 2.13's defaults. They may be read
and set (setting changes nothing: glassgrad does not compile); a name PyTorch does not have raises
``AttributeError``, as PyTorch's config does."""

from __future__ import annotations

import sys
import types
from typing import Any

_DEFAULTS: dict[str, Any] = {
    "coordinate_descent_tuning": False,
    "coordinate_descent_check_all_directions": False,
    "max_autotune": False,
    "max_autotune_gemm": False,
    "max_autotune_pointwise": False,
    "autotune_in_subproc": False,
    "fx_graph_cache": True,
    "freezing": False,
    "epilogue_fusion": True,
    "aggressive_fusion": False,
    "permute_fusion": False,
    "shape_padding": True,
    "layout_optimization": True,
    "split_reductions": True,
    "conv_1x1_as_mm": False,
    "use_mixed_mm": True,
    "force_fuse_int_mm_with_mul": False,
    "cpp_wrapper": False,
    "fallback_random": False,
    "emulate_precision_casts": False,
    "size_asserts": True,
    "benchmark_kernel": False,
    "unroll_reductions_threshold": 8,
    "compile_threads": 2,
    "debug": False,
}


class _Config(types.ModuleType):
    """The module's class: known settings only, as PyTorch's config module."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"torch._inductor.config.{name} does not exist (glassgrad knows {sorted(_DEFAULTS)})"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _DEFAULTS and not name.startswith("_"):
            raise AttributeError(
                f"torch._inductor.config.{name} does not exist (glassgrad knows {sorted(_DEFAULTS)})"
            )
        super().__setattr__(name, value)


globals().update(_DEFAULTS)
sys.modules[__name__].__class__ = _Config
