"""ATen-level functions that programs call directly, built from glassgrad's own ops:
``norm_except_dim`` and ``_weight_norm`` (weight-norm code), ``conv_tbc`` (fairseq's time-major convolution),
``native_layer_norm`` / ``native_batch_norm`` / ``native_dropout`` (the layers with their saved
statistics or mask), the eager control flow ``cond`` / ``while_loop`` (``torch.export``'s
structured forms, run as Python here), and ``default_generator``, ``newaxis``, ``is_storage``,
``is_distributed``.

Example:
    >>> import glassgrad as gg
    >>> tuple(gg.conv_tbc(gg.randn(7, 2, 3), gg.randn(3, 3, 4), gg.zeros(4), 1).shape)
    (7, 2, 4)
    >>> gg.cond(gg.tensor(True), lambda x: x + 1, lambda x: x - 1, (gg.tensor(1.0),))
    tensor(2.)
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError
from glassgrad.factories import empty, ones
from glassgrad.ops.composite import with_out
from glassgrad.random import _default_generator as default_generator
from glassgrad.tensor import Tensor

__all__ = [
    "_weight_norm", "affine_grid_generator", "cond", "conv_tbc", "convolution", "default_generator", "grid_sampler", "is_distributed", "is_storage", "native_batch_norm",
    "native_dropout", "native_layer_norm", "newaxis", "norm_except_dim", "while_loop",
]  # fmt: skip

newaxis = None  # x[:, newaxis], as NumPy's


def is_storage(obj: Any) -> bool:
    """Whether ``obj`` is a storage (``UntypedStorage`` or a typed one), not a tensor."""
    from glassgrad.tensor_storage import _Storage

    return isinstance(obj, _Storage)


def is_distributed(input: Tensor) -> bool:  # noqa: A002
    """Always False: glassgrad's tensors live in one process (``torch.is_distributed``)."""
    return False


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:  # noqa: A002 - ATen's names
    """The ``pow``-norm of ``v`` over every dim but ``dim``, kept as size-1 dims (weight norm's
    ``||v||``); ``dim=-1``: the norm of the whole tensor, 0-d.

    Shape:
        v ``(d_0, ..., d_{n-1})`` -> ``(1, ..., d_dim, ..., 1)``, or ``()`` for ``dim=-1``.
    """
    if dim == -1:
        return v.norm(pow)
    dim = operator.index(dim)
    if -v.dim() <= dim < 0:  # other negative dims count from the end, as ATen's
        dim += v.dim()
    if not 0 <= dim < v.dim():
        raise ShapeError(
            f"norm_except_dim: expected dim -1 or in [-{v.dim()}, {v.dim()}), got {dim} for shape "
            f"{tuple(v.shape)}"
        )
    others = [d for d in range(v.dim()) if d != dim]
    return v.norm(pow, dim=others, keepdim=True) if others else v.abs()


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """Weight normalisation's weight ``v * (g / norm_except_dim(v, 2, dim))`` (``torch._weight_norm``:
    checkpoint converters fold ``weight_g``/``weight_v`` into a plain weight with it).

    Shape:
        v ``(d_0, ..., d_{n-1})``, g of ``norm_except_dim(v, 2, dim)``'s shape -> v's shape.
    """
    return v * (g / norm_except_dim(v, 2, dim))


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:  # noqa: A002
    """A 1-D convolution over time-major input (fairseq's ``ConvTBC``).

    Shape:
        input ``(T, B, C_in)``; weight ``(K, C_in, C_out)``; bias ``(C_out,)`` ->
        ``(T + 2 * pad - K + 1, B, C_out)``.
    """
    if input.dim() != 3 or weight.dim() != 3 or weight.shape[1] != input.shape[2]:
        raise ShapeError(
            f"conv_tbc: expected input (T, B, C_in) and weight (K, C_in, C_out) with equal C_in, got "
            f"{tuple(input.shape)} and {tuple(weight.shape)}"
        )
    length = input.shape[0] + 2 * pad - weight.shape[0] + 1
    if length < 0:
        raise ShapeError(
            f"conv_tbc: expected T + 2 * pad >= K - 1, got input {tuple(input.shape)}, weight "
            f"{tuple(weight.shape)} and pad={pad}"
        )
    if input.is_floating_point() and bias.dtype != input.dtype:  # PyTorch casts the bias (any dtype)
        bias = bias.to(input.dtype)
    if length == 0:  # as PyTorch: an empty (0, B, C_out) output, still in the graph
        return input[:0] @ weight[0] + bias
    out = F.conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)  # (B, C_out, T')
    return out.permute(2, 0, 1)


def convolution(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    transposed: bool,
    output_padding: Any,
    groups: int,
) -> Tensor:
    """ATen's one convolution entry: ``conv{1,2,3}d`` or ``conv_transpose{1,2,3}d`` by the input's
    rank and ``transposed``.

    Shape:
        input ``(N, C_in, *spatial)`` with 1 to 3 spatial dims; weight as the matching ``F`` function's.
    """
    dims = input.dim() - 2
    if dims not in (1, 2, 3):
        raise ShapeError(
            f"convolution: expected input (N, C, *spatial) with 1 to 3 spatial dims, got {tuple(input.shape)}"
        )
    if transposed:
        fn = getattr(F, f"conv_transpose{dims}d")
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return getattr(F, f"conv{dims}d")(input, weight, bias, stride, padding, dilation, groups)


