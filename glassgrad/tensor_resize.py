"""``Tensor.resize_`` and ``Tensor.resize_as_``: PyTorch's in-place change of a tensor's shape over
its memory (NYU-DLSP20's tensor tutorial: ``r = torch.Tensor(t); r.resize_(3, 8)``); and
``Tensor.set_``, which makes a tensor use another's memory (GRU4Rec re-initialises its parameters
with ``p.set_(torch.tensor(array))`` under ``no_grad``).

PyTorch keeps the storage and lays the new shape over it contiguously from the tensor's first
element: a shape with no more elements than the memory from there to the end of the storage
reads that memory (still shared with ``t`` and the other views of it); a larger one grows the
storage, keeping its contents. glassgrad reads NumPy's memory the same way: from the tensor's
first element to the end of the array that owns the memory. Growing makes a new array with the
old contents first (and zeros after them, where PyTorch leaves memory uninitialised); other
tensors that shared the old memory keep it (PyTorch's grow the shared storage with it).

As PyTorch: refused on a tensor that requires grad (even under ``no_grad``), and the version goes
up, so an op that saved the tensor for backward raises there.
"""

from __future__ import annotations

import math
import operator
import sys
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive
from glassgrad.autograd.grad_mode import is_grad_enabled as grad_enabled
from glassgrad.backend import array_module
from glassgrad.deterministic import fill_uninitialized
from glassgrad.errors import GraphError
from glassgrad.held_memory import refuse_growth
from glassgrad.memory_formats import (
    _ORDER,
    _RANK,
    check_format,
    contiguous_format,
    format_strides,
    preserve_format,
    suggest_format,
)
from glassgrad.memory_overlap import memory_from_first_element
from glassgrad.meta_array import MetaArray
from glassgrad.ops import stale_views as _stale
from glassgrad.tensor import Tensor
from glassgrad.tensor_storage import TypedStorage, _Storage

__all__ = ["METHODS", "resize_", "resize_as_", "set_"]


def _shape(sizes: tuple) -> tuple[int, ...]:
    """``resize_(2, 3)``, ``resize_((2, 3))``, ``resize_(torch.Size([2, 3]))`` -> (2, 3)."""
    if len(sizes) == 1 and not isinstance(sizes[0], int) and hasattr(sizes[0], "__iter__"):
        sizes = tuple(sizes[0])
    shape = []
    for s in sizes:
        try:
            shape.append(operator.index(s))
        except TypeError:
            raise TypeError(
                f"resize_(): argument 'size' must be a tuple of ints, not {type(s).__name__}"
            ) from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"resize_(): negative size in {tuple(shape)}: every size must be >= 0")
    return tuple(shape)


def _lay_out(flat: np.ndarray, shape: tuple[int, ...], fmt: Any) -> np.ndarray:
    """``flat`` (the memory, in order) read as ``shape`` laid out in ``fmt``: C order, or for
    ``channels_last``/``channels_last_3d`` the channels-last buffer viewed as ``shape``."""
    if fmt not in _RANK:
        return flat.reshape(shape)
    perm = _ORDER[len(shape)][::-1]  # the buffer's dim order, (0, 2, 3, 1) or (0, 2, 3, 4, 1)
    return flat.reshape(tuple(shape[d] for d in perm)).transpose(
        tuple(perm.index(d) for d in range(len(shape)))
    )


