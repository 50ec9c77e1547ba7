"""``load``'s walk over a file's JSON structure: each reference to a tensor becomes the tensor
(made once, so a tensor saved twice loads as one object), with its complex dtype, strides, sharing
(``serialization_sharing.Blocks``), ``requires_grad``, class and attributes; tags become the values
they stand for (``serialization_values.py``). Split from ``serialization.py`` (encode stays there).
"""

from __future__ import annotations

from typing import Any

from glassgrad.errors import CheckpointError
from glassgrad.safe_read import np_scalar
from glassgrad.serialization_complex import complex_of
from glassgrad.serialization_layout import restride
from glassgrad.serialization_sharing import Blocks
from glassgrad.serialization_subclass import remake
from glassgrad.serialization_values import VALUE_TAGS, decode_value
from glassgrad.serialization_values import hashable_key as _hashable
from glassgrad.tensor import Tensor

__all__ = ["Decoder"]


class Decoder:
    def __init__(
        self, arrays: dict, where: str, relocate: Any, weights_only: bool = True, blocks: Any = None
    ) -> None:
        self.arrays, self.where, self.relocate = arrays, where, relocate
        self.weights_only, self.blocks = weights_only, blocks or Blocks(None, 0, where)
        self.made: dict[str, Any] = {}  # key -> object, so a tensor stored once comes back shared

    def _array(self, node: dict, tag: str) -> Any:
        key = node[tag]
        if key not in self.arrays:
            raise CheckpointError(
                f"load: {self.where}: corrupted: the structure names tensor {key!r}, which is not in the file"
            )
        if key not in self.made:
            arr = self.arrays[key]
            if node.get("complex"):
                arr = complex_of(arr, key, self.where)
            if "strides" in node:  # a channels-last or transposed tensor keeps its layout, as PyTorch's
                arr = restride(arr, node["strides"], key, self.where)
            if tag == "__ndarray__":
                self.made[key] = arr
                return arr
            t = self.relocate(Tensor(self.blocks.place(key, arr), _wrap=True))
            if node.get("requires_grad"):
                t.requires_grad_(True)
            self.made[key] = remake(t, node, self.weights_only, self.decode, self.where)
        return self.made[key]

    def decode(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "__tensor__" in node:
            return self._array(node, "__tensor__")
        if "__ndarray__" in node:
            return self._array(node, "__ndarray__")
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__np__" in node:
            return np_scalar(node, self.where)
        if any(tag in node for tag in VALUE_TAGS):
            return decode_value(node, self.decode, _hashable, self.where, self.weights_only)
        if "__dict__" in node:
            return {_hashable(self.decode(k)): self.decode(v) for k, v in node["__dict__"]}
        return {k: self.decode(v) for k, v in node.items()}
