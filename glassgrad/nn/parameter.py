"""``Parameter``: a Tensor that a ``Module`` registers as learnable when assigned as an attribute."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.errors import ShapeError
from glassgrad.meta_array import MetaArray
from glassgrad.tensor import Tensor, as_array
from glassgrad.torch_function import _disabled_torch_function_impl

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]


def _init_shared(t: Tensor, data: Any) -> None:
    """``Tensor.__init__`` of ``t`` over ``data``'s memory. A Tensor's memory is shared, as in
    PyTorch: so is its version counter (a change through ``data`` is seen by graphs that saved
    ``t``), and a recorded in-place op must swap neither array."""
    if isinstance(data, Tensor):
        Tensor.__init__(t, data._data, _wrap=True)
        t._vc = data._vc
        data._vc[1] = True
    elif data.__class__ is MetaArray:  # a meta array (a deepcopied meta parameter's) stays meta
        Tensor.__init__(t, data, _wrap=True)
    else:
        Tensor.__init__(t, as_array(data), _wrap=True)


class _ParameterMeta(type):
    """Parameter's metaclass (``torch.nn.parameter._ParameterMeta``): as in PyTorch, a tensor
    flagged ``_is_param = True`` (a tensor subclass standing in for a parameter) is also an
    instance of ``Parameter``; torchrl imports the class."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if cls is Parameter and isinstance(instance, Tensor) and getattr(instance, "_is_param", False):
            return True
        return super().__instancecheck__(instance)


