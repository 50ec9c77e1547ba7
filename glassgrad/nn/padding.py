"""Padding layers: zeros, a constant, the mirror image (reflect), the edge (replicate) or the other
side (circular), in 1-D and 2-D, as ``F.pad`` with a fixed mode.

``padding`` is an int (every side) or a tuple starting from the last dim: ``(left, right)`` in
1-D, ``(left, right, top, bottom)`` in 2-D.
"""

from __future__ import annotations

from typing import Any

import glassgrad.nn.functional as F
from glassgrad.errors import KernelRankError
from glassgrad.nn.module import Module
from glassgrad.nn.sizes import size_int
from glassgrad.tensor import Tensor

__all__ = [
    "ZeroPad1d",
    "ZeroPad2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "CircularPad1d",
    "CircularPad2d",
]


class _PadNd(Module):
    """Shared code: ``padding`` normalised to ``2 * dims`` ints; the mode is the subclass's."""

    _dims = 2
    _mode = "constant"

    def __init__(self, padding: int | tuple[int, ...]) -> None:
        super().__init__()
        n = 2 * self._dims
        # an int or a NumPy integer, as PyTorch (which iterates a tensor, so a 0-d one fails there)
        one = None if isinstance(padding, Tensor) else size_int(padding)
        pads = (one,) * n if one is not None else tuple(int(p) for p in padding)
        if len(pads) != n:
            raise ValueError(f"{type(self).__name__}: expected an int or {n} pad sizes, got {padding!r}")
        self.padding = pads

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        # The constant modes pad any input with enough dims (PyTorch's only call F.pad: ZeroPad2d
        # pads an (H, W) image); the others have kernels for (C, *S) and (N, C, *S) only.
        if self._mode != "constant" and input.ndim not in (self._dims + 1, self._dims + 2):
            words = (  # PyTorch's: a ValueError from CircularPad's check, else NotImplementedError
                f"expected {self._dims + 1}D or {self._dims + 2}D input (got {input.ndim}D input)"
                if self._mode == "circular"
                else f"Padding size {2 * self._dims} is not supported for {input.ndim}D input tensor."
            )
            raise KernelRankError(
                f"{self!r}: expected input with {self._dims + 1} or {self._dims + 2} dims, got "
                f"{tuple(input.shape)}: {words}"
            )
        return F.pad(input, self.padding, self._mode, self._value())

    def _value(self) -> float | None:
        return None  # the index modes take no fill value

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad with the mirror image, the edge itself not repeated: ``[1, 2, 3]`` padded 2 -> ``3 2 | 1 2 3 | 2 1``.

    Shape:
        input ``(N, C, W)`` or ``(C, W)``, output ``(..., W + left + right)``.
    """

    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """2-D reflection padding (see ``ReflectionPad1d``); each pad must be smaller than its dim.

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``, output ``(..., H + top + bottom, W + left + right)``.

    >>> ReflectionPad2d(1)
    ReflectionPad2d((1, 1, 1, 1))
    """

    _dims, _mode = 2, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad by repeating the edge value: ``[1, 2, 3]`` padded 2 -> ``1 1 | 1 2 3 | 3 3``.

    Shape:
        input ``(N, C, W)`` or ``(C, W)``, output ``(..., W + left + right)``.
    """

    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """2-D replication padding (see ``ReplicationPad1d``).

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``, output ``(..., H + top + bottom, W + left + right)``.
    """

    _dims, _mode = 2, "replicate"


class CircularPad1d(_PadNd):
    """Pad with the values from the other end: ``[1, 2, 3]`` padded 2 -> ``2 3 | 1 2 3 | 1 2``.

    Shape:
        input ``(N, C, W)`` or ``(C, W)``, output ``(..., W + left + right)``.
    """

    _dims, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """2-D circular padding (see ``CircularPad1d``).

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``, output ``(..., H + top + bottom, W + left + right)``.
    """

    _dims, _mode = 2, "circular"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | tuple[int, ...], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def _value(self) -> float:
        return self.value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value`` (negative sizes crop).

    Shape:
        input ``(*, W)`` (any number of leading dims, as PyTorch), output ``(*, W + left + right)``.
    """

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value`` (negative sizes crop).

    Shape:
        input ``(*, H, W)`` (any number of leading dims, as PyTorch), output
        ``(*, H + top + bottom, W + left + right)``.

    >>> ConstantPad2d(1, 3.5)
    ConstantPad2d(padding=(1, 1, 1, 1), value=3.5)
    """

    _dims = 2


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros.

    Shape:
        input ``(*, W)``, output ``(*, W + left + right)``.
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros (what a convolution's ``padding`` does inside).

    Shape:
        input ``(*, H, W)``, output ``(*, H + top + bottom, W + left + right)``.

    >>> ZeroPad2d((1, 0, 2, 0))
    ZeroPad2d((1, 0, 2, 0))
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"
