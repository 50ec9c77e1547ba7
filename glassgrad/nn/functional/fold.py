"""``unfold`` (im2col) and ``fold`` (col2im), with PyTorch's argument checks: the ranks, the
non-empty dims and the dtypes its CPU kernels take."""

from __future__ import annotations

from typing import Any

from glassgrad.errors import IndexShapeError, ShapeError, kernel_dtype_error
from glassgrad.nn.functional.conv import ntuple
from glassgrad.operand_errors import iterable_tuple
from glassgrad.ops import conv as _C
from glassgrad.tensor import Tensor

__all__ = ["unfold", "fold"]


def _fold_args(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    kernel_size, dilation, padding, stride = map(iterable_tuple, (kernel_size, dilation, padding, stride))
    kernel = ntuple(kernel_size, 2, op, "kernel_size", 1)
    dilation = ntuple(dilation, 2, op, "dilation", 1)
    pads = tuple((p, p) for p in ntuple(padding, 2, op, "padding"))
    return kernel, dilation, pads, ntuple(stride, 2, op, "stride", 1)


def _check_input(op: str, kernel: str, input: Tensor, batched: int) -> None:  # noqa: A002
    """PyTorch's im2col/col2im checks: ``batched`` dims (its batch one may be empty) or one fewer
    (none may be), and a floating, complex or bool dtype (its kernels have no integer code)."""
    shape = input.shape
    if input.ndim not in (batched - 1, batched) or 0 in shape[input.ndim - batched + 1 :]:
        raise ShapeError(
            f"{op}: Expected {batched - 1}D or {batched}D (batch mode) tensor with possibly 0 batch size "
            f"and other non-zero dimensions for input, but got: {shape}"
        )
    if input._data.dtype.kind in "iu":
        raise kernel_dtype_error(op, kernel, input._data.dtype)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:  # noqa: A002
    """im2col: every kernel-sized window as a column (``torch.nn.functional.unfold``).

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``; returns ``(N, C * kh * kw, L)`` (or ``(C * kh * kw, L)``),
        L the number of windows.

    >>> import glassgrad as gg
    >>> unfold(gg.ones(2, 3, 4, 4), 2).shape
    glassgrad.Size([2, 12, 9])
    """
    kernel, dilation, pads, stride = _fold_args("unfold", kernel_size, dilation, padding, stride)
    if input.ndim < 3:  # PyTorch reads dim 2 before it checks the rank: an IndexError there
        raise IndexShapeError(
            f"unfold: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape} "
            f"(Dimension out of range: dim 2 of a {input.ndim}-D tensor)"
        )
    _check_input("unfold", "im2col_out_cpu", input, 4)
    if input.ndim == 3:  # unbatched (C, H, W) -> (C * kh * kw, L), as PyTorch
        return unfold(input.unsqueeze(0), kernel, dilation, tuple(p for p, _ in pads), stride).squeeze(0)
    for n, (p, _), k, d in zip(input.shape[2:], pads, kernel, dilation):
        if n + 2 * p < d * (k - 1) + 1:
            raise ShapeError(
                f"unfold: expected a padded input at least as large as kernel {kernel}, got {input.shape}"
            )
    return _C.Unfold.apply(input, kernel=kernel, stride=stride, dilation=dilation, padding=pads)


def fold(
    input: Tensor,  # noqa: A002
    output_size: Any,
    kernel_size: Any,
    dilation: Any = 1,
    padding: Any = 0,
    stride: Any = 1,
) -> Tensor:
    """col2im: sum columns back into an image; overlapping entries add (``torch.nn.functional.fold``).

    Shape:
        input ``(N, C * kh * kw, L)`` or ``(C * kh * kw, L)``; returns ``(N, C, *output_size)`` (or
        ``(C, *output_size)``).
    """
    kernel, dilation, pads, stride = _fold_args("fold", kernel_size, dilation, padding, stride)
    size = ntuple(iterable_tuple(output_size), 2, "fold", "output_size", 1)
    _check_input("fold", "col2im_out_cpu", input, 3)
    if input.ndim == 2:  # unbatched (C * kh * kw, L) -> (C, H, W), as PyTorch
        return fold(input.unsqueeze(0), size, kernel, dilation, tuple(p for p, _ in pads), stride).squeeze(0)
    windows = tuple(
        _C.out_size(n + 2 * p, k, s, d) for n, (p, _), k, s, d in zip(size, pads, kernel, stride, dilation)
    )
    kk = kernel[0] * kernel[1]
    if (
        input.ndim != 3
        or input.shape[1] % kk
        or input.shape[2] != windows[0] * windows[1]
        or min(windows) < 1
    ):
        raise ShapeError(
            f"fold: expected input (N, C * {kk}, {max(windows[0], 0) * max(windows[1], 0)}) for output_size {size}, "
            f"kernel {kernel}, got shape {input.shape}"
        )
    return _C.Fold.apply(
        input, size=size, kernel=kernel, stride=stride, dilation=dilation, padding=pads, windows=windows
    )
