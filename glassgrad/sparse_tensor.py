"""Sparse COO tensors: ``SparseTensor``, ``sparse_coo_tensor``, the layouts and the sparse products.

A ``SparseTensor`` stores an int64 ``(sparse_dim, nnz)`` index array and a values Tensor
``(nnz, *dense_dims)``; it never holds the dense array. It is a ``Tensor`` subclass (so
``isinstance(s, Tensor)`` holds, as in PyTorch, and ``dense + s`` / ``dense @ s`` reach its reflected
operators first), but its ``_data`` slot holds an ``ops.sparse.SparseStorage``: it answers ``shape``/``dtype``
and refuses every array operation. A dense op handed a sparse tensor therefore raises
``NotImplementedError`` naming the op instead of computing on the values or densifying silently.

Autograd runs through the values Tensor: the ops of ``ops/sparse.py`` take the values as their
input, so gradients reach the values (and, for a leaf sparse tensor, its ``.grad`` is a sparse
tensor with the leaf's coalesced indices).
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import named
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops.sparse import (
    SparseCoalesce,
    SparseMM,
    SparseStorage,
    SparseToDense,
    coalesce_index,
    unsupported,
)
from glassgrad.sparse_spgemm import spgemm
from glassgrad.tensor import Tensor, tensor
from glassgrad.torch_function import _disabled_torch_function_impl

__all__ = ["Layout", "strided", "sparse_coo", "SparseTensor", "sparse_matmul"]


class Layout:
    """A tensor layout, ``glassgrad.strided`` (dense) or ``glassgrad.sparse_coo``, as PyTorch's."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"glassgrad.{self._name}"

    __str__ = __repr__

    def __eq__(self, other: Any) -> bool:  # the old string value "strided" still compares equal
        return other is self or (isinstance(other, str) and other in (self._name, repr(self)))

    def __hash__(self) -> int:
        return hash(self._name)


strided = Layout("strided")
sparse_coo = Layout("sparse_coo")


def _make(ix: Any, vals: Tensor, size: tuple, coalesced: bool) -> SparseTensor:
    out = SparseTensor.__new__(SparseTensor)
    out._vc = [0, False]
    out._base = out._views = None
    out._data = SparseStorage(size, vals._data.dtype)
    out._grad = None
    out._node = None
    out._hooks = None
    out.name = None
    out.requires_grad = vals.requires_grad
    out._ix = ix
    out._vals = vals
    out._coalesced = coalesced
    return out


def _unique(s: SparseTensor) -> tuple:
    """(coalesced indices, first stored entry of each, inverse map), in PyTorch's row-major order."""
    return coalesce_index(s._ix, s._data.shape[: s._ix.shape[0]])


class _NoNumpyError(TypeError, NotImplementedError):
    """A sparse tensor has no NumPy array: PyTorch's ``TypeError``."""


_NO_NUMPY = (
    "can't convert Sparse layout tensor to numpy (a conversion to a NumPy array is not supported for "
    "sparse COO tensors). Use Tensor.to_dense() first."
)


