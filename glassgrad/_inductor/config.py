"""``torch._inductor.config``: the common settings with PyTorch 2.13's defaults. They may be read
and set (setting changes nothing: glassgrad does not compile); a name PyTorch does not have raises
``AttributeError``, as PyTorch's config does. ``triton`` holds the ``triton.*`` group the same way
(gpt-fast's ``generate.py`` sets ``torch._inductor.config.triton.unique_kernel_names``)."""

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

_TRITON_DEFAULTS: dict[str, Any] = {
    "cudagraphs": False,
    "cudagraph_trees": True,
    "cudagraph_skip_dynamic_graphs": False,
    "cudagraph_support_input_mutation": True,
    "cudagraph_dynamic_shape_warn_limit": 8,
    "force_cudagraph_sync": False,
    "force_cudagraphs_warmup": False,
    "slow_path_cudagraph_asserts": True,
    "fast_path_cudagraph_asserts": False,
    "debug_sync_graph": False,
    "debug_sync_kernel": False,
    "dense_indexing": False,
    "max_tiles": None,
    "prefer_nd_tiling": False,
    "autotune_pointwise": True,
    "autotune_cublasLt": True,
    "autotune_at_compile_time": None,
    "tiling_prevents_pointwise_fusion": True,
    "tiling_prevents_reduction_fusion": True,
    "unique_kernel_names": True,
    "unique_user_kernel_names": False,
    "descriptive_names": "original_aten",
    "persistent_reductions": True,
    "cooperative_reductions": False,
    "multi_kernel": 0,
    "divisible_by_16": True,
    "min_split_scan_rblock": 256,
    "store_cubin": False,
    "spill_threshold": 16,
    "use_block_ptr": False,
    "codegen_upcast_to_fp32": True,
    "enable_persistent_tma_matmul": False,
}


class _SubConfig:
    """A settings group such as ``config.triton``: known names only, like the module itself."""

    def __init__(self, qualname: str, defaults: dict[str, Any]) -> None:
        object.__setattr__(self, "_qualname", qualname)
        object.__setattr__(self, "_known", dict(defaults))
        for name, value in defaults.items():
            object.__setattr__(self, name, value)

    def _unknown(self, name: str) -> AttributeError:
        return AttributeError(
            f"{self._qualname}.{name} does not exist (glassgrad knows {sorted(self._known)})"
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise self._unknown(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._known:
            raise self._unknown(name)
        object.__setattr__(self, name, value)


triton = _SubConfig("torch._inductor.config.triton", _TRITON_DEFAULTS)


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
