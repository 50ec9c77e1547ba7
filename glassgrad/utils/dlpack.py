# ruff: noqa: N815 - DLDeviceType keeps DLPack's own names (kDLCPU ...), as PyTorch
"""``torch.utils.dlpack``: tensors to and from other array libraries without a copy (the DLPack
protocol, through NumPy's support): ``from_dlpack(torch_tensor)`` views a PyTorch (or NumPy, JAX,
CuPy-on-CPU ...) tensor's memory, and ``torch.from_dlpack(gg_tensor)`` views a glassgrad tensor's.
CPU memory only, as every glassgrad tensor is."""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from glassgrad.tensor import Tensor

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (glassgrad's memory is always ``kDLCPU``)."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


class _Capsule:
    """A legacy DLPack capsule (``to_dlpack``'s result) dressed as a producer NumPy can read once."""

    def __init__(self, capsule: Any) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (int(DLDeviceType.kDLCPU), 0)


class DLPackExportError(BufferError, RuntimeError):
    """A tensor that cannot be exported: PyTorch's ``BufferError`` (what DLPack consumers such as
    NumPy expect), and a ``RuntimeError`` as glassgrad raised before."""


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor over the memory of ``ext_tensor``: an object with ``__dlpack__`` (a PyTorch or NumPy
    tensor ...) or a capsule from ``to_dlpack``. Writes through either are seen by the other."""
    source = _Capsule(ext_tensor) if type(ext_tensor).__name__ == "PyCapsule" else ext_tensor
    if not hasattr(source, "__dlpack__"):
        raise TypeError(
            f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule, got {type(ext_tensor).__name__}"
        )
    try:
        arr = np.from_dlpack(source)
    except DLPackExportError:
        raise
    except (BufferError, RuntimeError, ValueError) as e:
        raise RuntimeError(f"from_dlpack: the producer's memory cannot be viewed on the CPU: {e}") from None
    return Tensor(arr, _wrap=True)


def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule over ``tensor``'s memory (for a library that takes capsules)."""
    return tensor.__dlpack__()


def tensor_dlpack(self: Tensor, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                  copy: Any = None) -> Any:  # fmt: skip
    """``Tensor.__dlpack__``: refused for a tensor that requires grad, as PyTorch's (the consumer
    would see the values but not the graph)."""
    if self.requires_grad:
        raise DLPackExportError(
            "__dlpack__: cannot export a tensor that requires grad (the graph would be lost); export "
            "tensor.detach()"
        )
    kwargs = {
        k: v
        for k, v in (("max_version", max_version), ("dl_device", dl_device), ("copy", copy))
        if v is not None
    }
    return self._data.__dlpack__(**kwargs)


def tensor_dlpack_device(self: Tensor) -> tuple[int, int]:
    return (int(DLDeviceType.kDLCPU), 0)
