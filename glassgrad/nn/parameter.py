"""``Parameter``: a Tensor that a ``Module`` registers as learnable when assigned as an attribute."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.meta_array import MetaArray
from glassgrad.tensor import Tensor, as_array

__all__ = ["Parameter", "Buffer"]


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


class Parameter(Tensor):
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

    def __new__(cls, data: Any = None, requires_grad: bool = True) -> Parameter:
        # A tensor subclass with a parameter class of its own stays that subclass, as PyTorch's
        # nn.Parameter(dtensor) is a DTensor: DTensor's hook returns a built DTensorParameter. So
        # does a Parameter subclass's: PyTorch's MyParam(dtensor) is a DTensor too, not a MyParam.
        make = getattr(type(data), "_parameter_of", None)
        if make is not None:
            return make(data, requires_grad)
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


class Buffer(Tensor):
    """A Tensor that a ``Module`` registers as a buffer when assigned as an attribute
    (``torch.nn.Buffer``): ``self.pe = nn.Buffer(table, persistent=False)`` is
    ``self.register_buffer("pe", table, persistent=False)``. Its data is shared, not copied.
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Any = None, *, persistent: bool = True) -> None:
        _init_shared(self, [] if data is None else data)
        self.persistent = persistent
