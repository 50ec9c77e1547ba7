"""Folding an eval-mode BatchNorm into the convolution or Linear layer before it, as
``torch.nn.utils.fusion``: ``fuse_conv_bn_eval``/``fuse_linear_bn_eval`` return a new layer whose
output equals ``bn(layer(x))`` in eval mode; the ``*_weights`` functions fold the raw tensors.

For a BatchNorm with running statistics ``m``, ``v``, scale ``g``, shift ``b`` and ``eps``, the
fused weight is ``W * g / sqrt(v + eps)`` (per output channel) and the fused bias
``(bias - m) * g / sqrt(v + eps) + b``."""

from __future__ import annotations

import copy
from typing import Any

from glassgrad.factories_like import ones_like, zeros_like
from glassgrad.nn.parameter import Parameter
from glassgrad.tensor import Tensor

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def _check_bn(layer: Any, bn: Any) -> None:
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")  # PyTorch's exception and message
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def fuse_conv_bn_eval(conv: Any, bn: Any, transpose: bool = False) -> Any:
    """A deep copy of ``conv`` (``ConvNd`` or, with ``transpose=True``, ``ConvTransposeNd``) with
    the eval-mode ``bn`` folded into its weight and bias. Both must be in eval mode.

    >>> import glassgrad as gg
    >>> conv, bn = gg.nn.Conv2d(2, 3, 1).eval(), gg.nn.BatchNorm2d(3).eval()
    >>> x = gg.randn(1, 2, 4, 4)
    >>> bool(gg.allclose(fuse_conv_bn_eval(conv, bn)(x), bn(conv(x)), atol=1e-6))
    True
    """
    _check_bn(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias, transpose
    )
    return fused


def fuse_conv_bn_weights(
    conv_w: Tensor,
    conv_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor | None,
    bn_b: Tensor | None,
    transpose: bool = False,
) -> tuple[Parameter, Parameter]:
    """The fused ``(weight, bias)`` Parameters of a convolution followed by a BatchNorm with
    running statistics ``bn_rm``/``bn_rv``; the output channels are weight dim 0 (dim 1 when
    ``transpose``). A missing conv bias counts as zeros, a missing BN weight/bias as ones/zeros.

    Shape:
        conv_w ``(C_out, C_in/groups, *k)`` (``(C_in, C_out/groups, *k)`` transposed), the BN
        tensors ``(C_out,)`` -> weight as ``conv_w``, bias ``(C_out,)``.
    """
    w_dtype = conv_w.dtype
    b_dtype = conv_b.dtype if conv_b is not None else w_dtype
    if conv_b is None:
        conv_b = zeros_like(bn_rm)
    if bn_w is None:
        bn_w = ones_like(bn_rm)
    if bn_b is None:
        bn_b = zeros_like(bn_rm)
    rsqrt_var = (bn_rv + bn_eps).rsqrt()
    tail = [1] * (conv_w.dim() - 2)
    shape = [1, -1, *tail] if transpose else [-1, 1, *tail]
    fused_w = (conv_w * (bn_w * rsqrt_var).reshape(shape)).to(dtype=w_dtype)
    fused_b = ((conv_b - bn_rm) * rsqrt_var * bn_w + bn_b).to(dtype=b_dtype)
    return Parameter(fused_w, conv_w.requires_grad), Parameter(fused_b, conv_b.requires_grad)


def fuse_linear_bn_eval(linear: Any, bn: Any) -> Any:
    """A deep copy of ``linear`` with the eval-mode ``bn`` (over its output features, or with one
    feature) folded into its weight and bias. Both must be in eval mode.

    >>> import glassgrad as gg
    >>> lin, bn = gg.nn.Linear(2, 3).eval(), gg.nn.BatchNorm1d(3).eval()
    >>> x = gg.randn(4, 2)
    >>> bool(gg.allclose(fuse_linear_bn_eval(lin, bn)(x), bn(lin(x)), atol=1e-6))
    True
    """
    _check_bn(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
            f"got linear.out_features={linear.out_features} and bn.num_features={bn.num_features}"
        )
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    return fused


def fuse_linear_bn_weights(
    linear_w: Tensor,
    linear_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor,
    bn_b: Tensor,
) -> tuple[Parameter, Parameter]:
    """The fused ``(weight, bias)`` Parameters of a Linear layer followed by a BatchNorm over its
    output features; a missing Linear bias counts as zeros.

    Shape:
        linear_w ``(out, in)``, the BN tensors ``(out,)`` or ``(1,)`` -> weight ``(out, in)``,
        bias ``(out,)``.
    """
    w_dtype = linear_w.dtype
    b_dtype = linear_b.dtype if linear_b is not None else w_dtype
    if linear_b is None:
        linear_b = zeros_like(bn_rm)
    scale = bn_w * (bn_rv + bn_eps).rsqrt()
    fused_w = linear_w * scale.unsqueeze(-1).to(dtype=w_dtype)
    fused_b = ((linear_b - bn_rm) * scale + bn_b).to(dtype=b_dtype)
    return Parameter(fused_w, linear_w.requires_grad), Parameter(fused_b, linear_b.requires_grad)
