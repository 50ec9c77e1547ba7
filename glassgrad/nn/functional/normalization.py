"""Normalisation functions: layer_norm, batch_norm (fused ops), normalize, cosine_similarity and rms_norm."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops import normalization as _N
from glassgrad.tensor import Tensor

__all__ = ["layer_norm", "batch_norm", "normalize", "cosine_similarity", "rms_norm"]


def layer_norm(
    input: Tensor,  # noqa: A002 - PyTorch's names
    normalized_shape: int | tuple[int, ...] | list[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims, then scale by ``weight`` and shift by ``bias``.

    y = (x - mean) / sqrt(var + eps) * weight + bias, with the mean and the biased variance taken
    over the normalised dims of each sample. One fused op with a hand-derived backward
    (``ops.normalization.LayerNorm``).

    Shape:
        input: (*, *S) with S = normalized_shape; weight, bias: S; returns input's shape.

    >>> import glassgrad as gg
    >>> import glassgrad.nn.functional as F
    >>> F.layer_norm(gg.tensor([[1.0, 3.0]]), (2,))
    tensor([[-1.,  1.]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise ShapeError(
            f"layer_norm: expected input of shape (*, {', '.join(map(str, shape))}) for normalized_shape "
            f"{shape}, got {input.shape}"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.shape != shape:
            raise ShapeError(f"layer_norm: expected {name} of shape {shape}, got {p.shape}")
        if p is not None and p._data.dtype != input._data.dtype:  # as PyTorch: no silent promotion
            raise DTypeError(f"layer_norm: expected {name} of the input's dtype {input.dtype}, got {p.dtype}")
    return _N.layer_norm(input, k, weight, bias, eps)


def batch_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dim 1) over the batch and every spatial position.

    Training: normalise with the batch mean and biased variance (the fused op
    ``ops.normalization.BatchNorm``) and, when running statistics are given, update them in place
    outside the graph: ``running = (1 - momentum) * running + momentum * batch``, with the
    *unbiased* batch variance, as PyTorch does. Evaluation: the affine map
    (x - running_mean) / sqrt(running_var + eps) * weight + bias.

    ``momentum`` must be a float; ``nn.BatchNorm*`` turns PyTorch's ``momentum=None`` (a cumulative
    average) into ``1 / num_batches_tracked`` before calling this.

    Shape:
        input: (N, C), (N, C, L) or (N, C, H, W); running stats, weight, bias: (C,); returns input's shape.
    """
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected input of shape (N, C, *), got {input.shape}")
    channels = input.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and t.shape != (channels,):
            raise ShapeError(
                f"batch_norm: expected {name} of shape ({channels},) for input {input.shape}, got {t.shape}"
            )
    if training:
        if input._data.size <= channels:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input {input.shape}"
            )
        if momentum is None:
            raise ValueError("batch_norm: expected a float momentum, got None (nn.BatchNorm handles None)")
        out = _N.batch_norm_train(input, weight, bias, eps)
        if running_mean is not None or running_var is not None:
            mean, var = _N.batch_stats(input)  # (C,), (C,): unbiased variance
            with no_grad():
                if running_mean is not None:
                    running_mean.copy_((1 - momentum) * running_mean._data + momentum * mean)
                if running_var is not None:
                    running_var.copy_((1 - momentum) * running_var._data + momentum * var)
        return out
    if running_mean is None or running_var is None:
        raise ValueError(
            "batch_norm: expected running_mean and running_var in evaluation mode (training=False), got None"
        )
    param_shape = (1, channels) + (1,) * (input.ndim - 2)  # (C,) -> (1, C, 1, ...)
    xp = array_module(running_var._data)
    rstd = 1.0 / xp.sqrt(running_var._data + eps)
    out = (input - Tensor(running_mean._data.reshape(param_shape), _wrap=True)) * Tensor(
        rstd.reshape(param_shape), _wrap=True
    )
    if weight is not None:
        out = out * weight.reshape(param_shape)
    if bias is not None:
        out = out + bias.reshape(param_shape)
    return out


def normalize(
    input: Tensor,  # noqa: A002
    p: float = 2.0,
    dim: int = 1,
    eps: float = 1e-12,
    out: Any = None,
) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``: unit-norm vectors (a zero vector stays zero).

    Shape:
        input: (*); returns (*).
    """
    if out is not None:
        raise ValueError("normalize: out= is not supported; use the return value")
    norm = input.norm(p, dim, keepdim=True)  # (*) -> (*) with dim of size 1
    return input / norm.clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / ||x1|| * x2 / ||x2||) along ``dim``, each norm floored at ``eps``.

    As in PyTorch, each input is divided by its own norm before the product (the result stays in
    [-1, 1]), and the floor is applied outside the graph: the gradient flows as if the norm were
    unfloored.

    Shape:
        x1, x2: broadcastable to (*, D, *) with D at ``dim``; returns (*, *).
    """
    if x1.shape != x2.shape:
        xp = array_module(x1._data)
        try:
            shape = xp.broadcast_shapes(x1.shape, x2.shape)
        except ValueError:
            raise ShapeError(
                f"cosine_similarity: expected broadcastable inputs, got {x1.shape} and {x2.shape}"
            ) from None
        x1, x2 = x1.expand(shape), x2.expand(shape)
    units = []
    for x in (x1, x2):
        norm = x.norm(2, dim, keepdim=True)  # (*, 1, *)
        floored = norm._data.clip(min=eps)  # raw: the floor is outside the graph
        units.append(x / (norm + Tensor(floored - norm._data, _wrap=True)))
    return (units[0] * units[1]).sum(dim)


# ------------------------------------------------------------------ RMSNorm (issue 10)
def rms_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: int | tuple[int, ...] | list[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * weight over the trailing ``normalized_shape`` dims (no centring).

    LayerNorm without the mean and the bias, as in T5 and Llama; ``eps=None`` is the dtype's
    machine epsilon, as PyTorch. A composite of primitives (square, mean, rsqrt, mul).

    Shape:
        input: (*, *S) with S = normalized_shape; weight: S; returns input's shape.

    >>> import glassgrad as gg
    >>> import glassgrad.nn.functional as F
    >>> F.rms_norm(gg.tensor([[3.0, 4.0]]), (2,), eps=0.0)
    tensor([[0.8485, 1.1314]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise ShapeError(
            f"rms_norm: expected input of shape (*, {', '.join(map(str, shape))}), got {input.shape}"
        )
    if weight is not None and weight.shape != shape:
        raise ShapeError(f"rms_norm: expected weight of shape {shape}, got {weight.shape}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()  # (*, *S) * (*, 1, ..., 1)
    return out if weight is None else out * weight
