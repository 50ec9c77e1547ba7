"""``glassgrad.cuda``: there is no GPU backend, so code that asks whether one exists hears no,
and seeding or synchronising it does nothing. Asking for a CUDA tensor raises (see ``device``).

>>> import glassgrad as gg
>>> gg.cuda.is_available()
False
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = [
    "is_available", "device_count", "manual_seed", "manual_seed_all", "seed", "seed_all",
    "synchronize", "empty_cache", "current_device", "set_device",
    "Event", "Stream", "CUDAGraph", "graph", "StreamContext", "is_initialized", "is_bf16_supported", "amp",
    # memory queries and device context managers (cuda_more.py)
    "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved", "memory_stats",
    "reset_peak_memory_stats", "reset_max_memory_allocated", "reset_accumulated_memory_stats",
    "memory_summary", "memory_stats_as_nested_dict", "memory_cached", "max_memory_cached",
    "reset_max_memory_cached", "get_arch_list", "device", "device_of", "stream", "get_device_name",
    "get_device_properties", "get_device_capability", "current_stream", "default_stream", "init", "initial_seed", "get_rng_state",
    "mem_get_info", "get_rng_state_all", "set_rng_state", "set_rng_state_all", "get_gencode_flags",
    # legacy constructors that raise (cuda_tensors.py)
    "BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
    "HalfTensor", "IntTensor", "LongTensor", "ShortTensor", "OutOfMemoryError",
]  # fmt: skip


def is_available() -> bool:
    """False: glassgrad computes on the CPU (``device = "cuda" if is_available() else "cpu"`` ports)."""
    return False


def device_count() -> int:
    return 0


# PyTorch's private flag behind is_initialized(), read directly by published code (reversible
# layers: `if torch.cuda._initialized:` before saving GPU RNG states).
_initialized = False


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Seed the CUDA generators: there are none, so this does nothing (as in PyTorch without a GPU)."""


def manual_seed_all(seed: int) -> None:
    """Seed every CUDA generator: there are none."""


def seed() -> None:
    """Seed the CUDA generators randomly: there are none."""


def seed_all() -> None:
    """Seed every CUDA generator randomly: there are none."""


def synchronize(device: Any = None) -> None:
    """Wait for the GPU: there is none, so nothing to wait for."""


def empty_cache() -> None:
    """Free cached GPU memory: there is none."""


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False, as PyTorch's without a GPU (nanoGPT picks its dtype from it)."""
    return False


def current_device() -> int:
    raise RuntimeError("cuda.current_device: glassgrad computes on the CPU only; there is no CUDA device")


def set_device(device: Any) -> None:
    """Select the CUDA device: there is none. A negative index does nothing (as in PyTorch); a
    non-CUDA device raises PyTorch's ``ValueError``; any CUDA device raises ``RuntimeError``."""
    from glassgrad.device import device as _device

    if isinstance(device, int) and not isinstance(device, bool):
        if device < 0:
            return
    elif _device(device).type != "cuda":
        raise ValueError(f"cuda.set_device: Expected a cuda device, but got: {_device(device)}")
    raise RuntimeError(
        f"cuda.set_device: glassgrad computes on the CPU only; there is no CUDA device (got {device!r}; "
        "guard the call with glassgrad.cuda.is_available())"
    )


class _NoCuda:
    """``torch.cuda.Event``/``Stream`` on a build without CUDA: the names exist, and making one
    raises PyTorch's ``RuntimeError`` (time CPU code with ``time.perf_counter`` instead)."""

    _said = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"cuda.{cls.__name__}: {cls._said} (glassgrad computes on the CPU only; there is no CUDA device)"
        )


class Event(_NoCuda):
    """A CUDA event (timing, synchronisation): there is no GPU, so making one raises."""

    _said = "Tried to instantiate dummy base class Event"


class Stream(_NoCuda):
    """A CUDA stream: there is no GPU, so making one raises."""

    _said = "torch.cuda.Stream requires CUDA support"


class CUDAGraph(_NoCuda):
    """A captured CUDA graph (named in annotations and ``isinstance`` checks): there is no GPU, so
    making one raises."""

    _said = "Tried to instantiate dummy base class CUDAGraph"


class graph(_NoCuda):  # noqa: N801 - PyTorch's name
    """``with graph(cuda_graph):`` captures CUDA work into a graph: there is no GPU, so it raises."""

    _said = "torch.cuda.graph requires CUDA support"


class StreamContext:
    """``with StreamContext(stream):`` runs its block on ``stream``: as in PyTorch without CUDA, a
    None stream makes a context that does nothing; a real stream cannot exist here."""

    def __init__(self, stream: Any) -> None:
        if stream is not None:
            raise RuntimeError(
                "cuda.StreamContext: expected stream None (glassgrad computes on the CPU only; there "
                f"is no CUDA stream), got {type(stream).__name__}"
            )
        self.stream = None

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


# ``torch.cuda.amp`` (deprecated there): ``GradScaler`` and ``autocast`` warn and disable
# themselves, there being no CUDA. Registered as a module so ``from glassgrad.cuda.amp import
# GradScaler`` works. Imported last: it needs ``is_available`` above.
from glassgrad.amp import cuda_amp as amp  # noqa: E402
from glassgrad.cuda_more import (  # noqa: E402
    current_stream,
    default_stream,
    device,
    device_of,
    get_arch_list,
    get_device_capability,
    get_device_name,
    get_device_properties,
    get_gencode_flags,
    get_rng_state,
    get_rng_state_all,
    init,
    initial_seed,
    max_memory_allocated,
    max_memory_cached,
    max_memory_reserved,
    mem_get_info,
    memory_allocated,
    memory_cached,
    memory_reserved,
    memory_stats,
    memory_stats_as_nested_dict,
    memory_summary,
    reset_accumulated_memory_stats,
    reset_max_memory_allocated,
    reset_max_memory_cached,
    reset_peak_memory_stats,
    set_rng_state,
    set_rng_state_all,
    stream,
)
from glassgrad.cuda_tensors import (  # noqa: E402
    BFloat16Tensor,
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from glassgrad.errors import OutOfMemoryError  # noqa: E402 - the same class as torch.OutOfMemoryError

sys.modules[__name__ + ".amp"] = amp
# torch.cuda.random (torchattacks' APGD/FAB/Square seed through it); imported last: it needs
# manual_seed and friends above.
from glassgrad import cuda_random as random  # noqa: E402

sys.modules[__name__ + ".random"] = random
# torch.cuda is a package: an empty search path makes this module one too, so an importer that
# maps `torch.X` onto `glassgrad.X` (an import hook) can reach `torch.cuda.amp` through it.
__path__: list[str] = []