class Parameter(Tensor, metaclass=_ParameterMeta):
    """A Tensor that a ``Module`` registers as a learnable parameter when assigned as an attribute.

    Args:
        data: a Tensor or array; its data is SHARED, not copied (as ``torch.nn.Parameter``).
        requires_grad: whether the parameter is trained (default True).

    >>> import glassgrad as gg
    >>> p = Parameter(gg.tensor([1.0, 2.0]))
    >>> p
    Parameter containing:
    tensor([1., 2.], requires_grad=True)
    """

    __slots__ = ()
    __torch_function__ = _disabled_torch_function_impl  # ops give plain Tensors, as PyTorch's

    def __new__(cls, data: Any = None, requires_grad: bool = True) -> Parameter:
        # A tensor subclass with a parameter class of its own stays that subclass, as PyTorch's
        # nn.Parameter(dtensor) is a DTensor: DTensor's hook returns a built DTensorParameter. So
        # does a Parameter subclass's: PyTorch's MyParam(dtensor) is a DTensor too, not a MyParam.
        make = getattr(type(data), "_parameter_of", None)
        if make is not None:
            return make(data, requires_grad)
        if isinstance(data, Tensor) and not _own_class(type(data)):
            return _custom_parameter(data, requires_grad)
        return super().__new__(cls)

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        _init_shared(self, np.empty((0,), dtype=dtypes.get_default_dtype().np) if data is None else data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __deepcopy__(self, memo: dict) -> Parameter:
        """A new parameter over a copy of the data, without ``.grad`` or hooks, as PyTorch's
        (a tie between two attributes survives through ``memo``)."""
        if id(self) not in memo:
            memo[id(self)] = type(self)(self._data.copy(), self.requires_grad)  # its own memory: not shared
        return memo[id(self)]


def _own_class(t: type) -> bool:
    """Whether ``t`` is Tensor or one of glassgrad's own subclasses (a Buffer, a sparse tensor):
    PyTorch makes those a Parameter; another class is a user's (see ``_custom_parameter``)."""
    return t is Tensor or t.__module__.startswith("glassgrad.")


def _custom_parameter(data: Tensor, requires_grad: bool) -> Tensor:
    """``nn.Parameter(x)`` of a user's Tensor subclass, as PyTorch's: not a Parameter but
    ``x.detach()``, still of ``x``'s class (so its ``__torch_function__`` keeps running in the
    module's forward), flagged ``_is_param`` so that modules and ``isinstance(p, Parameter)``
    take it as one. A class whose ``detach`` gives another type (a Parameter subclass, one that
    turns ``__torch_function__`` off) is refused with PyTorch's error."""
    t = data.detach().requires_grad_(requires_grad)
    if type(t) is not type(data):
        raise RuntimeError(
            f"Creating a Parameter from an instance of type {type(data).__name__} requires that "
            f"detach() returns an instance of the same type, but return type {type(t).__name__} was "
            "found instead. To use the type as a Parameter, please correct the detach() semantics "
            "defined by its __torch_dispatch__() implementation."
        )
    t._is_param = True
    return t


class _BufferMeta(type):
    """Buffer's metaclass (``torch.nn.parameter._BufferMeta``): a tensor flagged ``_is_buffer``
    (what a module stores for an assigned ``Buffer``) is a Buffer too, so ``self.b2 = self.b1``
    registers a second buffer, as in PyTorch, instead of a plain attribute that ``state_dict``,
    ``named_buffers`` and ``.to()`` would silently miss."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if cls is Buffer and isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False):
            return True
        return super().__instancecheck__(instance)


def assign_buffer(module: Any, name: str, value: Any, base_register: Any) -> None:
    """``module.name = value`` for a Buffer, or for a Tensor/None under a buffer's name, as
    PyTorch's ``Module.__setattr__``: through ``module.register_buffer`` (``base_register`` is
    ``Module.register_buffer``), whose check refuses a name a plain attribute holds (KeyError).
    A subclass's ``register_buffer`` without ``persistent`` is called without it, as PyTorch's."""
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(
            f"cannot assign '{type(value).__name__}' as buffer '{name}' "
            "(glassgrad.nn.Buffer, glassgrad.Tensor or None expected)"
        )
    if isinstance(value, Buffer):
        persistent = getattr(value, "persistent", True)
    else:
        persistent = name not in module.__dict__["_non_persistent_buffers_set"]
    register = module.register_buffer
    plain = getattr(register, "__func__", None) is base_register
    if plain or "persistent" in inspect.signature(register).parameters:
        register(name, value, persistent)
    elif not persistent:
        raise RuntimeError(
            "Registering a non-persistent buffer on a Module subclass that implements "
            "register_buffer() without the persistent argument is not allowed."
        )
    else:
        register(name, value)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A Tensor that a ``Module`` registers as a buffer when assigned as an attribute
    (``torch.nn.Buffer``): ``self.pe = nn.Buffer(table, persistent=False)`` is
    ``self.register_buffer("pe", table, persistent=False)``.

    As PyTorch's, ``Buffer(data)`` is ``data.detach()`` (a plain Tensor sharing its memory)
    flagged ``_is_buffer`` and ``persistent``: the module stores that very tensor (``m.b = buf;
    m.b is buf``), and it is a Buffer again when assigned to another name (``self.b2 = self.b1``
    registers a second name for it, as PyTorch, not a plain attribute).
    """

    __torch_function__ = _disabled_torch_function_impl  # ops give plain Tensors, as PyTorch's

    def __new__(cls, data: Any = None, *, persistent: bool = True) -> Tensor:  # type: ignore[misc]
        if data is None:
            data = Tensor([])
        elif not isinstance(data, Tensor):
            data = Tensor(as_array(data), _wrap=True)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent, t._is_buffer = persistent, True
        return t


# ---------------------------------------------------------------- uninitialized (lazy modules)
_UNINIT_USE = (
    "Attempted to use an uninitialized parameter in {}. This error happens when you are using a "
    "`LazyModule` or explicitly manipulating `torch.nn.parameter.UninitializedParameter` objects. "
    "When using LazyModules Call `forward` with a dummy batch to initialize the parameters before "
    "calling torch functions"
)
_UNINIT_SHAPE = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
    "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
    "`forward` to initialize the parameters before accessing their attributes."
)


class _NoDataArray(np.ndarray):
    """A placeholder's array (empty, of its dtype): any computation with it, or a write into it,
    raises PyTorch's "uninitialized parameter" error instead of giving an empty or zero answer."""

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        raise ValueError(_UNINIT_USE.format(ufunc.__name__))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise ValueError(_UNINIT_USE.format(getattr(func, "__name__", str(func))))

    def __setitem__(self, key: Any, value: Any) -> None:
        raise ValueError(_UNINIT_USE.format("__setitem__"))

    def fill(self, value: Any) -> None:
        raise ValueError(_UNINIT_USE.format("fill_"))


def _no_data(np_dtype: Any) -> np.ndarray:
    return np.empty((0,), dtype=np_dtype).view(_NoDataArray)