def resize_(self: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """Give ``self`` the shape ``sizes`` over its memory, laid out contiguously, or in
    ``memory_format`` (``channels_last`` for 4-D, ``channels_last_3d`` for 5-D) as PyTorch's (see
    the module docstring); returns ``self``."""
    shape = _shape(sizes)
    fmt = contiguous_format if memory_format is None else memory_format
    fmt = check_format("resize_", fmt, ndim=len(shape), preserve=False)
    if self.requires_grad:
        raise GraphError(
            "resize_: cannot resize a tensor that requires grad (PyTorch refuses it too); resize a detached copy"
        )
    arr, n = self._data, math.prod(shape)
    if n * arr.itemsize > sys.maxsize:
        # PyTorch's RuntimeError (NumPy's own refusal is a ValueError, which no PyTorch program catches)
        raise RuntimeError(
            f"resize_: Storage size calculation overflowed with sizes={list(shape)} ({n} elements of {arr.itemsize} bytes)"
        )
    if memory_format is None and arr.shape == shape:
        # PyTorch's resize_impl returns at once: the strides stay (an ``out=`` view of a bigger
        # tensor keeps writing into its base) and the version does not move
        return self
    if isinstance(arr, MetaArray):  # no memory to keep: only the shape changes
        self._data = array_module(arr).empty(shape, dtype=arr.dtype)
    else:
        memory = memory_from_first_element(arr)
        if memory is None:  # not one plain run: the elements in their order stand for it
            memory = arr.reshape(-1)
        if n <= memory.size:
            self._data = _lay_out(memory[:n], shape, fmt)
        else:
            refuse_growth("resize_", arr, n)  # memory a NumPy array shares: growing would cut it off
            grown = fill_uninitialized(np.zeros(n, dtype=arr.dtype))  # PyTorch's new bytes
            grown[: memory.size] = memory
            self._data = _lay_out(grown, shape, fmt)
    self._vc[0] += 1  # the counter shared with the views and detach(): saved copies go stale
    _stale.changed(self._vc, "resize_")
    return self


def resize_as_(self: Tensor, the_template: Tensor, *, memory_format: Any = None) -> Tensor:
    """``self.resize_(the_template.shape, memory_format=...)`` (PyTorch's parameter name); as
    PyTorch's, ``preserve_format`` takes the template's layout."""
    if not isinstance(the_template, Tensor):
        raise TypeError(
            f"resize_as_(): expected a Tensor as argument 'the_template', got {type(the_template).__name__}"
        )
    if memory_format is preserve_format:
        memory_format = suggest_format(the_template._data)
    return resize_(self, tuple(the_template.shape), memory_format=memory_format)


class _SetBackward(Primitive):
    """The node of a tensor that took, by ``set_``, the memory of one that requires grad: set_ has no
    derivative, so reaching it in backward raises (PyTorch's ``<NotImplemented>`` node)."""

    name = "set_"
    node_name = "NotImplemented"
    register = False

    @staticmethod
    def forward(ctx, a):
        return a

    @staticmethod
    def backward(ctx, g):
        raise GraphError("set_: the derivative for set_ is not implemented (call it under no_grad())")


def set_(self: Tensor, source: Any = None, *args: Any, **kwargs: Any) -> Tensor:
    """``t.set_(source)``: ``t`` takes ``source``'s memory and shape (the two share memory from then
    on; each keeps its own version counter, whose ``t``'s goes up); ``t.set_()`` empties ``t`` to
    shape ``(0,)``. The dtypes must match. As PyTorch: refused on a tensor that requires grad while
    grad mode is on. ``t.set_(storage, storage_offset=0, size=None, stride=None)`` views a storage's
    memory (``untyped_storage()``, or ``storage()`` of t's dtype) as t's dtype: all of it as 1-D
    without a size, contiguous strides without a stride; writes through t reach the tensors over
    that memory. A view past the storage's end is refused (PyTorch grows the storage).
    ``t.set_(tensor, storage_offset, size, stride=None)`` does the same over a contiguous tensor's
    memory, the offset counted from its first element (PyTorch's overload)."""
    if isinstance(source, _Storage):
        return _set_storage(self, source, *args, **kwargs)
    if not (source is None or isinstance(source, Tensor)):
        raise TypeError(
            f"set_(): expected a Tensor or storage source (or nothing), got {type(source).__name__}"
        )
    if args or kwargs:
        return _set_tensor_memory(self, source, *args, **kwargs)
    if source is not None and source._data.dtype != self._data.dtype:
        raise RuntimeError(
            f"set_: Could not set tensor of type {source.dtype} to a tensor of type {self.dtype} (the dtypes must match)"
        )
    if source is not None and source.device != self.device:
        raise RuntimeError(
            f"set_: expected a source on the tensor's device {self.device}, got {source.device}"
        )
    self._check_inplace("set_")  # grad mode, read-only memory; the version goes up
    if source is None:
        self._data = array_module(self._data).empty((0,), dtype=self._data.dtype)
        return self
    self._data = source._data
    if source.requires_grad and grad_enabled():
        # as PyTorch: a node whose backward raises, so a gradient through ``self`` is never silently lost
        self._node, self.requires_grad = _SetBackward.apply(source)._node, True
    # the memory is shared now: a recorded in-place op on either must write into it, not swap it
    self._vc[1] = source._vc[1] = True
    return self


def _set_tensor_memory(
    self: Tensor, source: Any, storage_offset: int | None = None, size: Any = None, stride: Any = None
) -> Tensor:
    """``t.set_(source, storage_offset, size, stride=None)``: PyTorch's overload taking a tensor as
    the storage: ``source`` must be contiguous, and the offset counts from ``source``'s first
    element (``source.storage_offset() + storage_offset``), over ``source``'s memory."""
    if source is None or storage_offset is None or size is None:
        raise TypeError(
            "set_(): expected (), (source), or (source, storage_offset, size, stride=None); "
            f"got source={type(source).__name__}, storage_offset={storage_offset!r}, size={size!r}"
        )
    if not source.is_contiguous():
        raise RuntimeError(
            f"set_: passed in tensor to be used as storage must be contiguous (got size {tuple(source.shape)} "
            f"with stride {source.stride()})"
        )
    offset = operator.index(storage_offset) + source.storage_offset()
    return _set_storage(self, source.untyped_storage(), offset, size, stride)


def _set_storage(
    self: Tensor, storage: Any, storage_offset: int = 0, size: Any = None, stride: Any = None
) -> Tensor:
    """``set_``'s storage form: self becomes an ndarray over ``storage``'s bytes (see ``set_``)."""
    dt, flat = self._data.dtype, storage._flat
    if self._data.__class__ is MetaArray:
        raise RuntimeError("set_: expected a tensor on the storage's device cpu, got one on meta")
    if isinstance(storage, TypedStorage) and flat.dtype != dt:
        raise RuntimeError(
            f"set_: Expected a Storage of type {self.dtype} or an UntypedStorage, but got {storage.dtype}"
        )
    count = flat.nbytes // dt.itemsize  # elements of self's dtype in the storage
    shape = (count,) if size is None else tuple(int(n) for n in size)
    steps = format_strides(shape, contiguous_format) if stride is None else tuple(int(n) for n in stride)
    if len(steps) != len(shape):
        raise RuntimeError(f"set_: expected a stride for each of the {len(shape)} sizes, got {steps}")
    last = storage_offset + sum((n - 1) * st for n, st in zip(shape, steps, strict=True) if n)
    if storage_offset < 0 or (math.prod(shape) and last >= count):
        raise RuntimeError(
            f"set_: size {shape} with stride {steps} at offset {storage_offset} reaches past the storage's "
            f"{count} elements of {self.dtype} (glassgrad does not grow a storage)"
        )
    self._check_inplace("set_")
    buffer = flat.view(np.uint8)
    data = np.ndarray(
        shape,
        dt,
        buffer=buffer,
        offset=storage_offset * dt.itemsize,
        strides=[n * dt.itemsize for n in steps],
    )
    self._data, self._vc[1] = data, True  # the memory is shared now (see set_)
    return self


METHODS = {"resize_": resize_, "resize_as_": resize_as_, "set_": set_}
