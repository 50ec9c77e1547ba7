"""``torch.conv2d``, ``torch.layer_norm``, ``torch.dropout`` and the other layer functions PyTorch
also has at its top level: each is the ``nn.functional`` one, with PyTorch's top-level signature
where it differs (``torch.batch_norm`` and ``torch.instance_norm`` take the weight and bias
before the running statistics, ``torch.embedding`` the weight first, ``torch.dropout`` a
positional ``train``, ``torch.adaptive_max_pool1d`` always returns the indices too)."""

from __future__ import annotations

from typing import Any

import glassgrad.nn.functional as F
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.errors import ArgumentError
from glassgrad.tensor import Tensor

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "avg_pool1d", "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "dropout", "dropout_", "alpha_dropout",
    "alpha_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_", "feature_dropout",
    "feature_dropout_", "layer_norm", "group_norm", "instance_norm", "batch_norm", "embedding",
    "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "pairwise_distance",
    "cosine_similarity",
    "selu", "selu_", "celu", "celu_", "threshold", "threshold_", "rrelu", "rrelu_", "prelu",
    "hardshrink", "bilinear", "rms_norm", "constant_pad_nd", "batch_norm_update_stats",
]  # fmt: skip

conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = (
    F.conv_transpose1d,
    F.conv_transpose2d,
    F.conv_transpose3d,
)
avg_pool1d, adaptive_avg_pool1d = F.avg_pool1d, F.adaptive_avg_pool1d
pixel_shuffle, pixel_unshuffle, channel_shuffle = F.pixel_shuffle, F.pixel_unshuffle, F.channel_shuffle
native_channel_shuffle = F.native_channel_shuffle
pairwise_distance, cosine_similarity, bilinear, rms_norm = (
    F.pairwise_distance, F.cosine_similarity, F.bilinear, F.rms_norm
)  # fmt: skip
prelu = F.prelu


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,  # noqa: A002
               ceil_mode: bool = False) -> Tensor:  # fmt: skip
    """``torch.max_pool1d``: ``F.max_pool1d`` without indices. Shape: (N, C, L) -> (N, C, L_out)."""
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,  # noqa: A002
               ceil_mode: bool = False) -> Tensor:  # fmt: skip
    """``torch.max_pool2d``. Shape: (N, C, H, W) -> (N, C, H_out, W_out)."""
    return F.max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,  # noqa: A002
               ceil_mode: bool = False) -> Tensor:  # fmt: skip
    """``torch.max_pool3d``. Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    return F.max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,  # noqa: A002
                            dilation: Any = 1, ceil_mode: bool = False) -> tuple:  # fmt: skip
    """``(values, indices)`` of ``max_pool1d``."""
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple:  # noqa: A002
    """``(values, indices)``: PyTorch's top-level form always returns both."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def dropout(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return F.dropout(input, p, training=train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return F.dropout(input, p, training=train, inplace=True)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return F.alpha_dropout(input, p, training=train)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return F.alpha_dropout(input, p, training=train, inplace=True)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return F.feature_alpha_dropout(input, p, training=train)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return F.feature_alpha_dropout(input, p, training=train, inplace=True)


def _feature(input: Tensor, p: float, train: bool, inplace: bool) -> Tensor:  # noqa: A002
    by_dims = {3: F.dropout1d, 4: F.dropout2d, 5: F.dropout3d}
    if input.ndim < 2:
        raise ValueError(
            f"feature_dropout: expected an input of at least 2 dims (N, C, ...), got shape {tuple(input.shape)}"
        )
    if input.ndim in by_dims:
        return by_dims[input.ndim](input, p, training=train, inplace=inplace)
    if not train or p == 0:
        return input
    # (N, C) or (N, C, 5+ dims): one keep-or-drop per (sample, channel), as PyTorch's feature noise
    keep = F.dropout(input.new_ones(tuple(input.shape[:2]) + (1,) * (input.ndim - 2)), p, training=True)
    return input.mul_(keep) if inplace else input * keep


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    """Whole channels dropped (``dropout1d``/``2d``/``3d`` by the input's dims)."""
    return _feature(input, p, train, False)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return _feature(input, p, train, True)


