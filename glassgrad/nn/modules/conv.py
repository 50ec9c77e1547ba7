"""``torch.nn.modules.conv``'s import path: the same classes as ``glassgrad.nn``."""

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

# PyTorch's name for the base of the transposed convolutions
_ConvTransposeNd = _ConvTranspose

__all__ = [
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
]
