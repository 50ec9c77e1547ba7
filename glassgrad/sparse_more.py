"""Sparse COO pieces old and recommender-system PyTorch programs use beyond ``sparse.py``:

- ``torch.sparse.FloatTensor`` and the other legacy sparse constructors (pygcn's
  ``torch.sparse.FloatTensor(indices, values, shape)``);
- ``sparse.new(indices, values, size)`` (DLRM's row-wise sparse Adagrad builds its updates so);
- ``dense.sparse_mask(mask)``: ``dense``'s entries at ``mask``'s indices, as a sparse tensor.

The legacy constructors are deprecated in PyTorch: the first call of each form warns once with
PyTorch's ``UserWarning`` naming ``sparse_coo_tensor`` instead. Their forms (also ``new``'s) are

- ``(indices, values[, size])``: a sparse COO tensor of the values' dtype (PyTorch keeps the
  values' dtype here, whichever constructor is called); indices must be an int64 tensor;
- ``(*sizes)`` or ``(Size)``: an empty sparse tensor of that shape in the constructor's dtype;
- ``()``: an empty 1-D sparse tensor of shape ``(0,)``.

``isinstance(s, glassgrad.sparse.FloatTensor)`` holds for a sparse COO tensor of that dtype.

>>> import glassgrad as gg
>>> i = gg.tensor([[0, 1], [1, 0]])
>>> gg.sparse.FloatTensor(i, gg.tensor([1.0, 2.0]), gg.Size([2, 2])).to_dense()  # doctest: +SKIP
tensor([[0., 1.],
        [2., 0.]])
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassgrad.device import check_device
from glassgrad.sparse_tensor import SparseTensor, _make
from glassgrad.tensor import Size, Tensor, tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
    "CharTensor", "ByteTensor",
]  # fmt: skip

# PyTorch warns once per process for each form (its TORCH_WARN_ONCE), not once per call site
_WARNED: set[str] = set()
_FORMS = {
    "values": (
        "torch.sparse.SparseTensor(indices, values, *, device=)",
        "(indices, values, dtype=, device=)",
    ),
    "size": (
        "torch.sparse.SparseTensor(indices, values, shape, *, device=)",
        "(indices, values, shape, dtype=, device=)",
    ),
    "shape": ("torch.sparse.SparseTensor(shape, *, device=)", "(shape, dtype=, device=)"),
    "empty": ("torch.sparse.SparseTensor()", "((0,), dtype=)"),
}


def _deprecated(form: str) -> None:
    if form in _WARNED:
        return
    _WARNED.add(form)
    old, new = _FORMS[form]
    warnings.warn(
        f"{old} is deprecated: build the tensor with torch.sparse_coo_tensor{new}",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def _is_size(a: Any) -> bool:
    return isinstance(a, int | np.integer) and not isinstance(a, bool)


def _construct(name: str, dt: np.dtype, args: tuple, warn: bool) -> SparseTensor:
    """A legacy constructor's or ``new``'s sparse tensor from ``args`` (see the module docstring)."""
    from glassgrad.sparse import sparse_coo_tensor

    if len(args) in (2, 3) and isinstance(args[0], Tensor) and isinstance(args[1], Tensor):
        indices, values = args[0], args[1]
        if indices._data.dtype != np.int64:
            raise RuntimeError(f"{name}: indices must be an int64 tensor, got {indices._data.dtype}")
        if warn:
            _deprecated("size" if len(args) == 3 else "values")
        return sparse_coo_tensor(indices, values, *args[2:])
    if len(args) == 1 and isinstance(args[0], Size | tuple | list) and all(_is_size(a) for a in args[0]):
        shape, form = tuple(int(a) for a in args[0]), "shape"
    elif args and all(_is_size(a) for a in args):
        shape, form = tuple(int(a) for a in args), "shape"
    elif not args:
        shape, form = (0,), "empty"
    else:
        got = ", ".join(type(a).__name__ for a in args)
        raise TypeError(
            f"{name}: expected (Tensor indices, Tensor values[, size]), (*sizes) or (), got ({got})"
        )
    if warn:
        _deprecated(form)
    vals = tensor(np.zeros((0,), dtype=dt))
    return _make(np.zeros((len(shape), 0), dtype=np.int64), vals, shape, True)


def sparse_new(self: SparseTensor, *args: Any, device: Any = None) -> SparseTensor:
    """``s.new(indices, values[, size])``, ``s.new(*sizes)`` or ``s.new()``: a sparse COO tensor as
    the legacy constructors make it, in ``s``'s dtype when made from sizes (no warning, as PyTorch)."""
    check_device(device, "new")
    return _construct("new", self._data.dtype, args, warn=False)