def instance_norm(input: Tensor, weight: Any, bias: Any, running_mean: Any, running_var: Any,  # noqa: A002
                  use_input_stats: bool, momentum: float, eps: float, cudnn_enabled: bool = True) -> Tensor:  # fmt: skip
    """``torch.instance_norm``: the affine parameters before the running statistics."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def batch_norm(input: Tensor, weight: Any, bias: Any, running_mean: Any, running_var: Any,  # noqa: A002
               training: bool, momentum: float, eps: float, cudnn_enabled: bool = True) -> Tensor:  # fmt: skip
    """``torch.batch_norm``: the affine parameters before the running statistics."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def batch_norm_update_stats(input: Tensor, running_mean: Any, running_var: Any, momentum: float) -> tuple:  # noqa: A002
    """``torch.batch_norm_update_stats``: the batch's mean and biased variance per channel (over
    every dim but 1); running statistics given move towards them in place, outside the graph, as a
    training-mode ``batch_norm`` moves them (``(1 - momentum) * r + momentum * stat``, the variance
    unbiased).

    Shape:
        input: (N, C, *); running_mean, running_var: (C,) or None; returns ((C,), (C,)).
    """
    if input.numel() == 0:  # PyTorch's RuntimeError (a mean of nothing)
        raise ArgumentError(
            "batch_norm_update_stats: input tensor must have at least one element, but got input_sizes = "
            f"{list(input.shape)}"
        )
    dims = (0, *range(2, input.ndim))  # every dim but the channels'
    mean, var = input.mean(dims), input.var(dims, unbiased=False)
    n = input.numel() // input.shape[1]  # values per channel: the unbiasing factor n / (n - 1)
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
        if running_var is not None:
            unbiased = var * (n / (n - 1)) if n > 1 else var * float("nan")  # 0 / 0, as PyTorch
            running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)
    return mean, var


def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:  # fmt: skip
    """``torch.embedding``: the weight first; a negative ``padding_idx`` is none (ATen's convention)."""
    # a negative padding_idx is none here (F.embedding makes a negative one count from the end first)
    pad = padding_idx if padding_idx is not None and padding_idx >= 0 else None
    return F.embedding(indices, weight, pad, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def selu(input: Tensor) -> Tensor:  # noqa: A002
    return F.selu(input)


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    return F.selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return F.celu(input, alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return F.celu(input, alpha, inplace=True)


def threshold(input: Tensor, threshold: float, value: float, *, out: Any = None) -> Tensor:  # noqa: A002
    from glassgrad.out_keyword import with_out

    return with_out(F.threshold(input, threshold, value), out, "threshold")


def hardshrink(input: Tensor, lambd: float = 0.5, *, out: Any = None) -> Tensor:  # noqa: A002
    from glassgrad.out_keyword import with_out

    return with_out(F.hardshrink(input, lambd), out, "hardshrink")


def layer_norm(input: Tensor, normalized_shape: Any, weight: Any = None, bias: Any = None,  # noqa: A002
               eps: float = 1e-5, cudnn_enable: bool = True) -> Tensor:  # fmt: skip
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input: Tensor, num_groups: int, weight: Any = None, bias: Any = None,  # noqa: A002
               eps: float = 1e-5, cudnn_enabled: bool = True) -> Tensor:  # fmt: skip
    return F.group_norm(input, num_groups, weight, bias, eps)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    return F.threshold(input, threshold, value, inplace=True)


def rrelu(input: Tensor, lower: float = 1 / 8, upper: float = 1 / 3, training: bool = False,  # noqa: A002
          generator: Any = None) -> Tensor:  # fmt: skip
    return F.rrelu(input, lower, upper, training)


def rrelu_(input: Tensor, lower: float = 1 / 8, upper: float = 1 / 3, training: bool = False,  # noqa: A002
           generator: Any = None) -> Tensor:  # fmt: skip
    return F.rrelu(input, lower, upper, training, inplace=True)


def constant_pad_nd(input: Tensor, pad: Any, value: float = 0) -> Tensor:  # noqa: A002
    return F.pad(input, tuple(pad), mode="constant", value=value)
