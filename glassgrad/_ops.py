"""``torch._ops``: the module that holds PyTorch's operator registry ``ops`` (``torch.ops``).

Programs import it at the top (DLRM's ``from torch._ops import ops``) and reach operators through
it only on some paths (``ops.quantized.embedding_bag_byte_prepack``). glassgrad has no registry of
ATen operators, so the namespaces exist and every operator looked up in one raises
``AttributeError`` naming it, as PyTorch does for an operator it does not have; an operator made
with ``glassgrad.library.custom_op("namespace::name", ...)`` is found there.

>>> from glassgrad._ops import ops
>>> hasattr(ops.quantized, "embedding_bag_byte_prepack")
False
"""

from __future__ import annotations

from typing import Any

__all__ = ["ops"]

# "namespace::name" -> the operator glassgrad.library.custom_op made (ops.namespace.name finds it)
CUSTOM_OPS: dict[str, Any] = {}


class _OpNamespace:
    """``ops.<namespace>``: every operator looked up here is missing."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, op: str) -> Any:
        if op.startswith("__"):
            raise AttributeError(op)
        found = CUSTOM_OPS.get(f"{self.name}::{op}")
        if found is not None and getattr(found, "_defined", lambda: True)():  # kernels alone: not an op
            return found
        raise AttributeError(
            f"ops.{self.name}.{op}: glassgrad has no registry of ATen or custom operators "
            "(torch.ops); call the glassgrad function of that name instead"
        )

    def __repr__(self) -> str:
        return f"_OpNamespace '{self.name}'"


class _Ops:
    """``torch.ops``: ``ops.<namespace>`` is an operator namespace; loading libraries is refused."""

    __name__ = "torch.ops"

    def __getattr__(self, name: str) -> _OpNamespace:
        if name.startswith("__"):
            raise AttributeError(name)
        return _OpNamespace(name)

    def load_library(self, path: str) -> None:
        raise NotImplementedError(
            f"ops.load_library: glassgrad cannot load compiled operator libraries (got {path!r})"
        )


ops = _Ops()
