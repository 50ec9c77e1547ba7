"""The array-module seam.

Ops never call ``numpy`` on tensor data directly; they ask for the module that owns the arrays
(``xp = array_module(a)``). Today that is always NumPy; a GPU backend (CuPy) can later be returned
here without touching any op.
"""

from __future__ import annotations

import numpy as np

__all__ = ["array_module", "np_module", "to_numpy", "ndarray", "asarray"]

np_module = np
#: The array type ops return; NumPy reductions hand back scalars that are turned into 0-d arrays.
ndarray = np.ndarray
asarray = np.asarray


def array_module(*arrays: object):
    """Return the array module (``numpy`` today) that the given arrays belong to."""
    return np


def to_numpy(a: object) -> np.ndarray:
    """Return ``a`` as a host NumPy array (a no-op for NumPy arrays)."""
    return np.asarray(a)
