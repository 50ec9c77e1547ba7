"""Pooling layers with PyTorch's names, arguments and reprs: max, average, adaptive, unpooling, LP.

None has parameters; each stores its arguments as given (as PyTorch does) and calls ``F``. Each
family shares one base class parameterised by ``_nd``, the number of spatial dims, which picks the
function ``F.<name>{_nd}d``; the 3-D layers in ``nn.layers3d`` are these bases with ``_nd = 3``.
"""

from __future__ import annotations

from typing import Any

import glassgrad.nn.functional as F
from glassgrad.nn.functional.conv import ntuple
from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "LPPool1d",
    "LPPool2d",
]


class _MaxPoolNd(Module):
    """MaxPool1d/2d/3d: input ``(N, C, *spatial)`` with ``_nd`` spatial dims, output ``(N, C, *windows)``."""

    _nd = 2

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        return getattr(F, f"max_pool{self._nd}d")(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class MaxPool2d(_MaxPoolNd):
    """Maximum over each window; the gradient goes to each window's (first) maximum only.

    Shape:
        input ``(N, C, H, W)``, output ``(N, C, Ho, Wo)``, ``Ho = floor((H + 2p - d(k-1) - 1)/s) + 1``
        (ceil with ``ceil_mode``). With ``return_indices`` also the flat index of each maximum.

    >>> MaxPool2d(2)
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    """


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling.

    Shape:
        input ``(N, C, L)``, output ``(N, C, Lo)``.
    """

    _nd = 1


class _AvgPoolNd(Module):
    """AvgPool2d/3d: input ``(N, C, *spatial)`` with ``_nd`` spatial dims, output ``(N, C, *windows)``."""

    _nd = 2

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return getattr(F, f"avg_pool{self._nd}d")(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over each window (padded zeros count unless ``count_include_pad=False``).

    Shape:
        input ``(N, C, H, W)``, output ``(N, C, Ho, Wo)``.

    >>> AvgPool2d(2)
    AvgPool2d(kernel_size=2, stride=2, padding=0)
    """


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling; sizes are kept as 1-tuples and there is no ``divisor_override``, as PyTorch.

    Shape:
        input ``(N, C, L)``, output ``(N, C, Lo)``.

    >>> AvgPool1d(3)
    AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))
    """

    _nd = 1

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        # a _AvgPoolNd for isinstance checks, as in PyTorch, but its sizes are 1-tuples: skip that __init__
        Module.__init__(self)
        self.kernel_size = ntuple(kernel_size, 1, "AvgPool1d", "kernel_size", 1)
        self.stride = ntuple(stride if stride is not None else kernel_size, 1, "AvgPool1d", "stride", 1)
        self.padding = ntuple(padding, 1, "AvgPool1d", "padding")
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.avg_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )


class _Adaptive(Module):
    """Adaptive pools: input ``(N, C, *spatial)`` with ``_nd`` spatial dims, output ``(N, C, *output_size)``."""

    _nd = 2

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveAvg(_Adaptive):
    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return getattr(F, f"adaptive_avg_pool{self._nd}d")(input, self.output_size)


class _AdaptiveMax(_Adaptive):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        return getattr(F, f"adaptive_max_pool{self._nd}d")(input, self.output_size, self.return_indices)


class AdaptiveAvgPool2d(_AdaptiveAvg):
    """Average over ``output_size`` bins whatever the input size (``(1, 1)`` is global average pooling).

    Shape:
        input ``(N, C, H, W)``, output ``(N, C, *output_size)``.

    >>> AdaptiveAvgPool2d((1, 1))
    AdaptiveAvgPool2d(output_size=(1, 1))
    """


class AdaptiveAvgPool1d(_AdaptiveAvg):
    """1-D adaptive average pooling.

    Shape:
        input ``(N, C, L)``, output ``(N, C, output_size)``.
    """

    _nd = 1


class AdaptiveMaxPool2d(_AdaptiveMax):
    """Maximum over ``output_size`` bins whatever the input size.

    Shape:
        input ``(N, C, H, W)``, output ``(N, C, *output_size)``.
    """


class AdaptiveMaxPool1d(_AdaptiveMax):
    """1-D adaptive max pooling.

    Shape:
        input ``(N, C, L)``, output ``(N, C, output_size)``.
    """

    _nd = 1


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        name, nd = type(self).__name__, self._nd
        self.kernel_size = ntuple(kernel_size, nd, name, "kernel_size", 1)
        self.stride = ntuple(stride if stride is not None else kernel_size, nd, name, "stride", 1)
        self.padding = ntuple(padding, nd, name, "padding")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        return getattr(F, f"max_unpool{self._nd}d")(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )


class MaxUnpool2d(_MaxUnpoolNd):
    """Undo ``MaxPool2d(..., return_indices=True)``: each value back at its index, zeros elsewhere.

    Shape:
        input, indices ``(N, C, H, W)``, output ``(N, C, (H-1)s - 2p + k, ...)`` or ``output_size``.

    >>> MaxUnpool2d(2)
    MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
    """


class MaxUnpool1d(_MaxUnpoolNd):
    """1-D max unpooling.

    Shape:
        input, indices ``(N, C, L)``, output ``(N, C, (L-1)s - 2p + k)`` or ``output_size``.
    """

    _nd = 1


class _LPPoolNd(Module):
    _nd = 2

    def __init__(
        self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False
    ) -> None:
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        # float(), as PyTorch's module: an integer input is raised to a float power (a float
        # tensor), so its window mean is not truncated to an integer as F's int-power path is
        return getattr(F, f"lp_pool{self._nd}d")(
            input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode
        )


class LPPool2d(_LPPoolNd):
    """Power-average pooling ``(sum over the window of x^p)^(1/p)``.

    Shape:
        input ``(N, C, H, W)``, output ``(N, C, Ho, Wo)``.
    """


class LPPool1d(_LPPoolNd):
    """1-D power-average pooling.

    Shape:
        input ``(N, C, L)``, output ``(N, C, Lo)``.
    """

    _nd = 1
