"""``torch.nn.modules.conv``'s import path: the same classes as ``glassgrad.nn``."""

import warnings

from glassgrad.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, _ConvNd, _ConvTranspose
from glassgrad.nn.layers3d import Conv3d, ConvTranspose3d
from glassgrad.nn.lazy import (
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyConvTranspose3d,
)
from glassgrad.nn.modules.utils import _pair, _reverse_repeat_tuple, _single, _triple

# PyTorch's name for the base of the transposed convolutions
_ConvTransposeNd = _ConvTranspose


class _ConvTransposeMixin(_ConvTransposeNd):
    """PyTorch's deprecated alias base of the transposed convolutions (MMEngine imports it)."""

    def __init__(self, *args, **kwargs):
        warnings.warn(
            "`_ConvTransposeMixin` is a deprecated internal class. Please consider using public APIs.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(*args, **kwargs)


__all__ = [
    "_ConvTransposeMixin",
    "_ConvTransposeNd",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "_ConvNd",
    "_pair",
    "_reverse_repeat_tuple",
    "_single",
    "_triple",
]
