"""``torch.fx.passes.shape_prop``: ``ShapeProp`` runs a GraphModule and records each node's
result as ``node.meta['tensor_meta']`` (a ``TensorMetadata``) and ``node.meta['type']``."""

from __future__ import annotations

from typing import Any, NamedTuple

from glassgrad.fx.interpreter import Interpreter
from glassgrad.fx.node import Node, map_aggregate

__all__ = ["ShapeProp", "TensorMetadata"]


class TensorMetadata(NamedTuple):
    shape: Any
    dtype: Any
    requires_grad: bool
    stride: tuple
    memory_format: Any
    is_quantized: bool
    qparams: dict


def _extract_tensor_metadata(result: Any) -> TensorMetadata:
    import glassgrad

    memory_format = None
    for fmt in (glassgrad.contiguous_format, glassgrad.channels_last, glassgrad.channels_last_3d):
        try:
            if result.is_contiguous(memory_format=fmt):
                memory_format = fmt
                break
        except (RuntimeError, ValueError):
            continue
    return TensorMetadata(
        result.shape, result.dtype, result.requires_grad, result.stride(), memory_format, False, {}
    )


class ShapeProp(Interpreter):
    """``ShapeProp(gm).propagate(*example_inputs)``: run ``gm``, noting each node's result."""

    def __init__(self, gm: Any, fake_mode: Any = None) -> None:
        super().__init__(gm)

    def run_node(self, n: Node) -> Any:
        from glassgrad.tensor import Tensor

        result = super().run_node(n)
        found = False

        def extract(obj: Any) -> Any:
            nonlocal found
            if isinstance(obj, Tensor):
                found = True
                return _extract_tensor_metadata(obj)
            return obj

        meta = map_aggregate(result, extract)
        if found:
            n.meta["tensor_meta"] = meta
        n.meta["type"] = type(result)
        return result

    def propagate(self, *args: Any) -> Any:
        return super().run(*args)
