"""``glassgrad.onnx``: present so that scripts which ``import torch.onnx`` for an optional export
still import; glassgrad has no ONNX exporter, so :func:`export` raises. ``operators`` holds the
shape helpers models call when tracing (``shape_as_tensor``, ``reshape_from_tensor_shape``).

>>> import glassgrad.onnx
>>> glassgrad.onnx.is_in_onnx_export()
False
"""

from __future__ import annotations

from typing import Any

from glassgrad.onnx import operators  # noqa: F401 - torch.onnx.operators, as after `import torch.onnx`

__all__ = ["export", "is_in_onnx_export"]


def export(*args: Any, **kwargs: Any) -> None:
    """Not supported: glassgrad graphs are not exported to ONNX (save weights with ``gg.save``)."""
    raise NotImplementedError("onnx.export: glassgrad has no ONNX exporter; save the state_dict instead")


def is_in_onnx_export() -> bool:
    """False: glassgrad never traces for ONNX."""
    return False
