"""``Tensor``: an ndarray (``._data``) plus what autograd needs (``.grad``, ``.requires_grad``, the
node that made it). This file holds the class's storage, metadata, conversion, autograd and
printing; its operators (``tensor_operators.py``), in-place methods (``tensor_inplace.py``) and
methods over the ops (``tensor_methods.py``), one-liners calling ``glassgrad.ops``, are attached
to it by ``attach`` when this file finishes loading.
"""

from __future__ import annotations

from types import FunctionType
from typing import Any, Callable

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd import accumulate_hooks, engine, function, grad_mode, hooks, node_views
from glassgrad.autograd.engine_checks import no_grad_view_leaf
from glassgrad.errors import DTypeError, GraphError, ShapeError
from glassgrad.meta_array import MetaArray
from glassgrad.printing import meta_repr, size_shown, tensor_repr
from glassgrad.size import Size

_new_tuple = tuple.__new__  # NumPy shapes are ints: Size made unchecked

__all__ = ["Tensor", "Size", "tensor", "as_array"]


_NO_DATA = object()
_ndarray = np.ndarray


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

    __slots__ = (  # __dict__: a user's own attributes (p._no_weight_decay = True), as PyTorch's tensors
        "__dict__", "__weakref__", "_base", "_data", "_grad", "_hooks", "_node", "_vc", "_views", "name", "requires_grad",
    )  # fmt: skip
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
        if not _wrap and self.__class__ is not Tensor and tensor_subclass.made(self):
            # a subclass's __new__ made it (as_subclass), or the call's arguments did: PyTorch's
            # __init__ takes no part (and no arguments, for the latter)
            given = data is not _NO_DATA or sizes or requires_grad or dtype is not None or device is not None
            return tensor_subclass.made_already(self, given)
        # [version, shared]: one list for a tensor, its detach() and its views; shared once it has any
        self._vc = [0, False]
        # _base: the tensor this one is a view of (PyTorch's name), its views: autograd/view_rebase.py
        self._base = self._views = None
        if _wrap:
            # NumPy's ufuncs give a read-only scalar for 0-dim inputs; a Tensor holds an array
            is_array = data.__class__ is _ndarray or not isinstance(data, np.generic)
            self._data = data if is_array else np.asarray(data)
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
    # `data` and `grad`, with PyTorch's checks on assignment: tensor_fields.py

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (shared with views, detach())."""
        return self._vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        self._vc[0] = value  # optimizers bump it after writing a parameter's array in place,
        _stale_views.changed(self._vc, "an in-place update (_version bumped)")  # so pieces go stale

    # ----------------------------------------------------------------- metadata
    @property
    def shape(self) -> Size:
        return _new_tuple(Size, self._data.shape)

    @property
    def dtype(self) -> dtypes.DType:
        return dtypes.from_np_dtype(self._data.dtype)

    # `device`, `is_meta`, `is_cpu`, `is_cuda`, `to`, `cpu` and PyTorch's other device and layout
    # flags (`is_xpu`, `is_sparse` ...: False): tensor_device.py

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self):
        return None if self._node is None else node_views.shown(self._node)  # (named as PyTorch's)

    def is_floating_point(self) -> bool:  # a method, as PyTorch's (Tensor.is_floating_point(t) works)
        return self._data.dtype.kind == "f"

    def size(self, dim: int | None = None) -> Size | int:
        return _new_tuple(Size, self._data.shape) if dim is None else self._data.shape[dim]

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
            raise ShapeError(f"item: expected a tensor with one element, got shape {self._data.shape}")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:  # (force: PyTorch's detach, conj, copy to CPU)
        if self._data.__class__ is MetaArray:
            raise TypeError("numpy: can't convert meta device type tensor to numpy (it holds no data)")
        if self.requires_grad and not force and grad_mode.state.enabled:  # PyTorch allows it under no_grad
            raise GraphError(
                "numpy: expected a tensor that does not require grad, or grad mode off (no_grad); "
                "call .detach().numpy()"
            )
        self._vc[1] = True  # the caller holds the memory: a recorded in-place op must not swap it
        _held.hold(self._data)  # nor may resize_ grow it away from the caller's array (PyTorch's rule)
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self._data.__class__ is MetaArray:
            raise TypeError("__array__: can't convert meta device type tensor to numpy (it holds no data)")
        if self.requires_grad and grad_mode.state.enabled:  # as numpy(): np.exp(w) would leave the graph
            raise GraphError(
                "__array__: expected a tensor that does not require grad, or grad mode off (no_grad); "
                "call .detach() first"
            )
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            if copy is False:  # NumPy 2's protocol: a copy it was told not to make is refused, not made
                raise ValueError(
                    f"__array__: unable to avoid a copy converting {self.dtype} to {np.dtype(dtype)}"
                )
            return self._data.astype(dtype)  # a new array anyway
        if copy:
            return self._data.copy()  # np.array(t) asks for a copy: give one
        self._vc[1] = True  # the caller holds the memory (np.asarray): no swap by a recorded in-place op
        _held.hold(self._data)  # and no growth by resize_ (see numpy)
        return self._data

    def __float__(self) -> float:
        return conversion.python_scalar(self, float)  # PyTorch's warning when self requires grad

    def __int__(self) -> int:
        return conversion.real_scalar(self.item(), int)  # complex: PyTorch's rule, not Python's

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(
                f"__index__: expected a one-element integer tensor, got {self.dtype} {self.shape}"
            )
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ShapeError(
                f"bool: the truth value of a tensor with {self._data.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self._data.reshape(()).item())

    def __hash__(self) -> int:
        return id(self)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        # PyTorch's iter(self.unbind(0)): the rows are the pieces of a multi-view function
        # (UnbindBackward0; a recorded in-place change of one is refused, as POT's `u, v = zeros(2, n)`)
        return iter(self.unbind(0))

    def detach(self) -> Tensor:
        """A tensor sharing this one's memory and version counter, cut from the graph."""
        out = Tensor(self._data, _wrap=True)
        out._vc = self._vc  # an in-place change through it is seen by graphs that saved self
        self._vc[1] = True
        return out

    def __getstate__(self) -> tuple:
        # a copy (pickle, deepcopy) is no view: its base link and its table of views stay behind
        state, slots = object.__getstate__(self)
        return state, {k: v for k, v in slots.items() if k != "_base" and k != "_views"}

    def __setstate__(self, state: tuple) -> None:
        extra, slots = state
        self._base = self._views = None
        for k, v in {**(extra or {}), **slots}.items():
            setattr(self, k, v)
        if self._data.dtype.kind == "c":  # unpickled in a new process: ops check complex operands now
            dtypes.note_complex()

    def detach_(self) -> Tensor:
        if _live_base(self) is not None:
            raise GraphError(
                f"detach_: expected a tensor that is not a view, got a view of shape {self.shape} (PyTorch "
                "refuses it too: its base's graph would still reach it); use detach() instead"
            )
        self._node = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        return conversion.clone(self)

    def contiguous(self) -> Tensor:
        return self if self._data.flags.c_contiguous else conversion.clone(self)

    # ----------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind not in "fc":
            raise DTypeError(
                f"requires_grad_: only floating-point and complex tensors can require gradients, got {self.dtype}"
            )
        if not requires_grad and self._node is not None:
            raise GraphError("requires_grad_: cannot turn off requires_grad of a non-leaf; use .detach()")
        if self._base is not None and self._node is None:
            # a view made in no_grad mode (or before its base's requires_grad_()) reads the base's
            # flag and gets no .grad; its own requires_grad_() makes it a leaf whose .grad is
            # filled, as PyTorch's flag of the view's own (``_own_grad``, engine_checks.py)
            self.__dict__.pop("_own_grad", None)
            if self.requires_grad and no_grad_view_leaf(self):
                if requires_grad:
                    self._own_grad = True
                return self
        self.requires_grad = bool(requires_grad)
        if self._views:  # views made before this call read the base's flag, as PyTorch's
            _follow_base(self)
        return self

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate the gradient of this tensor w.r.t. every leaf into the leaves' ``.grad``.

        Args:
            gradient: d(loss)/d(self), same shape as self; may be omitted for one-element tensors.
            retain_graph: keep saved arrays so backward can run through this graph again.
            create_graph: record the backward itself, so that ``.grad`` can be differentiated
                again (double backward; autograd/recorded.py); implies ``retain_graph``.
            inputs: a tensor or tensors (leaves or not) whose ``.grad`` alone accumulates.
        """
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

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

    # --- post-accumulate-grad hooks (autograd/accumulate_hooks.py)
    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """Call ``hook(self)`` after backward has accumulated this leaf's gradient into ``.grad``
        (an optimizer step fused into backward). Returns a handle with ``remove()``."""
        return accumulate_hooks.register_post_accumulate_grad_hook(self, hook)

    # ----------------------------------------------------------------- printing
    def __repr__(self) -> str:
        if self._data.__class__ is MetaArray:
            return meta_repr(self)
        extras = []
        dt = self._data.dtype
        if size_shown(self._data):  # an empty body "[]", or no edge items, does not show the shape
            extras.append(f"size={tuple(self._data.shape)}")
        # PyTorch leaves out the default float dtype; with data, also int64, bool and complex64 (float32's)
        if dt != dtypes.get_default_dtype().np and (
            self._data.size == 0 or dt not in (np.int64, np.bool_, dtypes.default_complex())
        ):
            extras.append(f"dtype={self.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if forward_ad._tangents and forward_ad.is_dual(self):  # PyTorch's suffix inside a dual_level
            extras.append(f"tangent={forward_ad._tangents[id(self)][1]}")
        # a subclass that takes part in __torch_function__ prints its name, as PyTorch's: T([1., 2.])
        cls = type(self)
        if cls is Tensor or not tensor_subclass.named_in_repr(cls):
            return tensor_repr(self._data, extras)
        text = tensor_repr(self._data, extras, f"{cls.__name__}(")
        # nn.Parameter of a user's subclass is that subclass flagged _is_param (nn/parameter.py)
        return f"Parameter({text})" if getattr(self, "_is_param", False) else text

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)  # f"{loss:.4f}" formats the number, as PyTorch
        return object.__format__(self, spec)


function._tensor_cls[0] = Tensor


def attach(body: type) -> None:
    """Put the functions and properties written in ``body``'s class statement on ``Tensor``.

    The operators, the in-place methods and the methods over the ops live in ``tensor_operators``,
    ``tensor_inplace`` and ``tensor_methods`` (imported at the end of this file): they need the ops,
    which import ``Tensor``, so they cannot be base classes defined before it.
    """
    for name, value in vars(body).items():
        fn = value.fget if isinstance(value, property) else value
        if isinstance(fn, FunctionType):
            fn.__qualname__ = f"Tensor.{name}"
            setattr(Tensor, name, value)


# The factories and ops import Tensor; importing them after the class keeps tensor <-> ops free of a
# logic cycle. The factories come first: the ops modules import as_array from here.
from glassgrad.autograd import forward_ad  # noqa: E402  (repr reads its tangent table)
from glassgrad.autograd.early_views import follow_base as _follow_base  # noqa: E402
from glassgrad.autograd.view_rebase import live_base as _live_base  # noqa: E402
from glassgrad.factories import as_array, tensor  # noqa: E402
from glassgrad.legacy import legacy_data  # noqa: E402
from glassgrad.ops import conversion  # noqa: E402
from glassgrad.ops import stale_views as _stale_views  # noqa: E402

# isort: split
# After the ops: it reads their memory_root.
from glassgrad import held_memory as _held  # noqa: E402

# isort: split
# Last, once the ops can import Tensor: the operators and methods over the ops (see ``attach``).
# (tensor_subclass: __torch_function__, as_subclass)
from glassgrad import (  # noqa: E402, F401
    tensor_device,
    tensor_fields,
    tensor_inplace,
    tensor_methods,
    tensor_operators,
    tensor_subclass,
)