class SparseTensor(Tensor):
    """A sparse COO tensor; make one with ``glassgrad.sparse_coo_tensor`` or ``dense.to_sparse()``.

    Shape:
        ``indices()`` ``(sparse_dim, nnz)`` int64, ``values()`` ``(nnz, *dense_dims)``; the tensor's
        ``shape`` is ``(*sparse_sizes, *dense_dims)``.
    """

    __slots__ = ("_coalesced", "_ix", "_vals")
    __torch_function__ = _disabled_torch_function_impl  # ops give plain Tensors, as PyTorch's
    is_sparse = True

    def __getattribute__(self, name: str) -> Any:
        # A Tensor method not redefined here would run on the storage stub: refused, as PyTorch's (no kernel).
        if name[0] != "_" and name not in _OWN and name not in _ALLOWED and hasattr(Tensor, name):
            raise NotImplementedError(unsupported(name))
        return object.__getattribute__(self, name)

    # ------------------------------------------------------------ structure
    @property
    def layout(self) -> Layout:
        return sparse_coo

    def sparse_dim(self) -> int:
        return int(self._ix.shape[0])

    def dense_dim(self) -> int:
        return self._data.ndim - int(self._ix.shape[0])

    def _nnz(self) -> int:
        return int(self._ix.shape[1])

    def is_coalesced(self) -> bool:
        return self._coalesced

    def _indices(self) -> Tensor:
        return Tensor(self._ix, _wrap=True)

    def _values(self) -> Tensor:
        return self._vals

    def indices(self) -> Tensor:
        if not self._coalesced:
            raise RuntimeError("indices: expected a coalesced sparse tensor; call .coalesce() first")
        return Tensor(self._ix, _wrap=True)

    def values(self) -> Tensor:
        if not self._coalesced:
            raise RuntimeError("values: expected a coalesced sparse tensor; call .coalesce() first")
        return self._vals

    def coalesce(self) -> SparseTensor:
        """Sort the entries row-major and sum duplicates (differentiable w.r.t. the values)."""
        if self._coalesced:
            return self
        ix, _, inverse = _unique(self)
        vals = SparseCoalesce.apply(self._vals, inverse=inverse, n=int(ix.shape[1]))
        return _make(ix, vals, self._data.shape, True)

    def to_dense(self, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
        out = SparseToDense.apply(
            self._vals, index=tuple(self._ix), shape=self._data.shape, nnz=self._ix.shape[1]
        )
        return out if dtype is None else out.to(dtype)

    def new(self, *args: Any, device: Any = None) -> SparseTensor:
        from glassgrad.sparse_more import sparse_new  # (it builds on this module)

        return sparse_new(self, *args, device=device)

    def to_sparse(self, *args: Any, **kwargs: Any) -> SparseTensor:
        return self

    # ------------------------------------------------------------ autograd and conversion
    @property
    def grad(self) -> SparseTensor | None:
        """The values' gradient as a sparse tensor with this tensor's coalesced indices (PyTorch
        also returns the gradient of a sparse leaf as a coalesced sparse tensor)."""
        g = self._vals.grad
        return None if g is None else self._grad_of_values(g)

    def _grad_of_values(self, g: Tensor) -> SparseTensor:
        """The sparse gradient whose values' gradient is ``g`` (also for ``autograd.grad``)."""
        if self._coalesced:
            return _make(self._ix, g, self._data.shape, True)
        ix, first, _ = _unique(self)
        # Every stored copy of a position gets the same gradient (d loss / d that dense entry).
        return _make(ix, Tensor(g._data[first], _wrap=True), self._data.shape, True)

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            raise TypeError("grad: a sparse tensor's .grad can only be set to None")
        self._vals.grad = None

    @property
    def is_leaf(self) -> bool:
        return self._vals.is_leaf

    @property
    def grad_fn(self) -> Any:
        return self._vals.grad_fn

    def requires_grad_(self, requires_grad: bool = True) -> SparseTensor:
        if requires_grad and not self._vals.requires_grad:
            # The values may be the caller's tensor: switch on a leaf of our own (same memory and
            # version counter), so that tensor neither requires grad nor shares our .grad.
            self._vals = self._vals.detach()
        self._vals.requires_grad_(requires_grad)
        self.requires_grad = self._vals.requires_grad
        return self

    def detach(self) -> SparseTensor:
        return _make(self._ix, self._vals.detach(), self._data.shape, self._coalesced)

    @property
    def data(self) -> SparseTensor:  # e.g. ``p.grad.data`` of Embedding(sparse=True): as detach()
        return self.detach()

    def clone(self) -> SparseTensor:
        return _make(self._ix.copy(), self._vals.clone(), self._data.shape, self._coalesced)

    def to(self, *args: Any, **kwargs: Any) -> SparseTensor:
        vals = self._vals.to(*args, **kwargs)
        return self if vals is self._vals else _make(self._ix, vals, self._data.shape, self._coalesced)

    def cpu(self) -> SparseTensor:
        return self

    def numpy(self, *, force: bool = False) -> Any:
        # PyTorch's TypeError, force or not (a NotImplementedError too, as the other refusals here)
        raise _NoNumpyError(f"numpy: {_NO_NUMPY}")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise _NoNumpyError(f"__array__: {_NO_NUMPY}")

    # s[int], select, unbind, index_select, cat / stack and sparse * sparse: sparse_structure.py

    # ------------------------------------------------------------ shape ops and arithmetic
    def transpose(self, dim0: int, dim1: int) -> SparseTensor:
        sd = self._ix.shape[0]
        d0, d1 = dim0 % self._data.ndim, dim1 % self._data.ndim
        if d0 >= sd or d1 >= sd:
            raise NotImplementedError(unsupported("transpose of a dense dim"))
        order = list(range(sd))
        order[d0], order[d1] = order[d1], order[d0]
        size = list(self._data.shape)
        size[d0], size[d1] = size[d1], size[d0]
        keep = self._coalesced and (d0 == d1 or self._ix.shape[1] == 0)  # PyTorch's: order unchanged
        return _make(self._ix[order], self._vals, tuple(size), keep)

    def t(self) -> SparseTensor:
        if self._data.ndim > 2:
            raise ShapeError(f"t: expected a tensor with at most 2 dims, got shape {self._data.shape}")
        return self if self._data.ndim < 2 else self.transpose(0, 1)

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        if keepdim:
            raise NotImplementedError(unsupported("sum(keepdim=True)"))
        from glassgrad.sparse import sparse_sum  # the namespace builds on this module

        return sparse_sum(self, dim, dtype=dtype)

    def mm(self, mat2: Any) -> Tensor:
        return sparse_matmul(self, mat2)

    matmul = mm

    def __matmul__(self, other: Any) -> Tensor:
        return sparse_matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return sparse_matmul(other, self)

    def __neg__(self) -> SparseTensor:
        return _make(self._ix, -self._vals, self._data.shape, self._coalesced)

    def __mul__(self, other: Any) -> SparseTensor:
        # sparse * (sparse or dense with dims): sparse_structure.py's wrapper of this method
        if isinstance(other, Tensor) and other._data.ndim > 0:
            raise NotImplementedError(unsupported("mul by a tensor with dims"))
        if self._vals._data.size == 0:  # no stored element: PyTorch keeps no entry (nnz 0, coalesced)
            return _make(
                self._ix[:, :0], named((self._vals * other)[:0], "MulBackward0"), self._data.shape, True
            )
        return _make(self._ix, self._vals * other, self._data.shape, self._coalesced)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> SparseTensor:
        if isinstance(other, Tensor) and other._data.ndim > 0:
            raise NotImplementedError(unsupported("div by a tensor with dims"))
        return _make(self._ix, self._vals / other, self._data.shape, self._coalesced)

    def __add__(self, other: Any) -> Tensor:
        if not isinstance(other, SparseTensor):
            raise NotImplementedError(unsupported("add(sparse, dense or number); write dense + sparse"))
        from glassgrad.sparse_merge import merge_add, relaid_empty  # PyTorch's merge walk of the entry lists

        if other._data.shape == self._data.shape and other._ix.shape[0] != self._ix.shape[0]:
            self, other = relaid_empty(self, other)
        if other._data.shape != self._data.shape or other._ix.shape[0] != self._ix.shape[0]:
            raise ShapeError(f"add: expected sparse tensors of one shape, got {self.shape} and {other.shape}")
        a, b = self._vals, other._vals
        if a._data.dtype != b._data.dtype:  # promoted as PyTorch (read off an empty dense add)
            xp = array_module(a._data)
            empty = [Tensor(xp.zeros(0, dtype=v._data.dtype), _wrap=True) for v in (a, b)]
            dt = (empty[0] + empty[1]).dtype
            a, b = a.to(dt), b.to(dt)
        both = self._coalesced and other._coalesced  # the sum of two coalesced tensors is coalesced
        sizes = self._data.shape[: self._ix.shape[0]]
        ix, vals = merge_add(self._ix, a, other._ix, b, sizes, both)
        return _make(ix, named(vals, "AddBackward0"), self._data.shape, both)  # PyTorch's node name

    def __radd__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other._data.ndim > 0:
            return other + self.dense_operand(other, "add")  # dense + sparse is dense, as PyTorch
        raise NotImplementedError(unsupported("add(number, sparse)"))

    def dense_operand(self, dense: Tensor, op: str) -> Tensor:
        """This tensor densified as ``dense``'s operand in ``op``: PyTorch does not broadcast there."""
        if tuple(dense.shape) != tuple(self._data.shape):
            raise ShapeError(
                f"{op}: expected 'self' and 'other' to have same size, but self has size {list(dense.shape)} "
                f"while other has size {list(self._data.shape)} (dense-sparse {op} does not broadcast)"
            )
        return self.to_dense()

    def __sub__(self, other: Any) -> Tensor:
        if not isinstance(other, SparseTensor):
            raise NotImplementedError(unsupported("sub(sparse, dense or number)"))
        b = other._vals
        if b._data.dtype != self._vals._data.dtype:
            # other's values in the common dtype before they are negated: -x of a uint8 wraps (x
            # int8, y uint8: x - y gave x + (256 - y)), as a dense subtraction does not
            xp = array_module(b._data)
            empty = [Tensor(xp.zeros(0, dtype=v._data.dtype), _wrap=True) for v in (self._vals, b)]
            other = _make(other._ix, b.to((empty[0] - empty[1]).dtype), other._data.shape, other._coalesced)
        out = self + (-other)
        named(out._vals, "SubBackward0")  # one node, as PyTorch's
        return out

    def __rsub__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other._data.ndim > 0:
            return other - self.dense_operand(other, "sub")
        raise NotImplementedError(unsupported("sub(number, sparse)"))

    # ------------------------------------------------------------ printing
    def __repr__(self) -> str:
        from glassgrad.sparse_repr import sparse_repr  # the layout and wrapping: sparse_repr.py

        return sparse_repr(self)

    __str__ = __repr__


_OWN = vars(SparseTensor)  # a live view: the methods sparse_structure.py attaches are own too
# The dtype casts only call ``self.to(dtype)`` (reaching our ``to``); the is_* read the dtype or device.
_ALLOWED = frozenset(("shape", "dtype", "device", "is_cuda", "get_device", "ndim", "size", "dim", "numel",
                      "element_size", "requires_grad", "name", "is_floating_point", "float", "double", "half",
                      "bfloat16", "long", "int", "short", "char", "byte", "bool", "type_as", "is_sparse_csr",
                      "is_mkldnn", "is_quantized", "is_meta", "is_nested", "is_cpu", "is_complex", "is_xpu",
                      "is_mps", "is_ipu", "is_vulkan", "is_signed", "ndimension", "nelement", "mT"))  # fmt: skip


def sparse_matmul(a: Any, b: Any, op: str = "matmul") -> Tensor:
    """sparse @ dense and dense @ sparse (2-D sparse, 1-D or 2-D dense) from the nonzeros; sparse @ sparse."""
    a_sp, b_sp = isinstance(a, SparseTensor), isinstance(b, SparseTensor)
    if a_sp and b_sp:
        return spgemm(a, b, op)
    if b_sp:  # d @ S = (S^T @ d^T)^T
        if not isinstance(a, Tensor):
            a = tensor(a)
        out = sparse_matmul(b.t(), a.t() if a._data.ndim == 2 else a, op).t()
        return named(out, "MmBackward0") if a._data.ndim == 2 else out  # PyTorch's node name
    if not isinstance(b, Tensor):
        b = tensor(b)
    if a._data.ndim == 3 and a._ix.shape[0] == 3 and b._data.ndim == 3:  # bmm: one product per batch
        from glassgrad.sparse_products import sparse_bmm  # (it builds on this module)

        return sparse_bmm(a, b)
    if a._data.ndim != 2 or a._ix.shape[0] != 2 or b._data.ndim not in (1, 2):
        raise ShapeError(
            f"{op}: expected a 2-D sparse matrix and a 1-D or 2-D dense operand, got {a._data.shape} and {b._data.shape}"
        )
    if a._data.shape[1] != b._data.shape[0]:
        raise ShapeError(f"{op}: expected (n, k) @ (k, m), got {a._data.shape} @ {tuple(b._data.shape)}")
    if a._vals._data.dtype != b._data.dtype:
        raise DTypeError(f"{op}: expected operands of one dtype, got {a.dtype} and {b.dtype}")
    col = b._data.ndim == 1
    d = b.reshape(-1, 1) if col else b  # (k,) -> (k, 1)
    out = SparseMM.apply(a._vals, d, rows=a._ix[0], cols=a._ix[1], m=a._data.shape[0])
    return out.reshape(-1) if col else out  # (n, 1) -> (n,)
