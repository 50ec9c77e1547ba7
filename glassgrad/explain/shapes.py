"""Shape and cost tools: the output size of a convolution, and a layer-by-layer ``summary`` of a model
(output shape, parameter count and multiply-adds of every layer, with totals).

A convolution's cost is counted as multiply-adds (MACs): each output value of a ``k x k`` convolution
over ``C_in`` channels takes ``k * k * C_in`` of them, so a layer costs

    MACs = (number of output values) * k_h * k_w * C_in / groups

This is the arithmetic behind the 1x1 "bottleneck": on a 28 x 28 x 192 input, a 5 x 5 convolution to
32 channels costs 28*28*32 * 5*5*192 = 120.4M MACs, while a 1x1 convolution down to 16 channels
(28*28*16 * 192 = 2.4M) followed by the same 5 x 5 convolution on 16 channels (28*28*32 * 5*5*16 =
10.0M) costs 12.4M, about a tenth, for the same output shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from glassgrad import dtypes
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.errors import ShapeError
from glassgrad.factories import zeros
from glassgrad.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from glassgrad.nn.instancenorm import _InstanceNorm
from glassgrad.nn.linear import Bilinear, Linear
from glassgrad.nn.module import Module
from glassgrad.nn.normalization import GroupNorm, LayerNorm, _BatchNorm
from glassgrad.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from glassgrad.ops.conv import out_size
from glassgrad.tensor import Tensor

__all__ = ["conv_output_shape", "summary", "Summary", "LayerRow"]


def _tuple(v: Any, n: int, name: str) -> tuple[int, ...]:
    t = (int(v),) * n if isinstance(v, int) else tuple(int(x) for x in v)
    if len(t) != n:
        raise ShapeError(f"conv_output_shape: expected {name} as an int or {n} ints, got {v!r}")
    return t


def conv_output_shape(
    in_size: int | tuple[int, ...],
    kernel: int | tuple[int, ...],
    stride: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] = 0,
    dilation: int | tuple[int, ...] = 1,
) -> int | tuple[int, ...]:
    """The output size of a convolution or pooling window along each spatial dim.

    n_out = floor((n + 2p - d(f - 1) - 1) / s) + 1: the dilated kernel spans d(f - 1) + 1 positions,
    and it fits ``(n + 2p - span) // s + 1`` times with stride ``s``. With d = 1 this is the course's
    floor((n + 2p - f) / s) + 1.

    Args:
        in_size: the input size, an int (one dim) or a tuple (one entry per dim).
        kernel, stride, padding, dilation: ints (the same for every dim) or tuples.

    Returns:
        An int for an int ``in_size``, else a tuple.

    >>> conv_output_shape(6, 3)          # the vertical-edge example: 6x6 * 3x3 -> 4x4
    4
    >>> conv_output_shape((39, 39), 3)   # 39x39x3 -> (3x3, s1, 10 filters) -> 37x37x10
    (37, 37)
    >>> conv_output_shape(37, 5, stride=2), conv_output_shape(17, 5, stride=2)
    (17, 7)
    """
    scalar = isinstance(in_size, int)
    sizes = (int(in_size),) if scalar else tuple(int(n) for n in in_size)
    k = len(sizes)
    f, s, p, d = (
        _tuple(v, k, name)
        for v, name in ((kernel, "kernel"), (stride, "stride"), (padding, "padding"), (dilation, "dilation"))
    )
    if min(f + s + d, default=1) <= 0 or min(p, default=0) < 0:
        raise ShapeError(
            f"conv_output_shape: expected positive kernel, stride, dilation and padding >= 0, got kernel={f}, "
            f"stride={s}, padding={p}, dilation={d}"
        )
    out = tuple(out_size(n + 2 * pi, fi, si, di) for n, fi, si, pi, di in zip(sizes, f, s, p, d))
    if min(out) <= 0:
        raise ShapeError(
            f"conv_output_shape: kernel {f} (dilation {d}) does not fit input {sizes} padded by {p}: output {out}"
        )
    return out[0] if scalar else out


# ------------------------------------------------------------------ summary
@dataclass
class LayerRow:
    """One line of a summary: a layer's name, type, output shape, own parameters and multiply-adds."""

    name: str
    kind: str
    output_shape: tuple
    params: int
    macs: int


