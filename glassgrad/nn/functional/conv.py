"""Convolution functions: conv1d, conv2d, conv_transpose1d, conv_transpose2d (unfold and fold: fold.py).

Each validates its arguments (naming the op, the shapes and what was expected) and calls one fused
primitive from ``glassgrad.ops.conv``. The 1-D functions run the 2-D op on a height of 1. An
input without a batch dim (``(C, H, W)``) is treated as a batch of one, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import named
from glassgrad.errors import DTypeError, KernelDTypeError, ShapeError, SizeTypeError
from glassgrad.nn.functional.conv_complex import complex_conv
from glassgrad.operand_errors import size_int
from glassgrad.ops import conv as _C
from glassgrad.ops import conv3d as _C3
from glassgrad.ops.layout import channels_last_if
from glassgrad.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold", "ntuple"]


def ntuple(value: Any, n: int, op: str, name: str, minimum: int = 0, one: bool = False) -> tuple[int, ...]:
    """``value`` as an ``n``-tuple of ints >= ``minimum`` (an int is repeated, as PyTorch).

    ``one=True`` also repeats a one-element list or tuple, as PyTorch's convolutions and max/avg
    pooling do with their stride, padding, dilation (and the pools' kernel size): ``stride=[2]``.
    """
    if value.__class__ is int or (i := size_int(value)) is not None:  # a NumPy or 0-d tensor int too
        value = (value if value.__class__ is int else i,) * n
    elif one and isinstance(value, tuple | list) and len(value) == 1:
        value = tuple(value) * n
    listed = isinstance(value, tuple | list)
    ints = tuple(v if v.__class__ is int else size_int(v) for v in value) if listed else ()
    if not listed or None in ints:
        # PyTorch's parser: a TypeError for a size that is not an integer (kernel_size=2.0, None)
        raise SizeTypeError(f"{op}: expected {name} as an int or a tuple of {n} ints, got {value!r}")
    if len(ints) != n:
        raise ShapeError(f"{op}: expected {name} as an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in ints):
        raise ShapeError(f"{op}: expected {name} >= {minimum}, got {ints}")
    return ints


def _batched(op: str, input: Tensor, nd: int) -> tuple[Tensor, bool]:  # noqa: A002
    """``(input with a batch dim, whether one was added)``; other ranks are a ShapeError."""
    if input.ndim == nd + 2:
        return input, False
    if input.ndim == nd + 1:
        return input.unsqueeze(0), True
    raise ShapeError(
        f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, got shape {input.shape}"
    )


def _unbatched(t: Tensor | None, nd: int, unbatched: bool) -> Tensor | None:
    """Undo ``_batched`` and the 1-D functions' height of 1: ``(1, C, 1, L) -> (C, L)``; None stays None."""
    if t is None:
        return None
    if nd == 1:
        t = t.squeeze(2)  # (N, C, 1, Lo) -> (N, C, Lo)
    return t.squeeze(0) if unbatched else t


def _conv_named(t: Tensor, nd: int, unbatched: bool) -> Tensor:
    """A batched 1-D convolution's top node shown as PyTorch's, ``ConvolutionBackward0`` (here the
    squeeze of its height of 1; an unbatched one's is a squeeze in PyTorch too)."""
    return named(t, "ConvolutionBackward0") if nd == 1 and not unbatched else t


def conv_padding(op: str, padding: Any, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """``((before, after), ...)`` per spatial dim from an int, a tuple, ``"valid"`` or ``"same"``.

    "same" keeps the size at stride 1: ``d * (k - 1)`` padded elements, the odd one after (as PyTorch).
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ShapeError(f"{op}: expected padding 'valid', 'same', an int or a tuple, got {padding!r}")
        if any(s != 1 for s in stride):
            raise ShapeError(f"{op}: padding='same' expected stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in ntuple(padding, n, op, "padding", one=True))


def _check_conv(
    op: str, x: Tensor, weight: Tensor, bias: Any, nd: int, transposed: bool, stride: Any, dilation: Any
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The checks both convolution kinds share; returns ``(kernel, stride, dilation)`` as tuples."""
    if weight.ndim != nd + 2:
        layout = (
            "(in_channels, out_channels/groups, *kernel)"
            if transposed
            else "(out_channels, in_channels/groups, *kernel)"
        )
        raise ShapeError(f"{op}: expected a {nd + 2}-D weight {layout}, got shape {weight.shape}")
    if x._data.dtype != weight._data.dtype or (bias is not None and bias._data.dtype != weight._data.dtype):
        b = "" if bias is None else f", bias {bias.dtype}"
        raise DTypeError(
            f"{op}: expected input, weight and bias of one dtype, got input {x.dtype}, weight {weight.dtype}{b}"
        )
    kind = x._data.dtype.kind
    if kind not in "fiuc":
        raise DTypeError(f"{op}: expected a floating-point, complex or integer input, got {x.dtype}")
    dilation = ntuple(dilation, nd, op, "dilation", 1, one=True)
    # PyTorch's CPU kernels for a dilated or a transposed convolution (slow_conv_dilated,
    # slow_conv_transpose) are built for int64 only among the integers; the plain ones take all
    if kind in "iu" and x._data.dtype.name != "int64":
        if any(d != 1 for d in dilation):
            raise KernelDTypeError(
                f"{op}: expected a floating-point input for dilation {dilation}, got {x.dtype} "
                "(int64 is the only integer dtype of PyTorch's dilated CPU kernel)"
            )
        if transposed:
            raise KernelDTypeError(f"{op}: expected a floating-point or int64 input, got {x.dtype}")
    return tuple(weight.shape[2:]), ntuple(stride, nd, op, "stride", 1, one=True), dilation


def _check_groups(op: str, groups: Any, channels: int, other: int, shape: tuple, wshape: tuple) -> int:
    if (n := size_int(groups)) is None or n < 1:
        raise ShapeError(f"{op}: expected groups to be a positive int, got {groups!r}")
    groups = n  # a NumPy or 0-d tensor integer, as PyTorch's parser reads one
    if wshape[0] < groups:  # PyTorch refuses a weight with no filters even for an empty batch
        raise ShapeError(
            f"{op}: Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
            f"but got weight of size {list(wshape)} instead"
        )
    if channels % groups or other % groups:
        raise ShapeError(
            f"{op}: expected groups={groups} to divide the input channels and the output channels, "
            f"got input {shape} and weight {wshape}"
        )
    return int(groups)


def _check_empty(op: str, x: Tensor) -> None:
    """PyTorch's convolutions take an empty input only when its batch or channels are what is 0."""
    if x.shape[0] and x.shape[1] and 0 in x.shape[2:]:
        raise ShapeError(
            f"{op}: Only zero batch or zero channel inputs are supported, but got input shape: {list(x.shape)}"
        )


def _conv(
    op: str,
    nd: int,
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
) -> Tensor:
    x, unbatched = _batched(op, input, nd)
    kernel, stride, dilation = _check_conv(op, x, weight, bias, nd, False, stride, dilation)
    pads = conv_padding(op, padding, kernel, stride, dilation)
    out_ch, cg = weight.shape[:2]
    groups = _check_groups(op, groups, x.shape[1], out_ch, x.shape, weight.shape)
    if x.shape[1] != cg * groups:
        raise ShapeError(
            f"{op}: expected input with {cg * groups} channels (weight {weight.shape}, groups={groups}), "
            f"got input {x.shape}"
        )
    spatial = x.shape[2:]
    for n, (lo, hi), k, d in zip(spatial, pads, kernel, dilation):
        if n + lo + hi < d * (k - 1) + 1:
            raise ShapeError(
                f"{op}: expected a padded input at least as large as the (dilated) kernel {kernel}, got input "
                f"{x.shape} with padding {pads} and dilation {dilation}"
            )
    _check_empty(op, x)
    if bias is not None and bias.shape != (out_ch,):
        raise ShapeError(f"{op}: expected bias of shape {(out_ch,)}, got {bias.shape}")
    if not x.shape[1]:
        # PyTorch's empty-input path answers no output channels for an input with none (not the
        # weight's filters, nor the bias broadcast): the weight and bias enter with no filters, so
        # their gradients are zeros of their shapes
        weight, bias = weight[:0], None if bias is None else bias[:0]
    if nd == 1:  # a height of 1: (N, C, L) -> (N, C, 1, L)
        x, weight = x.unsqueeze(2), weight.unsqueeze(2)
        stride, dilation, pads = (1, *stride), (1, *dilation), ((0, 0), *pads)
    prim = _C3.Conv3d if nd == 3 else _C.Conv2d
    run = complex_conv if x._data.dtype.kind == "c" else lambda p, *a, **kw: p.apply(*a, **kw)
    out = run(prim, x, weight, bias, stride=stride, padding=pads, dilation=dilation, groups=groups)
    return _conv_named(_unbatched(out, nd, unbatched), nd, unbatched)


def conv2d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    ``out[n, o] = bias[o] + sum_c sum_(i, j) weight[o, c, i, j] * xpad[n, c, h*s + i*d, w*s + j*d]``,
    each output channel reading only its group's ``C / groups`` input channels.

    Args:
        stride, dilation: int or ``(h, w)``.
        padding: int, ``(h, w)``, ``"valid"`` (none) or ``"same"`` (output size = input size; stride 1).
        groups: split channels into this many independent convolutions (``groups = C`` is depthwise).

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``; weight ``(O, C/groups, kh, kw)``; bias ``(O,)``;
        returns ``(N, O, Ho, Wo)`` with ``Ho = floor((H + 2p - d(kh - 1) - 1) / s) + 1``.

    >>> import glassgrad as gg
    >>> conv2d(gg.ones(1, 3, 6, 6), gg.ones(10, 3, 3, 3)).shape
    glassgrad.Size([1, 10, 4, 4])
    """
    out = _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)
    return channels_last_if(out, input, weight)  # channels-last in, channels-last out (PyTorch)


def conv1d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation, as ``torch.nn.functional.conv1d`` (the 2-D op on a height of 1).

    Shape:
        input ``(N, C, L)`` or ``(C, L)``; weight ``(O, C/groups, k)``; bias ``(O,)``; returns ``(N, O, Lo)``.
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(
    op: str,
    nd: int,
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: Any,
    dilation: Any,
) -> Tensor:
    x, unbatched = _batched(op, input, nd)
    kernel, stride, dilation = _check_conv(op, x, weight, bias, nd, True, stride, dilation)
    padding = ntuple(padding, nd, op, "padding", one=True)
    output_padding = ntuple(output_padding, nd, op, "output_padding", one=True)
    in_ch, og = weight.shape[:2]
    groups = _check_groups(op, groups, x.shape[1], in_ch, x.shape, weight.shape)
    if x.shape[1] != in_ch:
        raise ShapeError(
            f"{op}: expected input with {in_ch} channels (weight {weight.shape}), got input {x.shape}"
        )
    if any(op_ >= s and op_ >= d for op_, s, d in zip(output_padding, stride, dilation)):
        raise ShapeError(
            f"{op}: expected output_padding smaller than stride or dilation, got output_padding "
            f"{output_padding}, stride {stride}, dilation {dilation}"
        )
    sizes = [
        (n - 1) * s - 2 * p + d * (k - 1) + op_ + 1
        for n, s, p, d, k, op_ in zip(x.shape[2:], stride, padding, dilation, kernel, output_padding)
    ]
    _check_empty(op, x)
    if min(sizes) < (0 if x.shape[0] == 0 else 1):  # an empty batch may answer empty dims (PyTorch)
        raise ShapeError(
            f"{op}: expected a positive output size, got {tuple(sizes)} for input {x.shape} and weight {weight.shape}"
        )
    if bias is not None and bias.shape != (og * groups,):
        raise ShapeError(f"{op}: expected bias of shape {(og * groups,)}, got {bias.shape}")
    if nd == 1:  # a height of 1: (N, C, L) -> (N, C, 1, L)
        x, weight = x.unsqueeze(2), weight.unsqueeze(2)
        stride, dilation = (1, *stride), (1, *dilation)
        padding, output_padding = (0, *padding), (0, *output_padding)
    run = complex_conv if x._data.dtype.kind == "c" else lambda p, *a, **kw: p.apply(*a, **kw)
    out = run(
        _C3.ConvTranspose3d if nd == 3 else _C.ConvTranspose2d,
        x,
        weight,
        bias,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
    )
    return _conv_named(_unbatched(out, nd, unbatched), nd, unbatched)


def conv_transpose2d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """2-D transposed convolution (the gradient of conv2d with respect to its input, run forward).

    Every input pixel adds ``weight``-scaled copies of the kernel into the output, ``stride`` apart;
    ``padding`` crops the result, ``output_padding`` adds rows/columns at the bottom/right.

    Shape:
        input ``(N, Cin, H, W)``; weight ``(Cin, Cout/groups, kh, kw)``; bias ``(Cout,)``; returns
        ``(N, Cout, Ho, Wo)`` with ``Ho = (H - 1) s - 2p + d (kh - 1) + output_padding + 1``.

    >>> import glassgrad as gg
    >>> conv_transpose2d(gg.ones(1, 4, 5, 5), gg.ones(4, 2, 3, 3), stride=2).shape
    glassgrad.Size([1, 2, 11, 11])
    """
    out = _conv_transpose(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    return channels_last_if(out, input, weight)


def conv_transpose1d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """1-D transposed convolution (the 2-D op on a height of 1).

    Shape:
        input ``(N, Cin, L)``; weight ``(Cin, Cout/groups, k)``; returns ``(N, Cout, Lo)``,
        ``Lo = (L - 1) s - 2p + d (k - 1) + output_padding + 1``.
    """
    return _conv_transpose(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


# unfold and fold live in nn/functional/fold.py (kept importable from here, their old home)
from glassgrad.nn.functional.fold import fold, unfold  # noqa: E402