def sparse_mask(self: Tensor, mask: Any) -> SparseTensor:
    """``dense.sparse_mask(mask)``: a sparse tensor with ``mask``'s indices (and coalesced flag)
    holding ``dense``'s entries there, in ``dense``'s dtype; differentiable w.r.t. ``dense``.

    Shape:
        ``dense`` and ``mask`` of one shape ``(*sparse, *dense_dims)`` -> that shape.
    """
    if not isinstance(mask, SparseTensor):
        raise NotImplementedError(
            f"sparse_mask: expected a sparse COO mask, got a {type(mask).__name__} of layout "
            f"{getattr(mask, 'layout', 'strided')}"
        )
    if tuple(self.shape) != tuple(mask._data.shape):
        raise RuntimeError(
            f"sparse_mask(): operands have incompatible sizes; self has size {list(self.shape)} but mask "
            f"has size {list(mask._data.shape)}"
        )
    return _make(mask._ix, self[tuple(mask._ix)], tuple(mask._data.shape), mask._coalesced)


class _SparseTypedTensor(type):
    """A legacy sparse constructor (see the module docstring); also usable in ``isinstance``."""

    def __call__(cls, *args: Any, device: Any = None) -> SparseTensor:
        check_device(device, f"sparse.{cls.__name__}")
        return _construct(f"sparse.{cls.__name__}", cls.np_dtype, args, warn=True)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, SparseTensor) and obj._data.dtype == cls.np_dtype


def _typed(name: str, dt: Any) -> type:
    doc = f"Legacy constructor of sparse COO tensors ({np.dtype(dt)} when made from sizes)."
    return _SparseTypedTensor(
        name, (), {"np_dtype": np.dtype(dt), "__doc__": doc, "__module__": "glassgrad.sparse"}
    )


FloatTensor = _typed("FloatTensor", np.float32)
DoubleTensor = _typed("DoubleTensor", np.float64)
HalfTensor = _typed("HalfTensor", np.float16)
LongTensor = _typed("LongTensor", np.int64)
IntTensor = _typed("IntTensor", np.int32)
ShortTensor = _typed("ShortTensor", np.int16)
CharTensor = _typed("CharTensor", np.int8)
ByteTensor = _typed("ByteTensor", np.uint8)

# A dense tensor's method (SparseTensor refuses it by name, as it does every method it lacks).
Tensor.sparse_mask = sparse_mask


def _sparse_matrix_transpose(self: SparseTensor) -> SparseTensor:
    """``s.mT``: the last two (sparse) dims swapped, as PyTorch's (linear_operator's sparse
    interpolation matrices in the backward of its ``DSMM``)."""
    return self.transpose(-2, -1)


SparseTensor.mT = property(_sparse_matrix_transpose)  # (named in sparse_tensor's _ALLOWED: not refused)


def _mark_coalesced(self: SparseTensor, coalesced: bool) -> SparseTensor:
    """``s._coalesced_(flag)``: set the flag ``is_coalesced()`` reports, in place, and return ``s``
    (PyTorch's private setter; PyTorch Geometric marks the COO adjacencies it builds sorted)."""
    if not isinstance(coalesced, bool):
        raise TypeError(f"_coalesced_: expected coalesced to be a bool, got {type(coalesced).__name__}")
    self._coalesced = coalesced
    return self


SparseTensor._coalesced_ = _mark_coalesced  # private name: not refused by SparseTensor's __getattribute__


def _is_nonzero(self: SparseTensor) -> bool:
    """``s.is_nonzero()`` / ``bool(s)`` of a one-element sparse tensor: its coalesced value (stored
    duplicates summed first, as PyTorch's: ``-1`` and ``1`` at one position are False)."""
    if self._data.size != 1:
        what = "with no values" if self._data.size == 0 else f"with {self._data.size} values"
        raise RuntimeError(
            f"is_nonzero: Boolean value of Tensor {what} is ambiguous (shape {tuple(self.shape)})"
        )
    vals = self.coalesce()._vals._data
    return bool(vals.reshape(-1)[0]) if vals.size else False


def _no_setitem(self: SparseTensor, key: Any, value: Any) -> None:
    raise TypeError(
        "'SparseTensor' object does not support item assignment (PyTorch's sparse COO tensors do not "
        "either): write into .to_dense(), or build a new tensor with sparse_coo_tensor"
    )


SparseTensor.is_nonzero = SparseTensor.__bool__ = _is_nonzero
SparseTensor.__setitem__ = _no_setitem
