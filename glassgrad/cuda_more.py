"""More of ``torch.cuda`` as PyTorch's CPU build has it (re-exported by ``glassgrad.cuda``).

* Memory queries answer as there: ``memory_allocated()`` and friends are ``0`` and
  ``memory_stats()`` is an empty ``OrderedDict`` (logging code that prints them runs); the old
  ``memory_cached`` names warn ``FutureWarning`` as there. ``memory_summary()`` raises PyTorch's
  ``KeyError`` (its table reads counters an unused allocator never wrote).
* ``get_arch_list()`` is ``[]``, ``get_gencode_flags()`` ``""``, ``get_rng_state_all()`` ``[]``
  (the states of no devices); ``set_rng_state``/``set_rng_state_all`` do nothing (PyTorch queues
  them for a CUDA initialisation that never comes), so checkpoint code that saves and restores
  every generator's state runs.
* ``device(i)``, ``device_of(tensor)`` and ``stream(None)`` are context managers: selecting no
  device (``-1``, what ``device_of`` gives for a CPU tensor) or no stream does nothing; entering
  a real CUDA device raises ``RuntimeError``; a non-CUDA device is PyTorch's ``ValueError``.
* Questions only a GPU can answer (``get_device_name``, ``get_device_properties``,
  ``current_stream``, ``mem_get_info`` ...) raise ``RuntimeError`` naming the function, as
  ``current_device`` does (PyTorch's CPU build raises ``AssertionError``: "Torch not compiled
  with CUDA enabled").

>>> import glassgrad as gg
>>> gg.cuda.memory_allocated(), gg.cuda.max_memory_allocated()
(0, 0)
>>> with gg.cuda.device_of(gg.ones(2)):
...     pass
"""

from __future__ import annotations

import collections
import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = [
    "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved", "memory_stats",
    "reset_peak_memory_stats", "reset_max_memory_allocated", "reset_accumulated_memory_stats",
    "memory_summary", "memory_stats_as_nested_dict", "memory_cached", "max_memory_cached",
    "reset_max_memory_cached", "get_arch_list", "device", "device_of", "stream", "get_device_name",
    "get_device_properties", "get_device_capability", "current_stream", "default_stream", "init", "initial_seed", "get_rng_state",
    "mem_get_info", "get_rng_state_all", "set_rng_state", "set_rng_state_all", "get_gencode_flags",
]  # fmt: skip


def _no_cuda(op: str) -> RuntimeError:
    return RuntimeError(
        f"cuda.{op}: Torch not compiled with CUDA enabled (glassgrad computes on the CPU only; "
        "guard the call with glassgrad.cuda.is_available())"
    )


def memory_allocated(device: Any = None) -> int:
    """Bytes held by CUDA tensors: 0, there are none."""
    return 0


def max_memory_allocated(device: Any = None) -> int:
    """Peak bytes held by CUDA tensors: 0."""
    return 0


def memory_reserved(device: Any = None) -> int:
    """Bytes reserved by the CUDA caching allocator: 0."""
    return 0


def max_memory_reserved(device: Any = None) -> int:
    """Peak bytes reserved by the CUDA caching allocator: 0."""
    return 0


def memory_stats(device: Any = None) -> collections.OrderedDict:
    """The CUDA allocator's statistics: none, an empty ``OrderedDict`` as in PyTorch's CPU build."""
    return collections.OrderedDict()


def reset_peak_memory_stats(device: Any = None) -> None:
    """Resets the (always 0) peak-memory counters: nothing to do."""


def reset_max_memory_allocated(device: Any = None) -> None:
    """Resets the (always 0) peak of ``max_memory_allocated``: nothing to do."""


def reset_accumulated_memory_stats(device: Any = None) -> None:
    """Resets the (empty) allocator statistics: nothing to do."""


def memory_stats_as_nested_dict(device: Any = None) -> dict:
    """The allocator's statistics as nested dicts: none."""
    return {}


def memory_summary(device: Any = None, abbreviated: bool = False) -> str:
    """PyTorch's CPU build fails here (the summary reads ``allocated_bytes.all.current`` from the
    empty statistics): the same ``KeyError``, so ``except KeyError`` guards behave alike."""
    raise KeyError("allocated_bytes.all.current")


