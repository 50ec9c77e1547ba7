"""``Tensor``: an ndarray (``._data``) plus what autograd needs (``.grad``, ``.requires_grad``, the
node that made it). Its dunders and methods are one-liners that call the ops in ``glassgrad.ops``;
the only logic here is conversion, in-place updates outside the graph, and printing.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd import engine, function, hooks
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.backend import array_module
from glassgrad.device import check_device, get_default_device
from glassgrad.errors import DTypeError, GraphError, ShapeError
from glassgrad.printing import tensor_repr

__all__ = ["Tensor", "Size", "tensor", "as_array"]


class Size(tuple):
    """A tensor's shape: a tuple of ints with PyTorch's ``numel()`` (``torch.Size``).

    >>> import glassgrad as gg
    >>> gg.zeros(2, 3).shape
    glassgrad.Size([2, 3])
    >>> print(gg.zeros(2, 3).shape), gg.zeros(2, 3).size() == (2, 3), gg.zeros(2, 3).shape.numel()
    (2, 3)
    (None, True, 6)
    """

    __slots__ = ()

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key: Any) -> Any:
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __repr__(self) -> str:
        return f"glassgrad.Size({list(self)})"

    def __str__(self) -> str:
        return tuple.__repr__(self)  # "(2, 3)" in messages and f-strings; repr() names the type


_NO_DATA = object()


class Tensor:
    """An n-dimensional array that can record the ops applied to it for reverse-mode autodiff.

    ``glassgrad.tensor(data)`` is the way to make one (it infers the dtype). The constructor
    follows PyTorch's legacy ``torch.Tensor``: ``Tensor(3, 4)`` is a float tensor of that shape
    (zeros here: PyTorch leaves it uninitialised), ``Tensor([1, 2])`` is always floating,
    ``Tensor(t)`` shares ``t``'s memory.

    Args:
        data: array-like (nested lists, NumPy array, scalar, Tensor) or the first size.
        *sizes: the other sizes, when ``data`` is the first one.
        requires_grad: whether ops on it are recorded so that ``backward`` reaches it.
        dtype: element type (default: the default float dtype).

    Shape:
        ``.shape`` is the NumPy shape of the array it holds, as a ``Size``.
    """

    __slots__ = ("__weakref__", "_data", "_grad", "_hooks", "_node", "_vc", "name", "requires_grad")
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to the Tensor's reflected op

    def __init__(
        self,
        data: Any = _NO_DATA,
        *sizes: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        device: Any = None,
        _wrap: bool = False,
    ) -> None:
        # [version, shared]: one list for a tensor, its detach() and its views; shared once it has any
        self._vc = [0, False]
        if _wrap:
            self._data = data
        else:
            self._data = legacy_data(self, data, sizes, dtype, device)
        self._grad: Tensor | None = None
        self._node = None
        self._hooks: list | None = None
        self.name: str | None = None  # shown by glassgrad.explain's traces (PyTorch has no such field)
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- storage
    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's memory, cut from the graph, as PyTorch's ``.data``.

        Changes through it are not seen by autograd (it has its own version counter, unlike
        ``detach()``); ``p.data = t`` swaps the array this tensor holds. ``numpy()`` gives the array.
        """
        self._vc[1] = True  # its memory is shared now: a recorded in-place op must not swap it
        return Tensor(self._data, _wrap=True)

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value._data if isinstance(value, Tensor) else as_array(value)

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by ``backward()`` (None until then, or after ``zero_grad()``)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"grad: expected a Tensor or None, got {type(value).__name__} (to clear it, "
                    "assign None or call .grad.zero_())"
                )
            if value._data.shape != self._data.shape:
                raise ShapeError(f"grad: expected a gradient of shape {self.shape}, got {value.shape}")
            if value._data.dtype != self._data.dtype:
                raise DTypeError(f"grad: expected a gradient of dtype {self.dtype}, got {value.dtype}")
        self._grad = value

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (shared with views, detach())."""
        return self._vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        self._vc[0] = value

    # ----------------------------------------------------------------- metadata
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def dtype(self) -> dtypes.DType:
        return dtypes.from_np_dtype(self._data.dtype)

    @property
    def device(self) -> Any:
        return get_default_device()

    @property
    def is_cuda(self) -> bool:
        return False

    def get_device(self) -> int:
        return -1  # the CPU, as PyTorch

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    @property
    def is_floating_point(self) -> Callable[[], bool]:
        return lambda: self._data.dtype.kind == "f"

    def size(self, dim: int | None = None) -> Size | int:
        return Size(self._data.shape) if dim is None else self._data.shape[dim]

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """Strides in elements (NumPy's are in bytes), as PyTorch."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def element_size(self) -> int:
        return self._data.itemsize

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ----------------------------------------------------------------- conversion
    def item(self) -> Any:
        if self._data.size != 1:
            raise ValueError(f"item: expected a tensor with one element, got shape {self._data.shape}")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise GraphError("numpy: expected a tensor that does not require grad; call .detach().numpy()")
        self._vc[1] = True  # the caller holds the memory: a recorded in-place op must not swap it
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)  # a new array anyway
        return self._data.copy() if copy else self._data  # np.array(t) asks for a copy: give one

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(
                f"__index__: expected a one-element integer tensor, got {self.dtype} {self.shape}"
            )
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"bool: the truth value of a tensor with {self._data.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self._data.reshape(()).item())

    def __hash__(self) -> int:
        return id(self)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; self when nothing changes.

        Only the CPU exists: moving to another device raises. ``non_blocking``/``copy`` are accepted.
        """
        dtype = kwargs.get("dtype")
        check_device(kwargs.get("device"), "to")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, dtypes.DType | np.dtype) or a in (float, int, bool):
                dtype = a
            elif a is not None:
                check_device(a, "to")
        if dtype is None or dtypes.to_np_dtype(dtype) == self._data.dtype:
            return conversion.clone(self) if kwargs.get("copy") else self
        return conversion.cast(self, dtypes.to_np_dtype(dtype))

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        check_device("cuda" if device is None else device, "cuda")
        return self

    def type(self, dtype: Any = None) -> Any:
        """The type name (``"torch.FloatTensor"``) without an argument, else a cast to ``dtype``
        (a dtype or a legacy name such as ``"torch.LongTensor"``)."""
        if dtype is None:
            return legacy_type_name(self._data.dtype)
        return self.to(legacy_dtype(dtype))

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def cpu(self) -> Tensor:
        return self

    def detach(self) -> Tensor:
        """A tensor sharing this one's memory and version counter, cut from the graph."""
        out = Tensor(self._data, _wrap=True)
        out._vc = self._vc  # an in-place change through it is seen by graphs that saved self
        self._vc[1] = True
        return out

    def detach_(self) -> Tensor:
        self._node = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        return conversion.clone(self)

    def contiguous(self) -> Tensor:
        return self if self._data.flags.c_contiguous else conversion.clone(self)

    # ----------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind != "f":
            raise DTypeError(
                f"requires_grad_: only floating-point tensors can require gradients, got {self.dtype}"
            )
        if not requires_grad and self._node is not None:
            raise GraphError("requires_grad_: cannot turn off requires_grad of a non-leaf; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor w.r.t. every leaf into the leaves' ``.grad``.

        Args:
            gradient: d(loss)/d(self), same shape as self; may be omitted for one-element tensors.
            retain_graph: keep saved arrays so backward can run through this graph again.
        """
        engine.backward(self, gradient, retain_graph)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor (of the
        same shape) replaces it. Returns a handle: ``handle.remove()`` takes the hook off."""
        return hooks.register_hook(self, hook)

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        return hooks.retains_grad(self)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward (after its hooks ran)."""
        hooks.retain_grad(self)

    # ----------------------------------------------------------------- in-place (outside the graph)
    def _check_inplace(self, op: str) -> None:
        if self.requires_grad and _grad_state.enabled:
            kind = (
                "a leaf tensor that requires grad" if self._node is None else "a tensor recorded in the graph"
            )
            raise GraphError(
                f"{op}: in-place change of {kind} (shape {self.shape}) would corrupt the gradient; "
                "do it inside glassgrad.no_grad(), or change a clone() instead"
            )
        if not self._data.flags.writeable:
            raise ShapeError(
                f"{op}: expected a writable tensor, got a read-only view of shape {self.shape} (from "
                "expand/broadcast_to, whose elements share memory); clone() it first"
            )
        self._version += 1

    def _set(self, op: str, value: Any) -> Tensor:
        self._check_inplace(op)
        xp = array_module(self._data)
        value = value._data if isinstance(value, Tensor) else value
        try:
            self._data[...] = xp.broadcast_to(value, self._data.shape)
        except ValueError:
            raise ShapeError(
                f"{op}: expected a value broadcastable to {self.shape}, got shape {np.shape(value)}"
            ) from None
        return self

    def _update(self, op: str, fn: Callable[..., Tensor], *args: Any) -> Tensor:
        """``self = fn(self, *args)`` in place, as PyTorch's in-place arithmetic: the result is
        computed by the out-of-place op, must keep self's shape and must not need a dtype of a
        higher kind (an integer tensor cannot hold a true division or a float sum).

        While recording, an in-place op on a non-leaf (``out += identity`` in a residual block,
        ``x.relu_()``) is recorded: self takes the new node and the new array. A leaf that requires grad, or a tensor
        that shares memory with another (a view, its base, a ``detach()``), is refused instead:
        PyTorch rebases the views' graphs, glassgrad does not, and a wrong gradient must not follow.
        """
        recording = _grad_state.enabled and (
            self.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args)
        )
        if recording:
            if self.requires_grad and self._node is None:
                self._check_inplace(op)  # raises: a leaf that requires grad
            if self._vc[1]:
                raise GraphError(
                    f"{op}: in-place change, while recording, of a tensor that shares memory with "
                    f"another (a view, its base or a detach(); shape {self.shape}); write it out of "
                    "place (y = x + ...), or change a clone()"
                )
            out = fn(self, *args)
        else:
            out = fn(Tensor(self._data, _wrap=True), *args)
        arr = out._data
        if arr.dtype != self._data.dtype and not np.can_cast(arr.dtype, self._data.dtype, "same_kind"):
            raise DTypeError(
                f"{op}: expected a result castable to the tensor's dtype {self.dtype}, "
                f"got {dtypes.from_np_dtype(arr.dtype)}"
            )
        if arr.shape != self._data.shape:
            raise ShapeError(f"{op}: expected a result of the tensor's shape {self.shape}, got {arr.shape}")
        if recording:
            # No other tensor shares self's memory, so self can take the result's array instead of
            # being overwritten: arrays saved for backward (self's old values) stay valid.
            self._data = arr if arr.dtype == self._data.dtype else arr.astype(self._data.dtype)
            self._node, self.requires_grad = out._node, out.requires_grad
            return self
        self._check_inplace(op)
        self._data[...] = arr
        return self

    def copy_(self, src: Any) -> Tensor:
        return self._set("copy_", src)

    def fill_(self, value: Any) -> Tensor:
        return self._set("fill_", value)

    def zero_(self) -> Tensor:
        return self._set("zero_", 0)

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        from glassgrad.random import get_generator

        return self._set("normal_", get_generator(generator).normal(mean, std, self.shape))

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        from glassgrad.random import get_generator

        return self._set("uniform_", get_generator(generator).uniform(a, b, self.shape))

    def bernoulli_(self, p: float = 0.5, generator: Any = None) -> Tensor:
        from glassgrad.random import get_generator

        return self._set("bernoulli_", get_generator(generator).random(self.shape) < p)

    def add_(self, other: Any, alpha: float = 1.0) -> Tensor:
        return self._update("add_", Tensor.add, other, alpha)

    def sub_(self, other: Any, alpha: float = 1.0) -> Tensor:
        return self._update("sub_", Tensor.sub, other, alpha)

    def mul_(self, other: Any) -> Tensor:
        return self._update("mul_", elementwise.mul, other)

    def div_(self, other: Any) -> Tensor:
        return self._update("div_", elementwise.div, other)

    def pow_(self, exponent: Any) -> Tensor:
        return self._update("pow_", elementwise.pow, exponent)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
        return self._update("clamp_", clamp.clamp, min, max)

    clip_ = clamp_

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        return self._update("masked_fill_", indexing.masked_fill, mask, value)

    def __iadd__(self, other: Any) -> Tensor:
        return self._update("__iadd__", elementwise.add, other)

    def __isub__(self, other: Any) -> Tensor:
        return self._update("__isub__", elementwise.sub, other)

    def __imul__(self, other: Any) -> Tensor:
        return self._update("__imul__", elementwise.mul, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._update("__itruediv__", elementwise.div, other)

    def __ipow__(self, other: Any) -> Tensor:
        return self._update("__ipow__", elementwise.pow, other)

    def __ifloordiv__(self, other: Any) -> Tensor:
        return self._update("__ifloordiv__", compare.floor_divide, other)

    def __imod__(self, other: Any) -> Tensor:
        return self._update("__imod__", compare.remainder, other)

    def __iand__(self, other: Any) -> Tensor:
        return self._update("__iand__", compare.bitwise_and, other)

    def __ior__(self, other: Any) -> Tensor:
        return self._update("__ior__", compare.bitwise_or, other)

    def __ixor__(self, other: Any) -> Tensor:
        return self._update("__ixor__", compare.bitwise_xor, other)

    def __setitem__(self, key: Any, value: Any) -> None:
        indexing.setitem(self, key, value)

    # ----------------------------------------------------------------- printing
    def __repr__(self) -> str:
        extras = []
        dt = self._data.dtype
        if self._data.size == 0 and self._data.ndim != 1:
            extras.append(f"size={tuple(self._data.shape)}")  # the body "[]" does not show the shape
        if dt != dtypes.get_default_dtype().np and (self._data.size == 0 or dt not in (np.int64, np.bool_)):
            extras.append(f"dtype={self.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return tensor_repr(self._data, extras)

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)  # f"{loss:.4f}" formats the number, as PyTorch
        return object.__format__(self, spec)

    # ----------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> Tensor:
        return elementwise.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return elementwise.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return elementwise.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return elementwise.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return elementwise.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return elementwise.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return elementwise.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return elementwise.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return elementwise.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return elementwise.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return matmul.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul.matmul(other, self)

    def __neg__(self) -> Tensor:
        return elementwise.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return unary.abs(self)

    def __floordiv__(self, other: Any) -> Tensor:
        return compare.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return compare.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return compare.remainder(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None or isinstance(other, str):
            return NotImplemented  # Python then compares identities: t == None is False, as in PyTorch
        return compare.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None or isinstance(other, str):
            return NotImplemented
        return compare.ne(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return compare.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return compare.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return compare.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return compare.ge(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return compare.remainder(other, self)

    def __and__(self, other: Any) -> Tensor:
        return compare.bitwise_and(self, other)

    def __rand__(self, other: Any) -> Tensor:
        return compare.bitwise_and(other, self)

    def __or__(self, other: Any) -> Tensor:
        return compare.bitwise_or(self, other)

    def __ror__(self, other: Any) -> Tensor:
        return compare.bitwise_or(other, self)

    def __xor__(self, other: Any) -> Tensor:
        return compare.bitwise_xor(self, other)

    def __rxor__(self, other: Any) -> Tensor:
        return compare.bitwise_xor(other, self)

    def __invert__(self) -> Tensor:
        return compare.bitwise_not(self)

    def __getitem__(self, key: Any) -> Tensor:
        return indexing.getitem(self, key)

    # ----------------------------------------------------------------- methods over ops
    def add(self, other: Any, alpha: float = 1.0) -> Tensor:
        return elementwise.add(self, other if alpha == 1.0 else other * alpha)

    def sub(self, other: Any, alpha: float = 1.0) -> Tensor:
        return elementwise.sub(self, other if alpha == 1.0 else other * alpha)

    def mul(self, other: Any) -> Tensor:
        return elementwise.mul(self, other)

    def div(self, other: Any) -> Tensor:
        return elementwise.div(self, other)

    def pow(self, exponent: Any) -> Tensor:
        return elementwise.pow(self, exponent)

    def neg(self) -> Tensor:
        return elementwise.neg(self)

    def exp(self) -> Tensor:
        return unary.exp(self)

    def log(self) -> Tensor:
        return unary.log(self)

    def log1p(self) -> Tensor:
        return unary.log1p(self)

    def sqrt(self) -> Tensor:
        return unary.sqrt(self)

    def rsqrt(self) -> Tensor:
        return unary.rsqrt(self)

    def square(self) -> Tensor:
        return elementwise.mul(self, self)

    def reciprocal(self) -> Tensor:
        return elementwise.div(1.0, self)

    def abs(self) -> Tensor:
        return unary.abs(self)

    def sign(self) -> Tensor:
        return compare.sign(self)

    def sin(self) -> Tensor:
        return unary.sin(self)

    def cos(self) -> Tensor:
        return unary.cos(self)

    def tanh(self) -> Tensor:
        return unary.tanh(self)

    def sigmoid(self) -> Tensor:
        return activation.sigmoid(self)

    def relu(self) -> Tensor:
        return activation.relu(self)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return clamp.clamp(self, min, max)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        return elementwise.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return elementwise.minimum(self, other)

    def floor(self) -> Tensor:
        return compare.floor(self)

    def ceil(self) -> Tensor:
        return compare.ceil(self)

    def round(self) -> Tensor:
        return compare.round(self)

    def eq(self, other: Any) -> Tensor:
        return compare.eq(self, other)

    def ne(self, other: Any) -> Tensor:
        return compare.ne(self, other)

    def lt(self, other: Any) -> Tensor:
        return compare.lt(self, other)

    def le(self, other: Any) -> Tensor:
        return compare.le(self, other)

    def gt(self, other: Any) -> Tensor:
        return compare.gt(self, other)

    def ge(self, other: Any) -> Tensor:
        return compare.ge(self, other)

    def logical_not(self) -> Tensor:
        return compare.logical_not(self)

    def isnan(self) -> Tensor:
        return compare.isnan(self)

    def isfinite(self) -> Tensor:
        return compare.isfinite(self)

    def where(self, condition: Any, other: Any) -> Tensor:
        return elementwise.where(condition, self, other)

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        return reduce.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return reduce.mean(self, dim, keepdim, dtype=dtype)

    def var(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
    ) -> Tensor:
        return statistics.var(self, dim, unbiased, keepdim, correction=correction)

    def std(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
    ) -> Tensor:
        return statistics.std(self, dim, unbiased, keepdim, correction=correction)

    def prod(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return reduce.prod(self, dim, keepdim)

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        return extremes.max(self, dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        return extremes.min(self, dim, keepdim)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return extremes.amax(self, dim, keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return extremes.amin(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return extremes.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return extremes.argmin(self, dim, keepdim)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return statistics.logsumexp(self, dim, keepdim)

    def norm(self, p: Any = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
        return statistics.norm(self, p, dim, keepdim)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        return reduce.cumsum(self, dim, dtype=dtype)

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return reduce.all(self, dim, keepdim)

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return reduce.any(self, dim, keepdim)

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return softmax.softmax(self, dim, dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return softmax.log_softmax(self, dim, dtype)

    def matmul(self, other: Any) -> Tensor:
        return matmul.matmul(self, other)

    def mm(self, other: Any) -> Tensor:
        return matmul.matmul(self, other)

    def bmm(self, other: Any) -> Tensor:
        return matmul.matmul(self, other)

    def reshape(self, *shape: Any) -> Tensor:
        return movement.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        return movement.view(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        return movement.view(self, other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return movement.reshape(self, other.shape)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return movement.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        return movement.t(self)

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return movement.permute(self, *range(self._data.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return movement.transpose(self, -2, -1)

    def narrow(self, dim: int, start: Any, length: int) -> Tensor:
        return views.narrow(self, dim, start, length)

    def select(self, dim: int, index: Any) -> Tensor:
        return views.select(self, dim, index)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return views.diagonal(self, offset, dim1, dim2)

    def movedim(self, source: Any, destination: Any) -> Tensor:
        return views.movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return views.swapaxes(self, axis0, axis1)

    swapdims = swapaxes

    def permute(self, *dims: Any) -> Tensor:
        return movement.permute(self, *dims)

    def expand(self, *sizes: Any) -> Tensor:
        return movement.expand(self, *sizes)

    def expand_as(self, other: Tensor) -> Tensor:
        return movement.expand(self, other.shape)

    def broadcast_to(self, shape: Any) -> Tensor:
        return movement.expand(self, shape)

    def squeeze(self, dim: Any = None) -> Tensor:
        return movement.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return movement.unsqueeze(self, dim)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return movement.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Any) -> Tensor:
        return movement.unflatten(self, dim, sizes)

    def repeat(self, *sizes: Any) -> Tensor:
        return movement.repeat(self, *sizes)

    def flip(self, dims: Any) -> Tensor:
        return movement.flip(self, dims)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return movement.roll(self, shifts, dims)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return pieces.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return pieces.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        return pieces.unbind(self, dim)

    def tril(self, diagonal: int = 0) -> Tensor:
        return movement.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return movement.triu(self, diagonal)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return indexing.masked_fill(self, mask, value)

    def gather(self, dim: int, index: Any) -> Tensor:
        return indexing.gather(self, dim, index)

    def index_select(self, dim: int, index: Any) -> Tensor:
        return indexing.index_select(self, dim, index)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
        return indexing.topk(self, k, dim, largest, sorted)

    def sort(self, dim: int = -1, descending: bool = False) -> Any:
        return indexing.sort(self, dim, descending)

    def argsort(self, dim: int = -1, descending: bool = False) -> Tensor:
        return indexing.sort(self, dim, descending)[1]

    def multinomial(self, num_samples: int, replacement: bool = False, generator: Any = None) -> Tensor:
        return sampling.multinomial(self, num_samples, replacement, generator=generator)

    def nonzero(self) -> Tensor:
        return sampling.nonzero(self)


function._tensor_cls[0] = Tensor


# The factories and ops import Tensor; importing them after the class keeps tensor <-> ops free of a
# logic cycle. The factories come first: the ops modules import as_array from here.
from glassgrad.factories import as_array, tensor  # noqa: E402
from glassgrad.legacy import legacy_data, legacy_dtype, legacy_type_name  # noqa: E402
from glassgrad.ops import (  # noqa: E402
    activation,
    clamp,
    compare,
    conversion,
    elementwise,
    extremes,
    indexing,
    matmul,
    movement,
    pieces,
    reduce,
    sampling,
    softmax,
    statistics,
    unary,
    views,
)
