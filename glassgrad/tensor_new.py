"""``x.new_zeros``, ``new_ones``, ``new_empty``, ``new_full`` and ``new_tensor``: a new tensor
with x's dtype and device unless given (``methods.py`` attaches them to ``Tensor``)."""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad import factories as fac
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["NEW_METHODS"]


def _new(fn: Any) -> Any:
    def method(
        self: Tensor,
        *size: Any,
        dtype: Any = None,
        device: Any = None,
        requires_grad: bool = False,
        **kw: Any,
    ) -> Tensor:
        where = self.device if device is None else device  # x.new_zeros(...) on x's device (meta)
        return fn(*size, dtype=dtype or self.dtype, device=where, requires_grad=requires_grad, **kw)

    return method


def new_full(
    self: Tensor,
    size: Any,
    fill_value: Any,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    where = self.device if device is None else device
    return fac.full(
        size, fill_value, dtype=dtype or self.dtype, layout=layout, device=where,
        requires_grad=requires_grad, pin_memory=pin_memory,
    )  # fmt: skip


def new_tensor(
    self: Tensor, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    where = self.device if device is None else device
    if isinstance(data, Tensor):  # PyTorch's warning, naming new_tensor and pointing at the caller
        warnings.warn(
            fac.COPY_CONSTRUCT.format("tensor.new_tensor"), UserWarning, stacklevel=user_stacklevel()
        )
        data = data._data  # the copy below, without tensor()'s own warning
    return fac.tensor(data, dtype=dtype or self.dtype, device=where, requires_grad=requires_grad)


NEW_METHODS = {
    "new_zeros": _new(fac.zeros),
    "new_ones": _new(fac.ones),
    "new_empty": _new(fac.empty),
    "new_full": new_full,
    "new_tensor": new_tensor,
}
