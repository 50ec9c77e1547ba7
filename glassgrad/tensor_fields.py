"""``Tensor.data`` and ``Tensor.grad``, the fields programs assign, with PyTorch's checks: ``.data``
takes a tensor only (and one of a floating dtype while the tensor requires grad), ``.grad`` a tensor
of the same shape, dtype and device or None; ``del p.grad`` clears it, ``del p.data`` is refused."""

from __future__ import annotations

from typing import Any

from glassgrad.autograd import hooks
from glassgrad.errors import DeviceError, DTypeError, ShapeError
from glassgrad.meta_array import MetaArray
from glassgrad.operand_errors import _type_name
from glassgrad.tensor import Tensor, attach

__all__: list[str] = []


class _Fields:
    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's memory, cut from the graph, as PyTorch's ``.data``.

        Changes through it are not seen by autograd (it has its own version counter, unlike
        ``detach()``); ``p.data = t`` swaps the array this tensor holds. ``numpy()`` gives the array.
        """
        out = Tensor(self._data, _wrap=True)
        # Its memory is shared now, on both sides: a recorded in-place op must swap neither array.
        self._vc[1] = out._vc[1] = True
        return out

    @data.setter
    def data(self, value: Any) -> None:
        if not isinstance(value, Tensor):  # PyTorch's: an array or number is not converted
            raise TypeError(f"Variable data has to be a tensor, but got {_type_name(value)}")
        if self.requires_grad and value._data.dtype.kind not in "fc":  # backward could not reach it
            raise DTypeError(
                "data set to a tensor that requires gradients must be floating point or complex dtype, "
                f"got {value.dtype}"
            )
        self._data = value._data
        # The memory is shared now, with value: on both sides a recorded in-place op must swap
        # neither array.
        self._vc[1] = value._vc[1] = True

    @data.deleter
    def data(self) -> None:
        raise RuntimeError("Deleting tensor data is not allowed. Delete tensor instead!")

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by ``backward()`` (None until then, or after ``zero_grad()``).

        Reading it on a non-leaf tensor without ``retain_grad()`` warns, as PyTorch does."""
        if self._grad is None and self._node is not None:
            hooks.warn_unretained_grad(self)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"grad: expected a Tensor or None, got {type(value).__name__} (to clear it, "
                    "assign None or call .grad.zero_())"
                )
            if value is self:  # accumulating into .grad would then change the tensor itself
                raise RuntimeError(
                    f"can't assign Variable as its own grad (tensor of shape {tuple(self.shape)}); "
                    "assign a copy, x.grad = x.detach().clone()"
                )
            if value._data.shape != self._data.shape:
                raise ShapeError(f"grad: expected a gradient of shape {self.shape}, got {value.shape}")
            if value._data.dtype != self._data.dtype:
                raise DTypeError(f"grad: expected a gradient of dtype {self.dtype}, got {value.dtype}")
            if (value._data.__class__ is MetaArray) is not (self._data.__class__ is MetaArray):
                raise DeviceError(
                    f"attempting to assign a gradient with device type '{value.device.type}' to a tensor "
                    f"with device type '{self.device.type}'. Please ensure that the gradient and the "
                    "tensor are on the same device"
                )
        self._grad = value

    @grad.deleter
    def grad(self) -> None:  # PyTorch's `del p.grad` frees it, as `p.grad = None`
        self._grad = None


attach(_Fields)
