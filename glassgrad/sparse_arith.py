"""The arithmetic methods of sparse COO tensors, out of place and in place, as PyTorch's.

``sparse_tensor.py`` gives the operators (``s + t``, ``s - t``, ``-s``, ``s * x``, ``s / x``); this
module gives the same sums and products as methods (``add``/``sub`` with ``alpha``, ``div``,
``neg``) and in place (``add_``, ``sub_``, ``mul_``, ``div_``, ``neg_``, ``zero_`` and ``+=``, ``-=``,
``*=``, ``/=``), which pytorch3d's ``laplacian`` uses (``L -= sparse_coo_tensor(...)``).

In place means what it means for PyTorch's sparse tensors: the tensor object takes the result's
indices and values (cast back to its own dtype), and its version counter moves. The old values
array is never written, so a graph that saved it stays valid, and gradients reach the old values
through the new ones. A leaf that requires grad is refused, as PyTorch refuses it.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.errors import DTypeError, GraphError
from glassgrad.ops.sparse import SparseStorage, unsupported
from glassgrad.sparse_tensor import SparseTensor, _make
from glassgrad.tensor import Tensor
from glassgrad.type_promotion import can_cast, promote_types

__all__ = ["sparse_add", "sparse_sub", "sparse_div", "sparse_neg"]


def _scaled(self: SparseTensor, other: Any, alpha: Any) -> Any:
    """``alpha * other`` in the dtype of the result, as PyTorch's kernel scales: a uint8 ``other``
    scaled in uint8 wrapped (200 * 2 gave 144) before an int8 ``self`` promoted the sum to int16."""
    if alpha == 1:
        return other
    if isinstance(other, SparseTensor) and other.dtype != self.dtype:
        other = other.to(promote_types(self.dtype, other.dtype))
    return other * alpha


def sparse_add(self: SparseTensor, other: Any, *, alpha: Any = 1) -> SparseTensor:
    """``self + alpha * other`` for a sparse ``other`` of the same shape (PyTorch refuses a dense one)."""
    return self + _scaled(self, other, alpha)


def sparse_sub(self: SparseTensor, other: Any, *, alpha: Any = 1) -> SparseTensor:
    """``self - alpha * other`` for a sparse ``other`` of the same shape."""
    return self - _scaled(self, other, alpha)


def sparse_div(self: SparseTensor, other: Any, *, rounding_mode: str | None = None) -> SparseTensor:
    """``self / other`` for a number or a 0-d tensor ``other``; ``rounding_mode`` rounds the stored
    values (an unstored zero stays zero under 'trunc' and 'floor' too)."""
    if rounding_mode is None:
        return self / other
    if isinstance(other, Tensor) and other._data.ndim > 0:
        raise NotImplementedError(unsupported("div by a tensor with dims"))
    # rounding is not linear: duplicates are summed first (floor(a) + floor(b) != floor(a + b)),
    # as PyTorch's kernel coalesces; the result is coalesced
    s = self.coalesce()
    return _make(s._ix, s._vals.div(other, rounding_mode=rounding_mode), s._data.shape, True)


def sparse_neg(self: SparseTensor) -> SparseTensor:
    return -self


def _take(self: SparseTensor, result: SparseTensor, op: str) -> SparseTensor:
    """Make ``self`` hold ``result`` (in place), keeping ``self``'s dtype."""
    if self.requires_grad and self.is_leaf and _grad_state.enabled:
        raise GraphError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
            f"(sparse tensor of shape {self.shape}); do it inside glassgrad.no_grad(), or change a clone() instead"
        )
    own, got = self._data.dtype, result._vals._data.dtype
    if got != own:
        # PyTorch's canCast (type_promotion.can_cast), not NumPy's same_kind: int16 into uint8 is
        # allowed (one category), as in a dense in-place op; only a lower category is refused
        if not can_cast(result._vals.dtype, self.dtype):
            raise DTypeError(
                f"{op}: result type {result.dtype} can't be cast to the desired output type {self.dtype}"
            )
        result = _make(result._ix, result._vals.to(self.dtype), result._data.shape, result._coalesced)
    self._ix, self._vals, self._coalesced = result._ix, result._vals, result._coalesced
    self._data = SparseStorage(result._data.shape, own)
    self.requires_grad = result._vals.requires_grad
    self._vc[0] += 1
    return self


def _inplace(name: str, method: Any) -> Any:
    def inplace(self: SparseTensor, *args: Any, **kwargs: Any) -> SparseTensor:
        return _take(self, method(self, *args, **kwargs), name)

    inplace.__name__ = inplace.__qualname__ = name
    inplace.__doc__ = f"In-place ``{name[:-1]}`` of a sparse COO tensor."
    return inplace


def _mul(self: SparseTensor, other: Any) -> SparseTensor:
    return self * other


def _zero(self: SparseTensor) -> SparseTensor:
    """All zeros, no stored entries (PyTorch's ``zero_`` on a sparse tensor: nnz becomes 0)."""
    ix = self._ix[:, :0]
    vals = Tensor(self._vals._data[:0].copy(), _wrap=True)
    return _make(ix, vals, self._data.shape, True)


SparseTensor.add = sparse_add
SparseTensor.sub = SparseTensor.subtract = sparse_sub
SparseTensor.div = SparseTensor.divide = sparse_div
SparseTensor.neg = SparseTensor.negative = sparse_neg
SparseTensor.add_ = SparseTensor.__iadd__ = _inplace("add_", sparse_add)
SparseTensor.sub_ = SparseTensor.__isub__ = _inplace("sub_", sparse_sub)
SparseTensor.mul_ = SparseTensor.__imul__ = _inplace("mul_", _mul)
SparseTensor.div_ = SparseTensor.__itruediv__ = _inplace("div_", sparse_div)
SparseTensor.neg_ = _inplace("neg_", sparse_neg)
SparseTensor.zero_ = _inplace("zero_", _zero)
SparseTensor.negative_ = SparseTensor.neg_


def sparse_floor_divide(self: SparseTensor, other: Any) -> SparseTensor:
    """``s // other``: ``div`` with ``rounding_mode="floor"`` (PyTorch's ``floor_divide``)."""
    return sparse_div(self, other, rounding_mode="floor")


SparseTensor.floor_divide = SparseTensor.__floordiv__ = sparse_floor_divide
SparseTensor.floor_divide_ = SparseTensor.__ifloordiv__ = _inplace("floor_divide_", sparse_floor_divide)
