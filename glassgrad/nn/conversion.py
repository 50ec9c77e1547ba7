"""Dtype conversion of a module's parameters and buffers: ``to``, ``cpu``, ``half``, ``float``,
``double``, ``type``.

``Module`` inherits these from :class:`Conversion`. They change each array in place of the same
Parameter/buffer object (and its ``.grad``), so optimizers that already hold the parameters keep
working, as in PyTorch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Self

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.device import MODULE_TO_KEYWORDS, check_device, check_to_keywords
from glassgrad.tensor import Tensor

__all__ = ["Conversion"]


class Conversion:
    """The dtype half of ``Module``: casting every parameter and buffer of the module tree."""

    def _apply_arrays(self, convert: Callable[[np.ndarray], np.ndarray]) -> Self:
        with no_grad():
            for module in self.modules():
                for t in itertools.chain(module._parameters.values(), module._buffers.values()):
                    if t is not None:
                        t._data = convert(t._data)
                        if t.grad is not None:
                            t.grad._data = convert(t.grad._data)
        return self

    def _cast_floating(self, dtype: Any) -> Self:
        dt = dtypes.to_np_dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"Module.to: expected a floating dtype, got {dtype!r}")
        return self._apply_arrays(lambda a: a.astype(dt, copy=False) if a.dtype.kind == "f" else a)

    def to(self, *args: Any, **kwargs: Any) -> Self:
        """``to(dtype)``, ``to("cpu")``, ``to(device, dtype)``, ``to(tensor)``: floating params and
        buffers change dtype. ``non_blocking``/``memory_format`` are accepted; another keyword raises
        ``TypeError``, as PyTorch."""
        if kwargs:
            check_to_keywords("Module.to", kwargs, MODULE_TO_KEYWORDS)
        dtype = kwargs.get("dtype")
        for a in (*args, kwargs.get("device"), kwargs.get("tensor")):
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, bool):  # non_blocking, given positionally: nothing to wait for here
                continue
            elif (
                isinstance(a, dtypes.DType | np.dtype)
                or a is float
                or (isinstance(a, type) and issubclass(a, np.generic))
            ):
                dtype = a
            elif a is not None:
                check_device(a, "Module.to")
        return self if dtype is None else self._cast_floating(dtype)

    def cpu(self) -> Self:
        return self

    def cuda(self, device: Any = None) -> Self:
        check_device("cuda" if device is None else device, "Module.cuda")
        return self

    def half(self) -> Self:
        return self._cast_floating(dtypes.float16)

    def float(self) -> Self:
        return self._cast_floating(dtypes.float32)

    def double(self) -> Self:
        return self._cast_floating(dtypes.float64)

    def type(self, dst_type: Any) -> Self:
        """Cast every parameter and buffer (integer ones too) to ``dst_type``."""
        dt = dtypes.to_np_dtype(dst_type)
        return self._apply_arrays(lambda a: a.astype(dt, copy=False))

    def share_memory(self) -> Self:
        """Move every parameter and buffer into shared memory (``Tensor.share_memory_``), so that
        processes started afterwards with ``glassgrad.multiprocessing`` update the same weights."""
        for t in (*self.parameters(), *self.buffers()):
            t.share_memory_()
        return self

    def to_empty(self, *, device: Any = None, recurse: bool = True) -> Self:
        """PyTorch's way out of the ``meta`` device; glassgrad has only CPU arrays, which already
        hold storage, so the module is returned unchanged."""
        return self
