"""Complex tensors in checkpoints. safetensors (since 0.7) has a complex64 dtype, ``C64``, which
``safetensors.torch.save_file`` writes for a ``cfloat`` tensor: ``save`` writes complex64 so too
where the installed safetensors has it, so that PyTorch's ``load_file`` reads a glassgrad checkpoint
of complex weights as complex64 (it read ``(..., 2)`` float32 pairs, which ``load_state_dict``
refuses), and ``load`` reads ``C64`` from either library. complex128 has no safetensors dtype: it
is written as its ``view_as_real`` floats ``(..., 2)`` (the reference marked ``"complex": true``)
and viewed as complex again on load; files written with pairs for complex64 still load."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.errors import CheckpointError

__all__ = ["real_pairs", "complex_of", "writes_complex64"]

_NATIVE: list[bool] = []  # whether the installed safetensors writes complex64 (asked once)


def writes_complex64(stn: Any) -> bool:
    """Whether ``stn`` (``safetensors.numpy``) writes a complex64 array (as ``C64``)."""
    if not _NATIVE:
        try:
            stn.save({"z": np.zeros(1, np.complex64)})
            _NATIVE.append(True)
        except Exception:  # an older safetensors: its error type differs between versions
            _NATIVE.append(False)
    return _NATIVE[0]


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
