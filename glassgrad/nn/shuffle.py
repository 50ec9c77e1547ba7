"""``PixelShuffle``/``PixelUnshuffle`` (channels <-> pixel blocks) and ``ChannelShuffle`` (ShuffleNet)."""

from __future__ import annotations

import glassgrad.nn.functional as F
from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor

__all__ = ["PixelShuffle", "PixelUnshuffle", "ChannelShuffle"]


class PixelShuffle(Module):
    """Rearrange ``(*, C*r*r, H, W)`` into ``(*, C, H*r, W*r)``: the upsampling step of sub-pixel
    convolution (a convolution makes r*r channels per output channel, this lays them out as pixels).

    Shape:
        input ``(*, C*r*r, H, W)``, output ``(*, C, H*r, W*r)``.

    >>> import glassgrad as gg
    >>> PixelShuffle(2)(gg.zeros(1, 8, 3, 3)).shape
    glassgrad.Size([1, 2, 6, 6])
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        # as given, as PyTorch's: the functional refuses a float at forward
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """The inverse of ``PixelShuffle``: ``(*, C, H*r, W*r)`` into ``(*, C*r*r, H, W)``.

    Shape:
        input ``(*, C, H*r, W*r)``, output ``(*, C*r*r, H, W)``.
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        # as given, as PyTorch's: the functional refuses a float at forward
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups, so that the next grouped convolution mixes them.

    Shape:
        input ``(N, C, *)`` with C divisible by groups, output the same.
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups  # as given, as PyTorch's: the functional refuses a float at forward

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
