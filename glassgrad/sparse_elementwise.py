"""Element-wise ops of sparse COO tensors that keep the zeros unstored, as PyTorch's.

- the unary ops that map 0 to 0 (``abs``, ``sqrt``, ``sin``, ``tanh``, ``floor``, ``sign``, ...) and
  ``pow`` by a nonzero number: PyTorch coalesces first (the op of a sum is not the sum of the ops)
  and applies the op to the values, so the result is coalesced; the in-place forms (``abs_``, ...)
  refuse an uncoalesced tensor with PyTorch's words;
- ``sparse * dense``: PyTorch keeps the sparse operand's stored entries as they are (uncoalesced
  ones too: the product is linear) and multiplies each by the dense entry at its position, the
  dense operand broadcast to the sparse one's shape (``s * row``, or a vector over the values'
  dense dims).

The values are computed with the dense Tensor ops, so dtypes promote and gradients reach the
values (and the dense operand) as those ops give them.
"""

from __future__ import annotations

from numbers import Number
from typing import Any

from glassgrad.ops.broadcasting import broadcast_shapes
from glassgrad.ops.sparse import unsupported
from glassgrad.sparse_arith import _take
from glassgrad.sparse_tensor import SparseTensor, _make
from glassgrad.tensor import Tensor

__all__ = ["sparse_mul_dense", "sparse_pow"]

# PyTorch's SparseCPU kernels of these map 0 to 0; bool-valued ones (isnan, signbit) keep that too
_COALESCING = (
    "abs", "sqrt", "sin", "sinh", "tan", "tanh", "asin", "asinh", "atan", "atanh", "ceil", "floor",
    "round", "trunc", "frac", "sign", "sgn", "signbit", "expm1", "log1p", "erf", "erfinv", "deg2rad",
    "rad2deg", "relu", "square", "isnan", "isinf", "isposinf", "isneginf", "nan_to_num",
)  # fmt: skip
# (no square_: PyTorch has no in-place kernel for it on sparse tensors)
_IN_PLACE = ("abs", "sqrt", "sin", "sinh", "tan", "tanh", "asin", "asinh", "atan", "atanh", "ceil",
             "floor", "round", "trunc", "frac", "sign", "sgn", "expm1", "log1p", "erf", "erfinv",
             "deg2rad", "rad2deg", "relu", "nan_to_num")  # fmt: skip


def _on_values(name: str) -> Any:
    def op(self: SparseTensor, *args: Any, **kwargs: Any) -> SparseTensor:
        s = self.coalesce()
        return _make(s._ix, getattr(s._vals, name)(*args, **kwargs), s._data.shape, True)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name}`` of the stored values, after coalescing (a coalesced sparse COO tensor)."
    return op


def _in_place(name: str) -> Any:
    out_of_place = _on_values(name)

    def op(self: SparseTensor, *args: Any, **kwargs: Any) -> SparseTensor:
        if not self._coalesced:  # PyTorch's words: an in-place op cannot coalesce its operand
            raise RuntimeError(f"{name}_ requires coalesced input")
        return _take(self, out_of_place(self, *args, **kwargs), f"{name}_")

    op.__name__ = op.__qualname__ = f"{name}_"
    op.__doc__ = f"In-place ``{name}`` of a coalesced sparse COO tensor."
    return op


def sparse_pow(self: SparseTensor, exponent: Any) -> SparseTensor:
    """``s.pow(exponent)`` / ``s ** exponent`` for a nonzero number: the coalesced values' powers."""
    if isinstance(exponent, Tensor) and exponent._data.ndim == 0:
        exponent = exponent.item()
    if not isinstance(exponent, Number):
        raise NotImplementedError(unsupported(f"pow by a {type(exponent).__name__}"))
    if exponent == 0:
        raise RuntimeError(
            "pow: cannot raise to zeroth power on sparse tensor; it would make the result tensor dense"
        )
    s = self.coalesce()
    return _make(s._ix, s._vals.pow(exponent), s._data.shape, True)


def sparse_mul_dense(self: SparseTensor, other: Tensor) -> SparseTensor:
    """``s * d`` for a dense ``d`` with dims that broadcasts to ``s``'s shape: ``s``'s entries (its
    indices and coalesced flag kept) times ``d``'s entries at their positions.

    Shape:
        ``s`` ``(*sparse, *dense)``, ``d`` broadcastable to it -> ``s``'s shape.
    """
    shape, sd = self._data.shape, self._ix.shape[0]
    out = tuple(broadcast_shapes(shape, tuple(other._data.shape)))
    if out != shape:
        raise NotImplementedError(
            unsupported(
                f"mul by a dense tensor of shape {tuple(other._data.shape)} that {shape} broadcasts to {out}"
            )
        )
    if other._data.ndim <= len(shape) - sd:  # it broadcasts over the values' dense dims alone
        factor = other
    else:  # (nnz, *dense): the dense entries at the stored positions
        factor = other.expand(shape)[tuple(self._ix)]
    return _make(self._ix, self._vals * factor, shape, self._coalesced)


for _name in _COALESCING:
    setattr(SparseTensor, _name, _on_values(_name))
for _name in _IN_PLACE:
    setattr(SparseTensor, f"{_name}_", _in_place(_name))
SparseTensor.pow = SparseTensor.__pow__ = sparse_pow
for _alias, _name in (("arcsin", "asin"), ("arcsinh", "asinh"), ("arctan", "atan"), ("arctanh", "atanh")):
    setattr(SparseTensor, _alias, getattr(SparseTensor, _name))  # PyTorch's NumPy-style aliases
    setattr(SparseTensor, f"{_alias}_", getattr(SparseTensor, f"{_name}_"))
