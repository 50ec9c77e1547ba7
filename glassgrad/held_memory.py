"""Memory that NumPy arrays outside glassgrad hold: PyTorch's non-resizable storages.

``torch.from_numpy(a)`` (and ``as_tensor``/``asarray``/``frombuffer`` when they share), and a
tensor whose ``.numpy()`` was taken, sit on a storage PyTorch will not grow: ``resize_`` past its
end raises "Trying to resize storage that is not resizable". glassgrad grows a tensor by giving it
a new array, which would silently cut it off from the array the program still holds (writes to
one no longer reach the other), so it refuses the same growth. The memory is recorded by the array
owning it (the end of the view chain), weakly: a record goes when that array does.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from glassgrad.ops.as_strided import memory_root

__all__ = ["hold", "is_held", "refuse_growth"]

_HELD: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # id(owner) -> owner


def hold(a: Any) -> None:
    """Record that an array outside glassgrad shares ``a``'s memory (``a``: an ndarray)."""
    if isinstance(a, np.ndarray):
        root = memory_root(a)
        _HELD[id(root)] = root


def is_held(a: Any) -> bool:
    """Whether ``a``'s memory was recorded by :func:`hold` (through any view of it)."""
    if not isinstance(a, np.ndarray):
        return False
    root = memory_root(a)
    return _HELD.get(id(root)) is root


def refuse_growth(op: str, a: Any, elements: int) -> None:
    """PyTorch's refusal to grow a non-resizable storage, for ``op`` asking ``elements`` of ``a``'s
    dtype past what its memory holds."""
    if is_held(a):
        raise RuntimeError(
            f"{op}: Trying to resize storage that is not resizable: {elements} elements of "
            f"{a.dtype} need more memory than the NumPy array it shares (from_numpy, .numpy()) holds; "
            "resize a clone()"
        )
