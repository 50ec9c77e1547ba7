"""``torch.nn.modules.upsampling``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]
