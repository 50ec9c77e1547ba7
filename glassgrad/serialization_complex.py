"""Complex tensors in checkpoints: safetensors has no complex dtype, so ``save`` writes a complex
array as its ``view_as_real`` floats ``(..., 2)`` (the reference marked ``"complex": true``) and
``load`` views them as complex again."""

from __future__ import annotations

import numpy as np

from glassgrad.errors import CheckpointError

__all__ = ["real_pairs", "complex_of"]


def real_pairs(arr: np.ndarray) -> np.ndarray:
    """A complex array's (real, imaginary) pairs: shape ``(..., 2)``, float32 or float64."""
    return (arr if arr.flags.c_contiguous else arr.copy(order="C"))[..., None].view(arr.real.dtype)


def complex_of(arr: np.ndarray, key: str, where: str) -> np.ndarray:
    """The complex array whose (real, imaginary) pairs ``arr`` (``(..., 2)`` float32/64) holds."""
    if arr.dtype.kind != "f" or arr.dtype.itemsize not in (4, 8) or arr.ndim == 0 or arr.shape[-1] != 2:
        raise CheckpointError(
            f"load: {where}: corrupted: tensor {key!r} is marked complex but is {arr.dtype} {arr.shape}, "
            "expected float32/float64 of shape (..., 2)"
        )
    return np.ascontiguousarray(arr).view(np.complex64 if arr.dtype.itemsize == 4 else np.complex128)[..., 0]
