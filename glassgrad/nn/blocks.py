"""Building blocks of modern convolutional networks: the residual block, the bottleneck, the inception
block, and an adaptive residual whose branches are weighted by learned gates in [0, 1].

``ResidualBlock`` and ``Bottleneck`` have torchvision's layout and ``state_dict`` keys (``conv1``,
``bn1``, ..., ``downsample.0``/``downsample.1`` for the projection shortcut), so their weights move to
and from ``torchvision.models.resnet.BasicBlock``/``Bottleneck``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from glassgrad.factories import full
from glassgrad.nn.activation import ReLU
from glassgrad.nn.container import ModuleList, Sequential
from glassgrad.nn.conv import Conv2d
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.normalization import BatchNorm2d
from glassgrad.nn.pooling import MaxPool2d
from glassgrad.ops.joining import cat
from glassgrad.tensor import Tensor

__all__ = ["ResidualBlock", "Bottleneck", "InceptionBlock", "AdaptiveResidual", "conv3x3", "conv1x1"]


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> Conv2d:
    """3x3 convolution with padding 1 and no bias (a batch norm follows): keeps H, W at stride 1."""
    return Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> Conv2d:
    """1x1 convolution without bias: a per-pixel linear map over channels (optionally strided)."""
    return Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


def _projection(in_channels: int, out_channels: int, stride: int) -> Sequential | None:
    """The shortcut's 1x1 projection when the block changes shape, else None (identity shortcut)."""
    if stride == 1 and in_channels == out_channels:
        return None
    return Sequential(conv1x1(in_channels, out_channels, stride), BatchNorm2d(out_channels))


class ResidualBlock(Module):
    """The basic residual block of ResNet-18/34: two 3x3 convolutions and a shortcut.

    With a[l] the input, z[l+2] = BN(conv3x3(ReLU(BN(conv3x3(a[l]))))) and

        a[l+2] = ReLU(z[l+2] + shortcut(a[l]))

    The shortcut is the identity when the shape is kept, else a strided 1x1 convolution + batch
    norm (``downsample``) that maps a[l] to z's shape. Because the block only has to learn the
    *residual* z = H(x) - x, driving its weights to zero gives back the identity, which is why
    very deep stacks of them still train.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        stride: stride of the first convolution (2 halves H and W).

    Shape:
        input ``(N, in_channels, H, W)``, output ``(N, out_channels, H', W')`` with
        ``H' = (H - 1) // stride + 1``.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = BatchNorm2d(out_channels)
        self.relu = ReLU()
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = BatchNorm2d(out_channels)
        self.downsample = _projection(in_channels, out_channels, stride)
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        z = self.bn2(self.conv2(out))
        return self.relu(z + shortcut)


class Bottleneck(Module):
    """The bottleneck block of ResNet-50 and deeper: 1x1 reduce, 3x3, 1x1 expand (x4), plus shortcut.

    out = ReLU(BN(conv1x1_expand(ReLU(BN(conv3x3(ReLU(BN(conv1x1_reduce(x)))))))) + shortcut(x)),
    with the stride on the 3x3 convolution (torchvision's "ResNet v1.5"). The 3x3 convolution runs
    on ``planes`` channels only, 4x fewer than the block's output, which is what makes a 50-layer
    network affordable.

    Args:
        in_channels: channels of the input.
        planes: width of the inner layers; the output has ``planes * 4`` channels.
        stride: stride of the 3x3 convolution.

    Shape:
        input ``(N, in_channels, H, W)``, output ``(N, 4 * planes, H', W')``.
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = conv1x1(in_channels, planes)
        self.bn1 = BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, out_channels)
        self.bn3 = BatchNorm2d(out_channels)
        self.relu = ReLU()
        self.downsample = _projection(in_channels, out_channels, stride)
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        z = self.bn3(self.conv3(out))
        return self.relu(z + shortcut)


def _conv_relu(in_channels: int, out_channels: int, kernel_size: int) -> list[Module]:
    return [Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2), ReLU()]


class InceptionBlock(Module):
    """GoogLeNet's inception module: four parallel branches concatenated on the channel axis.

    branch1: 1x1 conv; branch2: 1x1 conv (reduce) -> 3x3 conv; branch3: 1x1 conv (reduce) -> 5x5
    conv; branch4: 3x3 max pool (stride 1) -> 1x1 conv. Each convolution is followed by a ReLU and
    padded so that H and W are kept. The 1x1 reductions are the point: a 5x5 convolution on 16
    channels instead of 192 costs about a tenth (see ``glassgrad.explain.summary``).

    Shape:
        input ``(N, in_channels, H, W)``, output ``(N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)``.
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
    ) -> None:
        super().__init__()
        self.branch1 = Sequential(*_conv_relu(in_channels, ch1x1, 1))
        self.branch2 = Sequential(*_conv_relu(in_channels, ch3x3red, 1), *_conv_relu(ch3x3red, ch3x3, 3))
        self.branch3 = Sequential(*_conv_relu(in_channels, ch5x5red, 1), *_conv_relu(ch5x5red, ch5x5, 5))
        self.branch4 = Sequential(MaxPool2d(3, stride=1, padding=1), *_conv_relu(in_channels, pool_proj, 1))
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: Tensor) -> Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return cat(branches, dim=1)  # 4 x (N, C_i, H, W) -> (N, sum C_i, H, W)


class AdaptiveResidual(Module):
    """H(x) = alpha_0 * x + sum_i alpha_i * F_i(x), with gates alpha = sigmoid(logits) learned in [0, 1].

    A generalised residual connection: the identity and every branch ``F_i`` get a learned weight.
    The sigmoid keeps each weight between 0 (the path is switched off) and 1 (fully on), so
    training can turn off a branch that does not help the loss, and the learned ``alphas`` say which
    paths the network uses. Every branch must map x to x's shape.

    Args:
        branches: the modules F_1 ... F_k.
        init_alpha: the starting value of every gate (0.5: every path half on).

    Shape:
        input ``(*)``, output the same.
    """

    def __init__(self, branches: Iterable[Module], init_alpha: float = 0.5) -> None:
        super().__init__()
        self.branches = ModuleList(list(branches))
        if not 0.0 < init_alpha < 1.0:
            raise ValueError(f"AdaptiveResidual: expected init_alpha in (0, 1), got {init_alpha}")
        logit = math.log(init_alpha / (1.0 - init_alpha))  # sigmoid^-1(init_alpha)
        self.logits = Parameter(full((len(self.branches) + 1,), logit))

    @property
    def alphas(self) -> Tensor:
        """The gates [alpha_0 (identity), alpha_1, ..., alpha_k], each in [0, 1]."""
        return self.logits.sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        alpha = self.alphas
        out = alpha[0] * x
        for i, branch in enumerate(self.branches, start=1):
            out = out + alpha[i] * branch(x)
        return out
