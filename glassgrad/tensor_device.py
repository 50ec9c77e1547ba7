"""Where a ``Tensor`` lives: ``device``, ``is_meta``/``is_cpu`` and PyTorch's other device flags,
``to`` (dtype, device and memory format), ``cpu``, ``cuda``, and ``stride``/``is_contiguous``/
``contiguous``/``clone`` (memory formats, ``memory_formats.py``; a meta tensor reports PyTorch's
contiguous strides, its storage being zero-strided). Attached to ``Tensor`` when ``tensor.py``
finishes loading, as ``tensor_methods.py`` is.

A tensor is on the meta device when its array is a ``MetaArray`` (``meta_array.py``); every other
tensor is on the CPU.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.device import (
    _CPU,
    _META,
    TENSOR_TO_KEYWORDS,
    check_accelerator,
    check_device,
    check_to_keywords,
    device,
    is_meta_device,
)
from glassgrad.memory_formats import (
    check_format,
    contiguous_format,
    element_strides,
    format_strides,
    is_contiguous_as,
    preserve_format,
    suggest_format,
)
from glassgrad.meta_array import MetaArray, no_data
from glassgrad.ops import conversion
from glassgrad.ops.layout import restride
from glassgrad.tensor import Tensor, attach
from glassgrad.user_frames import user_stacklevel

__all__: list[str] = []


def _is_meta_target(where: Any, op: str) -> bool:
    """Whether a ``to``/``cpu`` target names the meta device; another device but the CPU raises."""
    if where is None or where is _CPU:
        return False
    if is_meta_device(where):
        return True
    check_device(where, op)
    return False


class _Device:
    @property
    def device(self) -> device:
        return _META if self._data.__class__ is MetaArray else _CPU

    @property
    def is_meta(self) -> bool:
        return self._data.__class__ is MetaArray

    @property
    def is_cpu(self) -> bool:
        return self._data.__class__ is not MetaArray

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def volatile(self) -> bool:
        """Removed in PyTorch 0.4 (``with no_grad():`` replaced it): False, with PyTorch's warning."""
        warnings.warn(
            "volatile was removed (Variable.volatile is always False)", stacklevel=user_stacklevel()
        )
        return False

    @volatile.setter
    def volatile(self, value: Any) -> None:
        warnings.warn(
            "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
            stacklevel=user_stacklevel(),
        )

    def get_device(self) -> int:
        return -1  # the CPU (and meta), as PyTorch

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the tensor is laid out as ``memory_format`` (default ``contiguous_format``; dims
        of size 1 do not count). ``channels_last`` on a tensor that is not 4-D is False, as PyTorch."""
        fmt = check_format("is_contiguous", memory_format)
        if self._data.__class__ is MetaArray:  # no memory: judged by the contiguous strides it reports
            return fmt is preserve_format or is_contiguous_as(self._data, fmt, self.stride())
        return is_contiguous_as(self._data, fmt)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        """Self when already laid out as ``memory_format`` (default ``contiguous_format``), else a
        recorded copy that is. An ``N1HW`` tensor is both contiguous and channels-last, so this can
        return it unchanged where ``to(memory_format=...)`` restrides it, as in PyTorch."""
        if memory_format is None:
            return self if self._data.flags.c_contiguous else conversion.clone(self)
        fmt = check_format("contiguous", memory_format, self._data.ndim)
        if self._data.__class__ is MetaArray or is_contiguous_as(self._data, fmt):
            return self  # preserve_format asks for C-contiguity here, as PyTorch's is_contiguous
        check_format("contiguous", fmt, preserve=False)
        return restride(self, fmt)

    def clone(self, *, memory_format: Any = None) -> Tensor:
        """A recorded copy; ``preserve_format`` (the default) keeps the stride order, as PyTorch."""
        fmt = check_format("clone", memory_format, self._data.ndim)
        return restride(self, fmt)

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """Strides in elements (NumPy's are in bytes), as PyTorch; contiguous ones on meta and for an
        empty tensor."""
        if self._data.__class__ is MetaArray or self._data.size == 0:  # NumPy gives an empty array 0s
            strides = format_strides(self._data.shape, contiguous_format)
        else:
            strides = element_strides(self._data)
            if 0 in strides:
                strides = _size_one_strides(self._data.shape, strides)
        return strides if dim is None else strides[dim]

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; self when nothing changes.

        ``"cpu"`` and ``"meta"`` are the devices: a CPU tensor moves to meta (shape and dtype only),
        a meta one cannot move back (no data: ``NotImplementedError``, as PyTorch; use
        ``empty_like(t, device="cpu")``); another device raises. ``non_blocking``, ``copy``,
        ``tensor=`` are taken; ``memory_format`` restrides unless the strides already suggest it
        (so an ``N1HW`` tensor gets channels-last strides, where ``contiguous`` keeps it).
        """
        if kwargs:
            check_to_keywords("to", kwargs, TENSOR_TO_KEYWORDS)
        if "tensor" in kwargs:
            args = (*args, kwargs["tensor"])
        dtype = kwargs.get("dtype")
        target = kwargs.get("device")
        copy = kwargs.get("copy", False)
        flags = 0  # positional bools are non_blocking then copy, as in PyTorch's signatures
        for a in args:
            if isinstance(a, Tensor):
                dtype, target = a.dtype, a.device
            elif isinstance(a, bool):
                flags += 1
                copy = copy or (flags == 2 and a)
            elif isinstance(a, dtypes.DType | np.dtype) or a in (float, int, bool, complex):
                dtype = a
            elif a is not None:
                target = a
        out = self
        fmt = kwargs.get("memory_format")
        if fmt is not None:
            fmt = check_format("to", fmt, self._data.ndim)
            if fmt is not preserve_format and out._data.__class__ is not MetaArray:
                # a cast copies, and PyTorch's copy takes the asked format even where the strides
                # already suggest it (a transposed matrix becomes contiguous); without a cast, self
                cast = dtype is not None and dtypes.to_np_dtype(dtype) != out._data.dtype
                if cast or suggest_format(out._data) is not fmt:
                    out, copy = restride(out, fmt), False
        if target is not None:
            meta = _is_meta_target(target, "to")
            if out._data.__class__ is MetaArray and not meta:
                raise no_data("to")
            if meta and out._data.__class__ is not MetaArray:
                out, copy = conversion.to_meta(out), False
        if dtype is None or dtypes.to_np_dtype(dtype) == out._data.dtype:
            return restride(out, preserve_format) if copy else out
        return conversion.cast(out, dtypes.to_np_dtype(dtype))

    def cuda(
        self, device: Any = None, non_blocking: bool = False, memory_format: Any = preserve_format
    ) -> Tensor:
        check_accelerator(device, "cuda", "cuda")
        return self

    def cpu(self, memory_format: Any = preserve_format) -> Tensor:
        """``self`` (already on the CPU), or a copy in ``memory_format`` when one is asked for."""
        if self._data.__class__ is MetaArray:
            raise no_data("cpu")
        return self if memory_format is preserve_format else self.to(memory_format=memory_format)


attach(_Device)


def _never(name: str) -> property:
    def flag(self: Tensor) -> bool:
        return False

    flag.__name__, flag.__qualname__ = name, f"Tensor.{name}"
    return property(flag, doc=f"``{name}``: False, for a dense tensor on the CPU (or meta device).")


# PyTorch's flags are properties (getset descriptors), not booleans: tensor subclasses list their
# getters (``torch.Tensor.is_mps.__get__``, torchlie's LieTensor) among what __torch_function__ handles
for _name in ("is_xpu", "is_mps", "is_xla", "is_ipu", "is_vulkan", "is_maia", "is_mtia", "is_mkldnn",
              "is_quantized", "is_nested", "is_sparse_csr", "is_sparse"):  # fmt: skip
    setattr(Tensor, _name, _never(_name))


def _size_one_strides(shape: tuple, strides: tuple) -> tuple[int, ...]:
    """PyTorch's strides for NumPy's: a new or broadcast dim of size 1 has NumPy's stride 0, where
    PyTorch gives it the next dim's stride times that dim's size (1 for the last dim), the stride a
    contiguous layout would have there. Only the reported numbers change: a size-1 dim is never
    stepped along."""
    out, after = list(strides), 1
    for d in range(len(shape) - 1, -1, -1):
        if shape[d] == 1 and out[d] == 0:
            out[d] = after
        after = out[d] * shape[d]
    return tuple(out)
