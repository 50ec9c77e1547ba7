"""``nn.grad``: the two gradients of a convolution, as functions (``torch.nn.grad``).

For ``y = conv(x, w)`` with a given ``stride``, ``padding``, ``dilation`` and ``groups``, and an
upstream gradient ``g = dL/dy``:

- ``convNd_input(x.shape, w, g, ...)`` is ``dL/dx``: the transposed convolution of ``g`` with ``w``
  (every output gradient spreads back over the input window it read), cropped by ``padding`` and
  extended by the ``output_padding`` that the stride's rounding left over.
- ``convNd_weight(x, w.shape, g, ...)`` is ``dL/dw``: for each kernel offset, the sum over the batch
  and every output position of ``g`` times the input value that offset read,
  ``dL/dw[o, c, k] = sum_{n, p} g[n, o, p] x_pad[n, c, p * stride + k * dilation]``.

Both are built from differentiable ops (a transposed convolution; windows of the padded input and
one ``einsum``), so they can sit inside a custom Function's backward or be differentiated further.

>>> import glassgrad as gg
>>> x, w = gg.randn(2, 3, 6, 6), gg.randn(4, 3, 3, 3)
>>> g = gg.ones(2, 4, 4, 4)
>>> conv2d_input(x.shape, w, g).shape, conv2d_weight(x, w.shape, g).shape
(glassgrad.Size([2, 3, 6, 6]), glassgrad.Size([4, 3, 3, 3]))
"""

from __future__ import annotations

from typing import Any, Sequence

import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError
from glassgrad.nn.functional.conv import ntuple
from glassgrad.ops.matmul import einsum
from glassgrad.tensor import Tensor

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input", "conv3d_weight"]

_TRANSPOSED = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _spatial(op: str, size: Sequence[int], nd: int, what: str) -> tuple[int, ...]:
    size = tuple(int(s) for s in size)
    if len(size) == nd + 2:
        return size[2:]
    if len(size) == nd:
        return size
    raise ShapeError(f"{op}: expected {what} with {nd + 2} (or {nd} spatial) sizes, got {size}")


