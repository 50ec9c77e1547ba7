"""``torch.nn.modules.pooling``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.fractional_pool import FractionalMaxPool2d, FractionalMaxPool3d
from glassgrad.nn.layers3d import (
    AdaptiveAvgPool3d,
    AdaptiveMaxPool3d,
    AvgPool3d,
    LPPool3d,
    MaxPool3d,
    MaxUnpool3d,
)
from glassgrad.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    LPPool1d,
    LPPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool1d,
    MaxUnpool2d,
    _AdaptiveAvg,
    _AdaptiveMax,
    _AvgPoolNd,
    _LPPoolNd,
    _MaxPoolNd,
    _MaxUnpoolNd,
)

# PyTorch's names for the bases of the adaptive pools (glassgrad's own names are shorter)
_AdaptiveAvgPoolNd = _AdaptiveAvg
_AdaptiveMaxPoolNd = _AdaptiveMax

__all__ = [
    "_AdaptiveAvgPoolNd",
    "_AdaptiveMaxPoolNd",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AvgPool1d",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
    "AvgPool2d",
    "AvgPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
    "_AvgPoolNd",
    "_LPPoolNd",
    "_MaxPoolNd",
    "_MaxUnpoolNd",
]
