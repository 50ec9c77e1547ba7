"""``torch.multiprocessing`` for glassgrad: Python's ``multiprocessing``, plus tensors in shared
memory, so that Hogwild-style training (``model.share_memory()``, then worker processes that
update the same weights in place) works as in PyTorch.

``t.share_memory_()`` moves a tensor's array into a block of shared memory (a ``multiprocessing``
heap buffer: an mmap of an unlinked file that child processes receive as a file descriptor).
When such a tensor, or a view of it, is pickled by ``multiprocessing`` (``Process`` arguments,
``Queue.put``; spawn, forkserver and fork start methods alike), the child gets a tensor over the
same memory instead of a copy, so in-place updates (``optimizer.step()``) are seen by every
process. Tensors that were not shared are copied, as ordinary pickling does.

Departures from PyTorch: PyTorch also moves an unshared tensor into shared memory when it is
sent through a ``Queue``; here only tensors shared with ``share_memory_()`` (or
``Module.share_memory()``) are sent by reference. ``share_memory_()`` gives the tensor a new
array, and NumPy cannot move the memory under arrays that already view the old one (PyTorch moves
the storage under them): a view, a ``detach()``, ``.data``, a NumPy array (``numpy()``, the array
given to ``from_numpy``) still alive, or a graph that saved the tensor, would silently keep the old memory and miss every later update, so
``share_memory_()`` refuses (``GraphError``) while any of them is alive; share first, slice
after. A shared tensor (here or in a child) is marked as sharing its memory, so an in-place op
recorded by autograd is refused (``GraphError``) rather than silently giving it a new, unshared
array; PyTorch writes it in place. Gradients are not shared (``.grad`` is made lazily in each
process, as in PyTorch). PyTorch's two CPU sharing strategies are accepted and reported back;
both send memory as a file descriptor here.

>>> import glassgrad as gg
>>> t = gg.ones(3)
>>> t.is_shared()
False
>>> t.share_memory_().is_shared(), t.tolist()
(True, [1.0, 1.0, 1.0])
"""

from __future__ import annotations

import multiprocessing as _mp
import sys
import weakref
from multiprocessing import heap as _heap
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

from glassgrad.dtypes import note_complex
from glassgrad.errors import GraphError
from glassgrad.multiprocessing_spawn import ProcessContext as ProcessContext
from glassgrad.multiprocessing_spawn import ProcessExitedException as ProcessExitedException
from glassgrad.multiprocessing_spawn import ProcessRaisedException as ProcessRaisedException
from glassgrad.multiprocessing_spawn import spawn as spawn
from glassgrad.multiprocessing_spawn import start_processes as start_processes
from glassgrad.tensor import Tensor

_OWN = [
    "share_memory_",
    "is_shared",
    "get_sharing_strategy",
    "set_sharing_strategy",
    "get_all_sharing_strategies",
    "spawn",
    "start_processes",
    "ProcessContext",
    "ProcessRaisedException",
    "ProcessExitedException",
]
__all__ = _OWN + [n for n in _mp.__all__ if n not in _OWN]

# Python's multiprocessing API under this module, as torch.multiprocessing does.
globals().update({n: getattr(_mp, n) for n in _mp.__all__})

# id(root array) -> (the heap buffer it lives in, its start address). The root is the first
# ndarray over the buffer's memoryview; an entry goes when that array is garbage collected.
_SHARED: dict[int, tuple[Any, int]] = {}


def _root(arr: np.ndarray) -> np.ndarray:
    """The array at the bottom of ``arr``'s chain of views (``arr`` itself if it owns its memory)."""
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _address(arr: np.ndarray) -> int:
    return arr.__array_interface__["data"][0]


def _register(root: np.ndarray, wrapper: Any) -> None:
    key = id(root)
    _SHARED[key] = (wrapper, _address(root))
    weakref.finalize(root, _SHARED.pop, key, None)


def _shared_block(arr: np.ndarray) -> tuple[Any, int] | None:
    """The heap buffer holding ``arr`` and ``arr``'s byte offset in it, or None."""
    root = _root(arr)
    entry = _SHARED.get(id(root))
    if entry is None:
        return None
    wrapper, start = entry
    return wrapper, _address(arr) - start


def is_shared(t: Tensor) -> bool:
    """Whether ``t``'s memory is in shared memory (after ``share_memory_()``, or received so)."""
    return _shared_block(t._data) is not None


class _Held:
    """An object holding one array in a slot, as a Tensor holds its ``_data``."""

    __slots__ = ("_data",)


def _refcounts(arr: np.ndarray) -> tuple[int, int]:
    """``sys.getrefcount`` of ``arr`` and of the array it views (0 if it owns its memory)."""
    return sys.getrefcount(arr), (sys.getrefcount(arr.base) if isinstance(arr.base, np.ndarray) else 0)


def _unaliased_refcounts() -> tuple[int, int]:
    """What ``_refcounts(t._data)`` reads for a view held by one slot only, its base by nothing
    else: measured, not assumed, since the interpreter's own counting differs between versions."""
    held = _Held()
    held._data = np.empty(2)[:1]
    return _refcounts(held._data)


_UNALIASED = _unaliased_refcounts()