def memory_cached(device: Any = None) -> int:
    """The old name of ``memory_reserved``."""
    warnings.warn(
        "`cuda.memory_cached` has been renamed to `cuda.memory_reserved`", FutureWarning, stacklevel=2
    )
    return memory_reserved(device)


def max_memory_cached(device: Any = None) -> int:
    """The old name of ``max_memory_reserved``."""
    warnings.warn(
        "`cuda.max_memory_cached` has been renamed to `cuda.max_memory_reserved`", FutureWarning, stacklevel=2
    )
    return max_memory_reserved(device)


def reset_max_memory_cached(device: Any = None) -> None:
    """The old name of ``reset_peak_memory_stats``: nothing to reset."""
    warnings.warn(
        "cuda.reset_max_memory_cached now calls cuda.reset_peak_memory_stats, which resets /all/ peak memory stats.",
        FutureWarning,
        stacklevel=2,
    )


def get_arch_list() -> list[str]:
    """The CUDA architectures compiled in: none."""
    return []


def _index(where: Any, op: str) -> int:
    """A CUDA device index from an int, a str or a device; a non-CUDA device is a ValueError."""
    if isinstance(where, int) and not isinstance(where, bool):
        return where
    from glassgrad.device import device as _device

    d = _device(where)
    if d.type != "cuda":
        raise ValueError(f"cuda.{op}: Expected a cuda device, but got: {d}")
    return 0 if d.index is None else d.index


class device:  # noqa: N801 - PyTorch's name
    """``with cuda.device(i):`` selects CUDA device ``i`` inside the block. A negative index
    selects nothing (a no-op, as in PyTorch); any other raises ``RuntimeError`` when entered."""

    def __init__(self, device: Any) -> None:
        self.idx = None if device is None else _index(device, type(self).__name__)
        self.prev_idx = -1

    def __enter__(self) -> None:
        if self.idx is not None and self.idx < 0:
            return None
        raise RuntimeError(
            f"cuda.{type(self).__name__}: PyTorch was compiled without CUDA support (glassgrad computes "
            f"on the CPU only; got device index {self.idx})"
        )

    def __exit__(self, *exc: Any) -> bool:
        return False


class device_of(device):  # noqa: N801 - PyTorch's name
    """``with cuda.device_of(tensor):`` selects the tensor's CUDA device: a CPU tensor (every
    glassgrad tensor) has none (``idx == -1``), so the block runs unchanged."""

    def __init__(self, obj: Any) -> None:
        super().__init__(obj.get_device() if getattr(obj, "is_cuda", False) else -1)


@contextlib.contextmanager
def stream(stream: Any) -> Iterator[None]:
    """``with cuda.stream(s):``: ``None`` (no stream) does nothing; a stream cannot exist here."""
    if stream is not None:
        raise _no_cuda("stream")
    yield


def get_device_name(device: Any = None) -> str:
    raise _no_cuda("get_device_name")


def get_device_properties(device: Any = None) -> Any:
    raise _no_cuda("get_device_properties")


def get_device_capability(device: Any = None) -> tuple[int, int]:
    raise _no_cuda("get_device_capability")


def current_stream(device: Any = None) -> Any:
    raise _no_cuda("current_stream")


def default_stream(device: Any = None) -> Any:
    raise _no_cuda("default_stream")


def init() -> None:
    raise _no_cuda("init")


def initial_seed() -> int:
    raise _no_cuda("initial_seed")


def get_rng_state(device: Any = "cuda") -> Any:
    raise _no_cuda("get_rng_state")


def mem_get_info(device: Any = None) -> tuple[int, int]:
    raise _no_cuda("mem_get_info")


def get_rng_state_all() -> list[Any]:
    """Every CUDA device's generator state: none."""
    return []


def set_rng_state(new_state: Any, device: Any = "cuda") -> None:
    """Restore a CUDA generator's state: nothing to restore."""


def set_rng_state_all(new_states: Any) -> None:
    """Restore every CUDA generator's state: nothing to restore."""


def get_gencode_flags() -> str:
    """The NVCC flags compiled in: none."""
    return ""