def _input_grad(
    nd: int,
    input_size: Any,
    weight: Tensor,
    grad_output: Tensor,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> Tensor:
    op = f"conv{nd}d_input"
    stride, padding, dilation = (
        ntuple(v, nd, op, n, one=True)
        for v, n in ((stride, "stride"), (padding, "padding"), (dilation, "dilation"))
    )
    want = _spatial(op, input_size, nd, "input_size")
    got = grad_output.shape[2:]
    k = weight.shape[2:]
    output_padding = []
    for i in range(nd):
        # the smallest input that gives this many outputs; stride rounding allows up to stride - 1
        # more (not dilation - 1: one more input past that gives one more output at stride 1)
        least = (got[i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + 1
        extra = want[i] - least
        if not 0 <= extra < stride[i]:
            raise ShapeError(
                f"{op}: expected input_size {tuple(want)} to be one that gives grad_output's "
                f"spatial size {tuple(got)} (from {least} to {least + stride[i] - 1} "
                f"along spatial dim {i}), got {want[i]}"
            )
        output_padding.append(extra)
    return _TRANSPOSED[nd](
        grad_output, weight, None, stride, padding, tuple(output_padding), groups, dilation
    )


def _weight_grad(
    nd: int,
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight_size: Any,
    grad_output: Tensor,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> Tensor:
    op = f"conv{nd}d_weight"
    stride, padding, dilation = (
        ntuple(v, nd, op, n, one=True)
        for v, n in ((stride, "stride"), (padding, "padding"), (dilation, "dilation"))
    )
    weight_size = tuple(int(s) for s in weight_size)
    if len(weight_size) != nd + 2 or input.ndim != nd + 2 or grad_output.ndim != nd + 2:
        raise ShapeError(
            f"{op}: expected input, grad_output and weight_size of {nd + 2} dims, got "
            f"{tuple(input.shape)}, {tuple(grad_output.shape)} and {weight_size}"
        )
    n, c = input.shape[:2]
    o, k = grad_output.shape[1], weight_size[2:]
    if c % groups or o % groups or weight_size[0] != o or weight_size[1] * groups != c:
        raise ShapeError(
            f"{op}: expected weight_size (out, in/groups, *kernel) = ({o}, {c // groups}, ...) for "
            f"input {tuple(input.shape)}, grad_output {tuple(grad_output.shape)} and groups={groups}, "
            f"got {weight_size}"
        )
    x = F.pad(input, [p for i in reversed(range(nd)) for p in (padding[i], padding[i])])
    for i in range(nd):  # (N, C, *S) -> (N, C, *out, *span): each window, a strided view
        x = x.unfold(2 + i, dilation[i] * (k[i] - 1) + 1, stride[i])
    x = x[(slice(None),) * (2 + nd) + tuple(slice(None, None, d) for d in dilation)]  # span -> kernel taps
    if tuple(x.shape[2 : 2 + nd]) != tuple(grad_output.shape[2:]):
        raise ShapeError(
            f"{op}: expected grad_output of spatial size {tuple(x.shape[2 : 2 + nd])} for this input and "
            f"weight, got {tuple(grad_output.shape[2:])}"
        )
    g = groups
    x = x.reshape(n, g, c // g, *x.shape[2:])  # (N, G, C/G, *out, *k)
    go = grad_output.reshape(n, g, o // g, *grad_output.shape[2:])  # (N, G, O/G, *out)
    out_letters, k_letters = "pqr"[:nd], "xyz"[:nd]
    dw = einsum(f"ngc{out_letters}{k_letters},ngo{out_letters}->goc{k_letters}", x, go)
    return dw.reshape(o, c // g, *k)  # (G, O/G, C/G, *k) -> (O, C/G, *k)


def conv1d_input(
    input_size: Any,
    weight: Tensor,
    grad_output: Tensor,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """dL/dx of ``conv1d``. Shape: weight ``(O, C/groups, k)``, grad_output ``(N, O, Lout)``;
    returns ``(N, C, L)`` with ``L`` from ``input_size`` (``(N, C, L)`` or ``(L,)``)."""
    return _input_grad(1, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight_size: Any,
    grad_output: Tensor,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """dL/dw of ``conv1d``. Shape: input ``(N, C, L)``, grad_output ``(N, O, Lout)``; returns
    ``weight_size`` = ``(O, C/groups, k)``."""
    return _weight_grad(1, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(
    input_size: Any,
    weight: Tensor,
    grad_output: Tensor,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """dL/dx of ``conv2d``. Shape: weight ``(O, C/groups, kh, kw)``, grad_output
    ``(N, O, Ho, Wo)``; returns ``(N, C, H, W)`` with ``H, W`` from ``input_size``."""
    return _input_grad(2, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight_size: Any,
    grad_output: Tensor,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """dL/dw of ``conv2d``. Shape: input ``(N, C, H, W)``, grad_output ``(N, O, Ho, Wo)``;
    returns ``weight_size`` = ``(O, C/groups, kh, kw)``."""
    return _weight_grad(2, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_input(
    input_size: Any,
    weight: Tensor,
    grad_output: Tensor,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """dL/dx of ``conv3d``. Shape: weight ``(O, C/groups, kd, kh, kw)``, grad_output
    ``(N, O, Do, Ho, Wo)``; returns ``(N, C, D, H, W)`` with ``D, H, W`` from ``input_size``."""
    return _input_grad(3, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv3d_weight(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight_size: Any,
    grad_output: Tensor,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """dL/dw of ``conv3d``. Shape: input ``(N, C, D, H, W)``, grad_output ``(N, O, Do, Ho, Wo)``;
    returns ``weight_size`` = ``(O, C/groups, kd, kh, kw)``."""
    return _weight_grad(3, input, weight_size, grad_output, stride, padding, dilation, groups)
