"""The volumetric layers, ``(N, C, D, H, W)``: ``Conv3d``, ``ConvTranspose3d``, ``MaxPool3d``,
``AvgPool3d``, ``AdaptiveAvgPool3d``, ``AdaptiveMaxPool3d``, ``BatchNorm3d`` and the 3-D padding
layers, with PyTorch's arguments, parameter shapes, ``state_dict`` keys and reprs.

Each is its 1-D/2-D family's shared base class with three spatial dims, calling the 3-D functions.
"""

from __future__ import annotations

from typing import Any

import glassgrad.nn.functional as F
from glassgrad.nn.conv import _Conv, _ConvTranspose
from glassgrad.nn.normalization import _BatchNorm
from glassgrad.nn.padding import _ConstantPadNd, _PadNd
from glassgrad.nn.pooling import _AdaptiveAvg, _AdaptiveMax, _AvgPoolNd, _LPPoolNd, _MaxPoolNd, _MaxUnpoolNd
from glassgrad.tensor import Tensor

__all__ = [
    "Conv3d",
    "ConvTranspose3d",
    "MaxPool3d",
    "AvgPool3d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool3d",
    "BatchNorm3d",
    "ReflectionPad3d",
    "ReplicationPad3d",
    "CircularPad3d",
    "ConstantPad3d",
    "ZeroPad3d",
    "MaxUnpool3d",
    "LPPool3d",
]


class Conv3d(_Conv):
    """3-D convolution (cross-correlation) over ``(N, C, D, H, W)`` volumes.

    Args:
        in_channels, out_channels: channels in and out.
        kernel_size, stride, dilation: int or ``(d, h, w)``.
        padding: int, ``(d, h, w)``, ``"valid"`` or ``"same"``; filled according to ``padding_mode``
            (``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``).
        groups: independent channel groups; bias: learn a per-output-channel bias.

    Shape:
        input ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``, output ``(N, C_out, Do, Ho, Wo)``.

    Attributes:
        weight: ``(out_channels, in_channels / groups, kd, kh, kw)``, U(-1/sqrt(fan_in), 1/sqrt(fan_in));
        bias: ``(out_channels,)``, same bound.

    >>> Conv3d(2, 4, 3, padding=1)
    Conv3d(2, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=(1, 1, 1))
    """

    _nd = 3  # forward and _conv_forward come from _Conv


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution: each input voxel paints a kernel-sized block of the output.

    Shape:
        input ``(N, C_in, D, H, W)``, output ``(N, C_out, Do, Ho, Wo)``,
        ``Do = (D-1)s - 2p + dl(k-1) + output_padding + 1``; ``forward(input, output_size)`` picks the
        output_padding that gives ``output_size``.

    Attributes:
        weight: ``(in_channels, out_channels / groups, kd, kh, kw)``; bias ``(out_channels,)``.

    >>> ConvTranspose3d(4, 2, 3, stride=2, output_padding=1)
    ConvTranspose3d(4, 2, kernel_size=(3, 3, 3), stride=(2, 2, 2), output_padding=(1, 1, 1))
    """

    _nd = 3

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        self._check_input(input)
        op = self._output_padding(input, output_size)
        return F.conv_transpose3d(
            input, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation
        )


class MaxPool3d(_MaxPoolNd):
    """Maximum over each window of a volume; the gradient goes to each window's (first) maximum.

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``, output ``(N, C, Do, Ho, Wo)``; with
        ``return_indices`` also the flat index ``d * H * W + h * W + w`` of each maximum.

    >>> MaxPool3d(2)
    MaxPool3d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    """

    _nd = 3


class AvgPool3d(_AvgPoolNd):
    """Mean over each window of a volume (padded zeros count unless ``count_include_pad=False``).

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``, output ``(N, C, Do, Ho, Wo)``.

    >>> AvgPool3d(2)
    AvgPool3d(kernel_size=2, stride=2, padding=0)
    """

    _nd = 3


class AdaptiveAvgPool3d(_AdaptiveAvg):
    """Average over ``output_size`` bins whatever the volume's size (``1`` is global average pooling).

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``, output ``(N, C, *output_size)``.
    """

    _nd = 3


class AdaptiveMaxPool3d(_AdaptiveMax):
    """Maximum over ``output_size`` bins whatever the volume's size.

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``, output ``(N, C, *output_size)``.
    """

    _nd = 3


class BatchNorm3d(_BatchNorm):
    """Batch norm over ``(N, C, D, H, W)``: per channel, statistics over N, D, H and W (see BatchNorm1d).

    Shape:
        input ``(N, C, D, H, W)``, output the same.

    >>> BatchNorm3d(3)
    BatchNorm3d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    _dims = (5,)
    _layout = "(N, {C}, D, H, W)"


class ReflectionPad3d(_PadNd):
    """3-D reflection padding, ``(left, right, top, bottom, front, back)``; each pad below its dim.

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``, output ``(..., D + front + back, H + top + bottom,
        W + left + right)``.
    """

    _dims, _mode = 3, "reflect"


class ReplicationPad3d(_PadNd):
    """3-D replication padding: repeat the edge voxels.

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``, output padded as ``ReflectionPad3d``.
    """

    _dims, _mode = 3, "replicate"


class CircularPad3d(_PadNd):
    """3-D circular padding: the values from the other end.

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``, output padded as ``ReflectionPad3d``.
    """

    _dims, _mode = 3, "circular"


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with ``value`` (negative sizes crop).

    Shape:
        input ``(*, D, H, W)`` (any number of leading dims, as PyTorch), output padded as
        ``ReflectionPad3d``.

    >>> ConstantPad3d(1, 3.5)
    ConstantPad3d(padding=(1, 1, 1, 1, 1, 1), value=3.5)
    """

    _dims = 3


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dims with zeros.

    Shape:
        input ``(*, D, H, W)``, output padded as ``ReflectionPad3d``.

    >>> ZeroPad3d((1, 0, 2, 0, 0, 1))
    ZeroPad3d((1, 0, 2, 0, 0, 1))
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class MaxUnpool3d(_MaxUnpoolNd):
    """Undo ``MaxPool3d(..., return_indices=True)``: each value back at its index, zeros elsewhere.

    Shape:
        input, indices ``(N, C, D, H, W)``, output ``(N, C, (D-1)s - 2p + k, ...)`` or ``output_size``.

    >>> MaxUnpool3d(2)
    MaxUnpool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=(0, 0, 0))
    """

    _nd = 3


class LPPool3d(_LPPoolNd):
    """3-D power-average pooling ``(sum over the window of x^p)^(1/p)``.

    Shape:
        input ``(N, C, D, H, W)``, output ``(N, C, Do, Ho, Wo)``.

    >>> LPPool3d(2, 2)
    LPPool3d(norm_type=2, kernel_size=2, stride=None, ceil_mode=False)
    """

    _nd = 3
