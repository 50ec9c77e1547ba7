"""``torch.nn.modules.channelshuffle``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.shuffle import ChannelShuffle

__all__ = ["ChannelShuffle"]