_INTERP = {0: "bilinear", 1: "nearest", 2: "bicubic"}
_PADDING = {0: "zeros", 1: "border", 2: "reflection"}


def grid_sampler(
    input: Tensor,  # noqa: A002
    grid: Tensor,
    interpolation_mode: int,
    padding_mode: int,
    align_corners: bool,
) -> Tensor:
    """ATen's ``grid_sample`` with its integer codes: interpolation 0 bilinear, 1 nearest, 2
    bicubic; padding 0 zeros, 1 border, 2 reflection.

    Shape:
        input ``(N, C, H, W)`` or ``(N, C, D, H, W)``; grid ``(N, H', W', 2)`` or ``(N, D', H', W', 3)``.
    """
    if interpolation_mode not in _INTERP or padding_mode not in _PADDING:
        raise ValueError(
            f"grid_sampler: expected interpolation_mode in {sorted(_INTERP)} and padding_mode in "
            f"{sorted(_PADDING)}, got {interpolation_mode!r} and {padding_mode!r}"
        )
    return F.grid_sample(input, grid, _INTERP[interpolation_mode], _PADDING[padding_mode], align_corners)


def affine_grid_generator(theta: Tensor, size: Any, align_corners: bool) -> Tensor:
    """ATen's ``affine_grid``: ``F.affine_grid(theta, size, align_corners)``.

    Shape:
        theta ``(N, 2, 3)`` (or ``(N, 3, 4)``) -> ``(N, H, W, 2)`` (or ``(N, D, H, W, 3)``).
    """
    return F.affine_grid(theta, list(size), align_corners)


def native_layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: Any,
    weight: Tensor | None,
    bias: Tensor | None,
    eps: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """``layer_norm`` with the statistics it used: ``(output, mean, rstd)``.

    Shape:
        input ``(*, *normalized_shape)`` -> output like input; mean and rstd ``(*, 1, ..., 1)``.
    """
    dims = [-(i + 1) for i in range(len(tuple(normalized_shape)))]
    mean = input.mean(dim=dims, keepdim=True)
    rstd = (input.var(dim=dims, unbiased=False, keepdim=True) + eps).rsqrt()
    return F.layer_norm(input, normalized_shape, weight, bias, eps), mean.detach(), rstd.detach()


def native_batch_norm(
    input: Tensor,  # noqa: A002
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
    *,
    out: Any = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """``batch_norm`` with the batch statistics it used: ``(output, save_mean, save_invstd)``
    (empty ``(0,)`` tensors in eval mode); updates the running statistics in training; ``out``:
    three tensors to write the results into.

    Shape:
        input ``(N, C, *)`` -> output like input; save_mean and save_invstd ``(C,)``.
    """
    y = F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        result = (y, empty(0, dtype=input.dtype), empty(0, dtype=input.dtype))
    else:
        dims = [0, *range(2, input.dim())]
        mean = input.detach().mean(dim=dims)
        result = (y, mean, (input.detach().var(dim=dims, unbiased=False) + eps).rsqrt())
    if out is None:
        return result
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise TypeError(f"native_batch_norm(): expected out= as three tensors, got {type(out).__name__}")
    return tuple(with_out(r, o, "native_batch_norm") for r, o in zip(result, out))


def native_dropout(input: Tensor, p: float, train: bool | None) -> tuple[Tensor, Tensor]:  # noqa: A002
    """Dropout with its mask: ``(input * mask / (1 - p), mask)``, mask a bool tensor of input's
    shape (all True when not training; all False with ``p = 1``). ``train=None`` trains, as ATen's."""
    if train is not None and not train:
        return input.clone(), ones(*input.shape, dtype=bool)
    if p >= 1:
        return input * 0, ones(*input.shape, dtype=bool) & False
    mask = F.dropout(ones(*input.shape, dtype=input.dtype), p, True) != 0  # one draw, as F.dropout's
    return input * mask / (1 - p), mask


def _pred(op: str, pred: Any) -> bool:
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise ShapeError(
                f"{op}: expected the predicate as a bool or a one-element tensor, got shape {tuple(pred.shape)}"
            )
        return bool(pred.item())
    if not isinstance(pred, (bool, int)):
        raise TypeError(
            f"{op}: expected the predicate as a bool or a one-element tensor, got {type(pred).__name__}"
        )
    return bool(pred)


def cond(pred: Any, true_fn: Callable[..., Any], false_fn: Callable[..., Any], operands: Any = ()) -> Any:
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``, run eagerly (``torch.cond``)."""
    return (true_fn if _pred("cond", pred) else false_fn)(*tuple(operands))


def while_loop(cond_fn: Callable[..., Any], body_fn: Callable[..., Any], carried_inputs: Any) -> tuple:
    """``while cond_fn(*carried): carried = body_fn(*carried)``, run eagerly (``torch.while_loop``)."""
    carried = tuple(carried_inputs)
    while _pred("while_loop", cond_fn(*carried)):
        out = body_fn(*carried)
        carried = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    return carried
