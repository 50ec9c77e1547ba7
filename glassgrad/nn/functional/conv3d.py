"""3-D convolution functions: conv3d and conv_transpose3d, as ``torch.nn.functional``.

They share the 1-D and 2-D functions' validation (``nn.functional.conv``) and call the volumetric
primitives of ``glassgrad.ops.conv3d``. An input without a batch dim (``(C, D, H, W)``) is a batch
of one, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from glassgrad.nn.functional.conv import _conv, _conv_transpose
from glassgrad.tensor import Tensor

__all__ = ["conv3d", "conv_transpose3d"]


def conv3d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """3-D cross-correlation over volumes, as ``torch.nn.functional.conv3d``.

    ``out[n, o] = bias[o] + sum_c sum_(a, i, j) weight[o, c, a, i, j] * xpad[n, c, d*s + a*dl, ...]``,
    each output channel reading only its group's ``C / groups`` input channels.

    Args:
        stride, dilation: int or ``(d, h, w)``.
        padding: int, ``(d, h, w)``, ``"valid"`` or ``"same"`` (stride 1; the odd element after).
        groups: split channels into this many independent convolutions.

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``; weight ``(O, C/groups, kd, kh, kw)``; bias
        ``(O,)``; returns ``(N, O, Do, Ho, Wo)``, ``Do = floor((D + 2p - dl(kd - 1) - 1) / s) + 1``.

    >>> import glassgrad as gg
    >>> conv3d(gg.ones(1, 2, 5, 6, 7), gg.ones(4, 2, 3, 3, 3)).shape
    glassgrad.Size([1, 4, 3, 4, 5])
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose3d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """3-D transposed convolution (the gradient of conv3d with respect to its input, run forward).

    Shape:
        input ``(N, Cin, D, H, W)`` or ``(Cin, D, H, W)``; weight ``(Cin, Cout/groups, kd, kh, kw)``;
        bias ``(Cout,)``; returns ``(N, Cout, Do, Ho, Wo)`` with
        ``Do = (D - 1) s - 2p + dl (kd - 1) + output_padding + 1``.

    >>> import glassgrad as gg
    >>> conv_transpose3d(gg.ones(1, 4, 2, 3, 3), gg.ones(4, 2, 3, 3, 3), stride=2).shape
    glassgrad.Size([1, 2, 5, 7, 7])
    """
    return _conv_transpose(
        "conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation
    )