class _UninitializedMixin:
    """A placeholder of unknown shape (an empty 1-d array of the right dtype) until ``materialize``
    gives it storage and turns it, in place, into ``cls_to_become``: optimizers and modules that
    already hold the object see the real parameter. Its shape, its size and any computation with it
    are errors until then, with PyTorch's messages (``.data`` stays reachable: ``p.data.normal_()``
    fills nothing, as there)."""

    __slots__ = ()
    cls_to_become: type = Tensor

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Give the placeholder storage of ``shape`` (uninitialized: zeros here) and make it a
        ``cls_to_become``; ``dtype`` defaults to the placeholder's."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        np_dtype = dtypes.to_np_dtype(dtype) if dtype is not None else self._data.dtype
        self._data = np.zeros(shape, dtype=np_dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self) -> Any:
        # PyTorch's .shape raises RuntimeError and its functions (empty_like ...) ValueError; the
        # functions here read .shape, so the error is both (a ShapeError), caught as either
        raise ShapeError(_UNINIT_SHAPE)

    def share_memory_(self) -> Any:
        # moving the placeholder's guarded empty array would leave a plain one: ops would then
        # give empty results where they must raise
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
            "initialize the parameters before calling `module.share_memory()`."
        )

    @property
    def data(self) -> Tensor:
        # an empty plain tensor, as PyTorch's: d2l's ``p.data.normal_()`` before the first call fills nothing
        return Tensor(np.empty((0,), dtype=self._data.dtype), _wrap=True)

    @data.setter
    def data(self, value: Any) -> None:
        Tensor.data.fset(self, value)

    def numel(self) -> int:
        raise ValueError(_UNINIT_USE.format("numel()"))

    def dim(self) -> int:
        raise ValueError(_UNINIT_USE.format("dim()"))

    @property
    def ndim(self) -> int:
        raise ValueError(_UNINIT_USE.format("ndim"))

    def __len__(self) -> int:
        raise ValueError(_UNINIT_USE.format("__len__"))

    def clone(self, *args: Any, **kwargs: Any) -> Tensor:
        raise ValueError(_UNINIT_USE.format("clone()"))

    def numpy(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise ValueError(_UNINIT_USE.format("numpy()"))

    def tolist(self) -> Any:
        raise ValueError(_UNINIT_USE.format("tolist()"))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


# PyTorch's name for the mixin (``torch.nn.parameter.UninitializedTensorMixin``): tensordict and
# torchrl test ``isinstance(t, UninitializedTensorMixin)`` to spot lazy placeholders
UninitializedTensorMixin = _UninitializedMixin


class UninitializedParameter(_UninitializedMixin, Parameter):
    """A ``Parameter`` whose shape a lazy module learns from its first input (``torch.nn.UninitializedParameter``)."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(
        cls, requires_grad: bool = True, device: Any = None, dtype: Any = None
    ) -> UninitializedParameter:
        return Tensor.__new__(cls)

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        dt = dtypes.to_np_dtype(dtype) if dtype is not None else dtypes.get_default_dtype().np
        Parameter.__init__(self, None, requires_grad)
        self._data = _no_data(dt)  # set after: Tensor.__init__ would make it a plain array

    def __deepcopy__(self, memo: dict) -> UninitializedParameter:
        if id(self) not in memo:
            memo[id(self)] = UninitializedParameter(self.requires_grad, dtype=self.dtype)
        return memo[id(self)]


class UninitializedBuffer(_UninitializedMixin, Tensor):
    """A buffer whose shape a lazy module learns from its first input (``torch.nn.UninitializedBuffer``)."""

    __slots__ = ()
    __torch_function__ = _disabled_torch_function_impl  # its data refuses ops itself (_no_data)
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> None:
        dt = dtypes.to_np_dtype(dtype) if dtype is not None else dtypes.get_default_dtype().np
        Tensor.__init__(self, np.empty((0,), dtype=dt), _wrap=True)
        self._data = _no_data(dt)
        if requires_grad:
            self.requires_grad_(True)

    def __deepcopy__(self, memo: dict) -> UninitializedBuffer:
        if id(self) not in memo:
            memo[id(self)] = UninitializedBuffer(self.requires_grad, dtype=self.dtype)
        return memo[id(self)]


def is_lazy(param: Any) -> bool:
    """Whether ``param`` is a placeholder still waiting for its shape (``torch.nn.parameter.is_lazy``)."""
    return isinstance(param, _UninitializedMixin)