@dataclass
class Summary:
    """What ``summary`` measured: the rows in call order and the totals. ``str()`` is the table."""

    rows: list[LayerRow] = field(default_factory=list)
    input_shape: tuple = ()
    total_params: int = 0
    trainable_params: int = 0
    total_macs: int = 0

    def __str__(self) -> str:
        header = ("Layer (type)", "Output shape", "Params", "Mult-adds")
        lines = [
            (f"{r.name} ({r.kind})", str(r.output_shape), f"{r.params:,}", f"{r.macs:,}") for r in self.rows
        ]
        widths = [max(len(x[i]) for x in [header, *lines]) for i in range(4)]

        def fmt(cols: tuple) -> str:
            return f"{cols[0]:<{widths[0]}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cols[1:], widths[1:]))

        rule = "-" * len(fmt(header))
        return "\n".join(
            [
                rule,
                fmt(header),
                rule,
                *(fmt(line) for line in lines),
                rule,
                f"Input shape: {self.input_shape}",
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Total mult-adds: {self.total_macs:,} ({self.total_macs / 1e6:.2f}M)",
                rule,
            ]
        )


def _first_tensor(x: Any) -> Tensor | None:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (tuple, list)):
        for item in x:
            t = _first_tensor(item)
            if t is not None:
                return t
    return None


def _window(kernel: Any, nd: int) -> int:
    return int(kernel) ** nd if isinstance(kernel, int) else math.prod(kernel)


def _macs(module: Module, inp: Tensor | None, out: Tensor) -> int:
    """Multiply-adds of one call (see the module docstring); 0 for layers that do no arithmetic."""
    n_out = out._data.size
    if isinstance(module, (Conv1d, Conv2d)):
        return n_out * math.prod(module.kernel_size) * module.in_channels // module.groups
    if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) and inp is not None:
        # each input value is spread over a k x k window of every output channel in its group
        return inp._data.size * math.prod(module.kernel_size) * module.out_channels // module.groups
    if isinstance(module, Linear):
        return n_out * module.in_features
    if isinstance(module, Bilinear):
        return n_out * module.in1_features * (module.in2_features + 1)
    if isinstance(module, (_BatchNorm, _InstanceNorm, GroupNorm, LayerNorm)):
        affine = getattr(module, "weight", None) is not None
        return n_out * (2 if affine else 1)  # normalise, then scale and shift
    if isinstance(module, (MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d)):
        return n_out * _window(module.kernel_size, out.ndim - 2)  # one add or compare per window value
    if (
        isinstance(module, (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d))
        and inp is not None
    ):
        return inp._data.size  # adaptive windows tile the input: each value read about once
    return 0


def summary(
    model: Module,
    input_shape: tuple[int, ...],
    dtype: Any = None,
    verbose: bool = True,
) -> Summary:
    """Run ``model`` once on zeros of ``input_shape`` and report every layer's output shape, parameters
    and multiply-adds, with totals; prints the table unless ``verbose=False``.

    A row is recorded (by a forward hook) for each call of a leaf module, and of any module that
    holds parameters of its own; a layer called twice gives two rows. The model runs in eval mode
    under ``no_grad`` (batch-norm statistics are not touched), and each module's training flag is
    restored afterwards. Mult-adds are for the whole input, batch included.

    Args:
        model: the network.
        input_shape: the input's full shape, batch dim included, e.g. ``(1, 1, 28, 28)``.
        dtype: the input's dtype (default: the default dtype).
        verbose: print the table.

    Returns:
        A ``Summary`` with ``rows``, ``total_params``, ``trainable_params`` and ``total_macs``.
    """
    result = Summary(input_shape=tuple(input_shape))
    names = {id(m): name or type(m).__name__ for name, m in model.named_modules()}

    def hook(module: Module, args: tuple, output: Any) -> None:
        out = _first_tensor(output)
        if out is None:
            return
        own = sum(p._data.size for p in module.parameters(recurse=False))
        result.rows.append(
            LayerRow(
                names[id(module)],
                type(module).__name__,
                tuple(out.shape),
                own,
                _macs(module, _first_tensor(args), out),
            )
        )

    handles = []
    modes = {id(m): m.training for m in model.modules()}
    for m in model.modules():
        has_children = next(iter(m.children()), None) is not None
        if not has_children or next(iter(m.parameters(recurse=False)), None) is not None:
            handles.append(m.register_forward_hook(hook))
    try:
        model.eval()
        with no_grad():
            model(zeros(*input_shape, dtype=dtype if dtype is not None else dtypes.get_default_dtype()))
    finally:
        for h in handles:
            h.remove()
        for m in model.modules():
            m.training = modes[id(m)]
    result.total_params = sum(p._data.size for p in model.parameters())
    result.trainable_params = sum(p._data.size for p in model.parameters() if p.requires_grad)
    result.total_macs = sum(r.macs for r in result.rows)
    if verbose:
        print(result)
    return result
