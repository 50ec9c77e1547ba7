"""Normalisation functions: layer_norm, batch_norm (fused ops), group_norm, instance_norm,
local_response_norm, normalize and rms_norm."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.autograd.engine_modes import refuse_unbatched_update
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.errors import ArgumentError, DTypeError, ShapeError, kernel_dtype_error
from glassgrad.memory_formats import suggest_format
from glassgrad.meta_array import MetaArray
from glassgrad.nn.functional.classification import _constant
from glassgrad.operand_errors import int_arg, int_tuple_arg, number_arg
from glassgrad.ops import normalization as _N
from glassgrad.ops.batch_norm_eval import batch_norm_eval
from glassgrad.ops.composite import with_out
from glassgrad.ops.layout import channels_last_if
from glassgrad.ops.padding import pad
from glassgrad.tensor import Tensor

__all__ = ["layer_norm", "batch_norm", "normalize", "rms_norm"]
__all__ += ["group_norm", "instance_norm", "local_response_norm"]  # image toolbox


def layer_norm(
    input: Tensor,  # noqa: A002 - PyTorch's names
    normalized_shape: tuple[int, ...] | list[int],
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
    tensor([[-1.0000,  1.0000]])
    """
    shape = int_tuple_arg("layer_norm", "normalized_shape", normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise ShapeError(
            f"layer_norm: expected input of shape (*, {', '.join(map(str, shape))}) for normalized_shape "
            f"{shape}, got {input.shape}"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.shape != shape:
            raise ShapeError(f"layer_norm: expected {name} of shape {shape}, got {p.shape}")
    _refuse_non_float("layer_norm", input, "LayerNormKernelImpl")
    if _in_float32("layer_norm", input, weight, bias):
        return layer_norm(input.float(), shape, weight, bias, eps).half()
    return _N.layer_norm(input, k, weight, bias, eps)


def _refuse_non_float(op: str, input: Tensor, kernel: str = "batch_norm") -> None:  # noqa: A002
    """PyTorch's batch, instance, layer and group norm kernels have floating dtypes only: an
    integer, bool or complex input raises its ``NotImplementedError`` before any promotion or
    mixed-dtype rule (computed in an integer dtype, the normalised values truncated to 0)."""
    if input._data.dtype.kind != "f":
        e = kernel_dtype_error(op, kernel, input._data.dtype)
        raise type(e)(f"{e} (expected a floating-point input; x.float() converts one)")


def _in_float32(op: str, input: Tensor, *params: Tensor | None) -> bool:  # noqa: A002
    """PyTorch's mixed-dtype rule for the norms on a CPU: a float16 input with float32 parameters
    (or running statistics) is normalised in float32 and answers float16 (CLIP's ResNet after
    ``convert_weights``); any other pair of dtypes raises. True when that float32 run is needed."""
    dt = input._data.dtype
    pdts = {p._data.dtype for p in params if p is not None}
    if not pdts or pdts == {dt}:
        return False
    if dt == np.float16 and pdts == {np.dtype(np.float32)}:
        return True
    want = "float32 (the input is float16) or " if dt == np.float16 else ""
    got = " and ".join(sorted(str(d) for d in pdts))
    raise DTypeError(f"{op}: mixed dtype: expected parameters of {want}the input's dtype {dt}, got {got}")


def _affine(out: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """Per-channel scale and shift of ``out`` (N, C, *)."""
    param_shape = (1, out.shape[1]) + (1,) * (out.ndim - 2)  # (C,) -> (1, C, 1, ...)
    if weight is not None:
        out = out * weight.reshape(param_shape)
    if bias is not None:
        out = out + bias.reshape(param_shape)
    return out


def _check_channel_params(op: str, input: Tensor, **params: Tensor | None) -> None:  # noqa: A002
    channels = input.shape[1]
    for name, t in params.items():
        if t is not None and t.shape != (channels,):
            raise ShapeError(
                f"{op}: expected {name} of shape ({channels},) for input {input.shape}, got {t.shape}"
            )
        if name[:7] == "running":  # PyTorch's RuntimeError: no gradient reaches them (None was silent)
            _constant(op, name, t)


def _update_running(running: tuple, stats: tuple, momentum: float, bump: bool = True) -> None:
    """``r = (1 - momentum) * r + momentum * stat`` for each ``(r, stat)`` of ``zip(running, stats)`` (the
    running mean and var, either None), in place and outside the graph. ``bump=False`` is batch norm's:
    PyTorch's kernel writes them without moving their versions, so a graph that saved them (an eval-mode
    batch norm before) reads the new values at backward, unchecked; instance norm's ``copy_`` moves them."""
    with no_grad():
        for r, stat in zip(running, stats, strict=True):
            new = None if r is None else (1 - momentum) * r._data + momentum * stat
            if new is not None and bump:
                r.copy_(new)
            elif new is not None and r._data.__class__ is not MetaArray:  # (meta: no values)
                r._data[...] = new


def _both_or_neither(op: str, running_mean: Tensor | None, running_var: Tensor | None) -> None:
    """PyTorch's kernels update both running statistics or neither: one alone is its ValueError
    (not a silent update of that one)."""
    if (running_mean is None) is not (running_var is None):
        raise ValueError(f"{op}: running_mean and running_var must either both be None or neither be None")


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
    (x - running_mean) / sqrt(running_var + eps) * weight + bias, one op (``ops/batch_norm_eval.py``).

    ``momentum`` must be a float; ``nn.BatchNorm*`` turns PyTorch's ``momentum=None`` (a cumulative
    average) into ``1 / num_batches_tracked`` before calling this.

    Shape:
        input: (N, C), (N, C, L) or (N, C, H, W); running stats, weight, bias: (C,); returns input's shape.
    """
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected input of shape (N, C, *), got {input.shape}")
    if momentum.__class__ is not float:  # PyTorch's parser: None is a TypeError (the modules read it)
        momentum = number_arg("batch_norm", "momentum", momentum)
    if eps < 0.0 or (training and eps <= 0.0):  # PyTorch's F.batch_norm refuses them so
        raise ValueError(f"batch_norm: expected eps positive (non-negative in evaluation), got {eps}")
    channels = input.shape[1]
    _check_channel_params(
        "batch_norm", input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    _refuse_non_float("batch_norm", input)
    if _in_float32("batch_norm", input, running_mean, running_var, weight, bias):
        args = (running_mean, running_var, weight, bias, training, momentum, eps)
        return batch_norm(input.float(), *args).half()
    if input._data.size == 0:
        # an empty batch: nothing to normalise and no statistics to update; weight and bias stay
        # in the graph (zero gradients), as PyTorch does
        out = input.clone()
        out = out if weight is None else out * weight[0]
        return out if bias is None else out + bias[0]
    if training:
        if input._data.size == channels:  # one value per channel (PyTorch's test)
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input {input.shape}"
            )
        _both_or_neither("batch_norm", running_mean, running_var)
        refuse_unbatched_update("batch_norm", running_mean, running_var)  # (inside vmap)
        # the running statistics first, then the op that saves for backward: a non-reentrant
        # checkpoint's rerun stops at the last save, and must have updated them by then, as PyTorch's
        stats = None
        if running_mean is not None or running_var is not None:
            n = input._data.size // channels  # values per channel: the variance's unbiasing factor

            def stats(mean: Any, var: Any) -> None:  # the op's own (1, C, 1, ...) statistics
                unbiased = var.reshape(-1) * (n / (n - 1))
                _update_running((running_mean, running_var), (mean.reshape(-1), unbiased), momentum, False)

        return channels_last_if(_N.batch_norm_train(input, weight, bias, eps, stats), input)
    if running_mean is None or running_var is None:  # PyTorch: RuntimeError
        raise ArgumentError(
            "batch_norm: expected running_mean and running_var in evaluation mode (training=False), got None"
        )
    # one NativeBatchNormBackward0 node, as PyTorch's graph (ops/batch_norm_eval.py)
    return batch_norm_eval(input, running_mean, running_var, weight, bias, eps)


def normalize(
    input: Tensor,  # noqa: A002
    p: float = 2.0,
    dim: int = 1,
    eps: float = 1e-12,
    out: Any = None,
) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``: unit-norm vectors (a zero vector stays zero).
    ``out``: written and returned, as PyTorch's (the power iteration of spectral norms, under
    ``no_grad``, updates its ``u``/``v`` buffers so); refused where autograd would be needed.

    Shape:
        input: (*); returns (*).
    """
    norm = input.norm(p, dim, keepdim=True)  # (*) -> (*) with dim of size 1
    return with_out(input / norm.clamp(min=eps), out, "normalize", (input,))


# ------------------------------------------------------------------ RMSNorm (issue 10)
def rms_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: tuple[int, ...] | list[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * weight over the trailing ``normalized_shape`` dims (no centring).

    LayerNorm without the mean and the bias, as in T5 and Llama; ``eps=None`` is the dtype's
    machine epsilon (float32's for float16, computed in float32), as PyTorch. A composite of
    primitives (square, mean, rsqrt, mul).

    Shape:
        input: (*, *S) with S = normalized_shape; weight: S; returns input's shape.

    >>> import glassgrad as gg
    >>> import glassgrad.nn.functional as F
    >>> F.rms_norm(gg.tensor([[3.0, 4.0]]), (2,), eps=0.0)
    tensor([[0.8485, 1.1314]])
    """
    shape = int_tuple_arg("rms_norm", "normalized_shape", normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise ShapeError(
            f"rms_norm: expected input of shape (*, {', '.join(map(str, shape))}), got {input.shape}"
        )
    if weight is not None and weight.shape != shape:
        raise ShapeError(f"rms_norm: expected weight of shape {shape}, got {weight.shape}")
    if input._data.dtype.kind in "biu":  # (else np.finfo's ValueError, or mean's, from inside)
        raise kernel_dtype_error("rms_norm", "rms_norm", input._data.dtype)
    if input._data.dtype == np.float16:
        # PyTorch's kernels compute float16 in float32 and round once (both ways), with float32's
        # eps by default; in float16 every step rounds (a third of the results one ulp off), and
        # float16's eps (8192 times larger) moves every result of a small input
        w32 = weight.float() if weight is not None and weight._data.dtype == np.float16 else weight
        return rms_norm(input.float(), shape, w32, eps).half()
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    # pow, not input * input: PyTorch's composite, whose backward's 2 * x overflows to inf past
    # float32's 1.7e38 (a nan gradient there, where a product's g * x + g * x is 0)
    out = input * (input.pow(2).mean(dims, keepdim=True) + eps).rsqrt()  # (*, *S) * (*, 1, ..., 1)
    if weight is not None:
        out = out * weight
        # a weight of another dtype scales in the wider one, the result has the input's dtype (PyTorch's)
        out = out if out._data.dtype == input._data.dtype else out.to(input.dtype)
    # PyTorch's composite ends in contiguous(input.suggest_memory_format()): a transposed input
    # gives a row-major result (through a clone node), a channels-last one a channels-last one, so
    # a later view() or is_contiguous() reads as there
    return out.contiguous(memory_format=suggest_format(input._data))


# ------------------------------------------------------------------ image toolbox
def group_norm(
    input: Tensor,  # noqa: A002
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each group of C / num_groups channels of each sample, then scale and shift per channel.

    The mean and biased variance are taken over the group's channels and all spatial positions of
    one sample, so the result does not depend on the batch. Built on the fused layer-norm op over
    the flattened group: ``num_groups=1`` is a layer norm over (C, *), ``num_groups=C`` an instance
    norm.

    Shape:
        input: (N, C, *); weight, bias: (C,); returns input's shape.
    """
    num_groups, eps = int_arg("group_norm", "num_groups", num_groups), number_arg("group_norm", "eps", eps)
    if input.ndim < 2 or num_groups <= 0 or input.shape[1] % num_groups:
        raise ShapeError(
            f"group_norm: expected input (N, C, *) with C divisible by num_groups={num_groups}, got {input.shape}"
        )
    _check_channel_params("group_norm", input, weight=weight, bias=bias)
    _refuse_non_float("group_norm", input, "GroupNormKernelImpl")
    if _in_float32("group_norm", input, weight, bias):
        return group_norm(input.float(), num_groups, weight, bias, eps).half()
    n = input.shape[0]
    if n * input.shape[1] // num_groups * math.prod(input.shape[2:]) == 1:  # PyTorch's _verify_batch_size
        raise ValueError(
            f"group_norm: expected more than 1 value per channel when training, got input {input.shape}"
        )
    per_group = math.prod(input.shape[1:]) // num_groups  # not -1: NumPy cannot infer it when N is 0
    x = input.reshape(n, num_groups, per_group)  # (N, C, *) -> (N, G, C/G * prod(*))
    out = _N.layer_norm(x, 1, None, None, eps).reshape(input.shape)  # -> (N, C, *)
    return channels_last_if(_affine(out, weight, bias), input)  # keeps a channels-last layout


def instance_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of each sample over its spatial positions (a group norm with C groups).

    With ``use_input_stats`` the sample's own statistics are used and, when running statistics are
    given, they move towards the batch average of the per-instance means and unbiased variances
    (``running = (1 - momentum) * running + momentum * mean_over_N(stat)``, outside the graph, as
    PyTorch). Without it the running statistics normalise, as batch norm's evaluation mode.

    Shape:
        input: (N, C, *) (with more than one spatial position when ``use_input_stats``; without, an
        ``(N, C)`` input is normalised by the running statistics, as PyTorch); running stats,
        weight, bias: (C,).
    """
    if input.ndim < 2:
        raise ShapeError(f"instance_norm: expected input (N, C, *), got {input.shape}")
    if momentum.__class__ is not float:  # PyTorch's parser: None is a TypeError (the modules read it)
        momentum = number_arg("instance_norm", "momentum", momentum)
    _check_channel_params(
        "instance_norm", input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    # a mix PyTorch refuses raises here, naming this op (group_norm and batch_norm below would name theirs)
    _refuse_non_float("instance_norm", input)
    _in_float32("instance_norm", input, running_mean, running_var, weight, bias)
    if not use_input_stats:
        if running_mean is None or running_var is None:  # PyTorch: RuntimeError
            raise ArgumentError(
                "instance_norm: expected running_mean and running_var when use_input_stats=False"
            )
        out = batch_norm(input, running_mean, running_var, weight, bias, False, 0.0, eps)
        return out.contiguous()  # PyTorch's instance norm answers contiguous, whatever the layout
    _both_or_neither("instance_norm", running_mean, running_var)
    n, c = input.shape[:2]
    if math.prod(input.shape[2:]) == 1:  # one spatial position, whatever the batch (PyTorch's test)
        raise ValueError(
            f"instance_norm: expected more than 1 spatial element when training, got input {input.shape}"
        )
    # after the op that saves, unlike batch_norm: PyTorch's instance norm writes its statistics back
    # after its op, so a non-reentrant checkpoint's rerun (which stops at that save) updates them once
    out = group_norm(input, c, weight, bias, eps)
    if (running_mean is not None or running_var is not None) and n:  # an empty batch updates nothing
        x = input._data.reshape(n, c, -1)  # (N, C, *) -> (N, C, M): statistics outside the graph
        mean, var = x.mean(axis=(0, 2)), x.var(axis=2, ddof=1).mean(axis=0)  # (C,), (C,)
        _update_running((running_mean, running_var), (mean, var), momentum)
    return out.contiguous()


def local_response_norm(
    input: Tensor,  # noqa: A002
    size: int,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 1.0,
) -> Tensor:
    """AlexNet's lateral inhibition: divide each value by a power of its neighbours' energy across channels.

    b[c] = x[c] / (k + alpha / size * sum_{c' in window(c)} x[c']^2) ** beta, the window being the
    ``size`` channels from c - size // 2 to c + (size - 1) // 2 (zeros beyond the edges, still
    divided by ``size``). The window sum is ``size`` shifted slices of the zero-padded squares
    added up (a loop over the window's offsets, not over channels or pixels).

    Shape:
        input: (N, C, *) with at least one spatial dim; returns input's shape.
    """
    if input.ndim < 3:
        raise ShapeError(
            f"local_response_norm: expected input (N, C, *) with spatial dims, got {input.shape}"
        )
    if (size := int_arg("local_response_norm", "size", size)) <= 0:  # a 0-d tensor size: its int
        raise ArgumentError(
            f"local_response_norm: expected a positive size, got {size}"
        )  # PyTorch: RuntimeError
    c = input.shape[1]
    sq = input * input
    pads = (0, 0) * (input.ndim - 2) + (size // 2, (size - 1) // 2)  # pad dim 1 only
    padded = pad(sq, pads)  # (N, C, *) -> (N, C + size - 1, *)
    window = padded[:, 0:c]
    for j in range(1, size):
        window = window + padded[:, j : j + c]
    div = (window * (alpha / size) + k) ** beta
    return input / div