def _sole_base() -> int:
    """What ``sys.getrefcount(t._base)`` reads in ``share_memory_`` when only ``t`` holds its base."""
    view = Tensor(np.empty(2), _wrap=True)[:1]
    return sys.getrefcount(view._base)


_SOLE_BASE = _sole_base()


def share_memory_(t: Tensor) -> Tensor:
    """Move ``t``'s array into shared memory (no-op if it is there already); returns ``t``.

    Raises ``GraphError`` while something else holds the old memory (see the module docstring):
    after the move it would silently keep the old values and miss every update.
    """
    if _shared_block(t._data) is not None:
        return t
    own, base = _refcounts(t._data)
    # a view keeps its base tensor (PyTorch's ._base): when nothing else holds that base, the
    # base's own hold on the memory does not count, and the moved tensor stops being its view
    lone_root = (
        t._base is not None and sys.getrefcount(t._base) <= _SOLE_BASE and t._base._data is t._data.base
    )
    if lone_root:
        base -= 1
    if own > _UNALIASED[0] or base > _UNALIASED[1]:
        raise GraphError(
            f"share_memory_: expected a tensor whose memory nothing else holds, got one of shape "
            f"{tuple(t.shape)} that a view, detach(), .data, a NumPy array (numpy(), from_numpy) or a "
            "saved graph still holds; they would keep the old memory and miss every update (PyTorch "
            "moves the views, NumPy cannot): call share_memory_() before taking them"
        )
    arr = t._data
    _register_reducers()
    wrapper = _heap.BufferWrapper(max(arr.nbytes, 1))
    root = np.frombuffer(wrapper.create_memoryview(), dtype=np.uint8, count=max(arr.nbytes, 1))
    _register(root, wrapper)
    new = root[: arr.nbytes].view(arr.dtype).reshape(arr.shape)  # C layout, same values
    new[...] = arr
    t._data = new
    t._vc[1] = True  # the memory is shared: a recorded in-place op must not swap in a new array
    if lone_root:
        t._base = None
    return t


def _extra_state(t: Tensor) -> dict[str, Any]:
    """What a Tensor subclass adds (its own slots and ``__dict__``), to rebuild it in the child."""
    state: dict[str, Any] = dict(getattr(t, "__dict__", {}))
    for cls in type(t).__mro__:
        if cls is Tensor:
            break
        for name in getattr(cls, "__slots__", ()):
            if hasattr(t, name):
                state[name] = getattr(t, name)
    return state


def _rebuild(
    cls: type,
    wrapper: Any,
    offset: int,
    shape: tuple,
    dtype: str,
    strides: tuple,
    requires_grad: bool,
    state: dict,
) -> Tensor:
    mv = wrapper.create_memoryview()
    root = np.frombuffer(mv, dtype=np.uint8)
    _register(root, wrapper)
    arr = np.ndarray(shape, dtype=np.dtype(dtype), buffer=root, offset=offset, strides=strides)
    if arr.dtype.kind == "c":
        note_complex()  # complex data in this process: Function.apply's complex gate judges every op
    t = cls.__new__(cls)
    Tensor.__init__(t, arr, _wrap=True)
    t._vc[1] = True  # shared with the sender: a recorded in-place op must not swap the array
    for name, value in state.items():
        object.__setattr__(t, name, value)
    t.requires_grad = requires_grad
    return t


def _reduce_tensor(t: Tensor) -> Any:
    block = _shared_block(t._data)
    if block is None:
        return t.__reduce_ex__(2)  # not shared: pickled by value, as ordinary pickling does
    if t._node is not None and t.requires_grad:
        raise GraphError(
            "multiprocessing: expected a leaf tensor to send to another process, got one that is "
            "the output of recorded ops (requires_grad); send .detach() instead"
        )
    wrapper, offset = block
    arr = t._data
    return _rebuild, (
        type(t),
        wrapper,
        offset,
        arr.shape,
        arr.dtype.str,
        arr.strides,
        t.requires_grad,
        _extra_state(t),
    )


_REGISTERED: set[type] = set()


def _register_reducers() -> None:
    """ForkingPickler dispatches on the exact type: register Tensor and every subclass known now."""
    stack = [Tensor]
    while stack:
        cls = stack.pop()
        if cls not in _REGISTERED:
            ForkingPickler.register(cls, _reduce_tensor)
            _REGISTERED.add(cls)
        stack.extend(cls.__subclasses__())


_register_reducers()


_STRATEGIES = ("file_descriptor", "file_system")
_strategy = ["file_descriptor"]


def get_sharing_strategy() -> str:
    """The strategy last set (``"file_descriptor"`` by default)."""
    return _strategy[0]


def get_all_sharing_strategies() -> set[str]:
    """PyTorch's CPU strategies. Scripts switch to ``"file_system"`` to stay under the limit on
    open file descriptors; here each shared tensor holds one descriptor whichever is chosen."""
    return set(_STRATEGIES)


def set_sharing_strategy(new_strategy: str) -> None:
    """Record ``"file_descriptor"`` or ``"file_system"``; refuse any other name."""
    if new_strategy not in _STRATEGIES:
        raise ValueError(f"set_sharing_strategy: expected one of {sorted(_STRATEGIES)}, got {new_strategy!r}")
    _strategy[0] = new_strategy
