"""``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``, ``Unfold`` and ``Fold``, with
PyTorch's parameter shapes, initialisation, ``state_dict`` keys (``weight``, ``bias``) and reprs."""

from __future__ import annotations

import math
from typing import Any

import glassgrad.nn.functional as F
from glassgrad import dtypes
from glassgrad.errors import ShapeError
from glassgrad.factories import empty
from glassgrad.nn import init
from glassgrad.nn.functional.conv import conv_padding, ntuple
from glassgrad.nn.input_checks import checkable
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.sizes import layer_sizes, size_int
from glassgrad.operand_errors import iterable_tuple
from glassgrad.tensor import Tensor

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Unfold", "Fold"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _as_given(value: Any, repeated: tuple[int, ...]) -> tuple[int, ...]:
    """A layer's stored ``stride``/``padding``/...: a list or tuple as given (as ints), else ``repeated``."""
    return tuple(int(v) for v in value) if isinstance(value, tuple | list) else repeated


class _ConvNd(Module):
    """What the convolution layers share: argument checks, parameters, init and repr."""

    _nd = 2
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any,
        padding: Any,
        dilation: Any,
        groups: int,
        bias: bool,
        padding_mode: str,
        output_padding: Any = 0,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name, nd = type(self).__name__, self._nd
        in_channels, out_channels = layer_sizes(name, in_channels=in_channels, out_channels=out_channels)
        g = size_int(groups)  # a NumPy integer too, as PyTorch
        if g is None or g < 1:
            raise ValueError(f"{name}: expected groups to be a positive int, got {groups!r}")
        groups = g
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: expected groups={groups} to divide in_channels={in_channels} and out_channels={out_channels}"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: expected padding_mode among {_PADDING_MODES}, got {padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode 'zeros' is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        # PyTorch's ``_pair`` reads any iterable into a tuple first (ml-cvnets passes a generator)
        kernel_size, stride, padding, dilation, output_padding = map(
            iterable_tuple, (kernel_size, stride, padding, dilation, output_padding)
        )
        self.kernel_size = ntuple(kernel_size, nd, name, "kernel_size", 1)
        # PyTorch's ``_pair``: the attributes keep a one-element list's length (``stride=[2]`` reads
        # ``(2,)``, as the functions accept it); the checks and padding use the repeated values
        stride_nd = ntuple(stride, nd, name, "stride", 1, one=True)
        dilation_nd = ntuple(dilation, nd, name, "dilation", 1, one=True)
        self.stride, self.dilation = _as_given(stride, stride_nd), _as_given(dilation, dilation_nd)
        if isinstance(padding, str):
            self.padding = padding
            pads = conv_padding(name, padding, self.kernel_size, stride_nd, dilation_nd)
        else:
            padding_nd = ntuple(padding, nd, name, "padding", one=True)
            self.padding = _as_given(padding, padding_nd)
            pads = tuple((p, p) for p in padding_nd)
        # F.pad's order: last dim first, (before, after) each
        self._reversed_padding_repeated_twice = tuple(v for lo_hi in reversed(pads) for v in lo_hi)
        op_nd = ntuple(output_padding, nd, name, "output_padding", one=True)
        self.output_padding = _as_given(output_padding, op_nd)
        self.transposed = self._transposed
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (
            (in_channels, out_channels // groups)
            if self._transposed
            else (out_channels, in_channels // groups)
        )
        dtype = dtype if dtype is not None else dtypes.get_default_dtype()
        self.weight = Parameter(empty(*shape, *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform with a = sqrt(5) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as PyTorch
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        nd = self._nd
        # a non-Tensor (None, a list) is left to the functional, whose TypeError names the argument
        # (PyTorch's layers raise TypeError there too)
        if not isinstance(input, Tensor) or not checkable(input):
            return
        w, c = self._parameters.get("weight"), self.in_channels  # the weight's channels, as PyTorch's
        if isinstance(w, Tensor) and w.ndim == nd + 2:  # conv reads them (pruned, in_channels unchanged)
            c = w.shape[0] if self._transposed else w.shape[1] * self.groups
        if input.ndim not in (nd + 1, nd + 2) or input.shape[-nd - 1] != c:
            raise ShapeError(
                f"{self._get_name()}: expected input (N, {c}, *{nd} spatial dims) or "
                f"({c}, *{nd} spatial dims), got {tuple(input.shape)}"
            )

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            dtype=dtype,
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input(input)
        return self._conv_forward(input, self.weight, self.bias)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:  # noqa: A002
        # PyTorch's hook point: subclasses (Whisper's Conv1d, weight-standardised convs) override it to
        # transform weight/bias (cast, normalise) while keeping the layer's padding and stride
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[self._nd]
        if self.padding_mode == "zeros":
            return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)
        padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
        return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)


class Conv2d(_Conv):
    """2-D convolution (cross-correlation) over ``(N, C, H, W)`` images.

    Args:
        in_channels, out_channels: channels in and out.
        kernel_size, stride, dilation: int or ``(h, w)``.
        padding: int, ``(h, w)``, ``"valid"`` or ``"same"``; filled according to ``padding_mode``
            (``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``).
        groups: independent channel groups (``groups = in_channels`` is depthwise).
        bias: learn a per-output-channel bias.

    Shape:
        input ``(N, C_in, H, W)``, output ``(N, C_out, Ho, Wo)``, ``Ho = floor((H + 2p - d(k-1) - 1)/s) + 1``.

    Attributes:
        weight: ``(out_channels, in_channels / groups, kh, kw)``, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            with fan_in = in_channels / groups * kh * kw (``kaiming_uniform_`` with a = sqrt(5)).
        bias: ``(out_channels,)``, same bound.

    >>> conv = Conv2d(3, 10, 3)
    >>> conv
    Conv2d(3, 10, kernel_size=(3, 3), stride=(1, 1))
    >>> sum(p.numel() for p in conv.parameters())  # 10 filters of 3x3x3, plus 10 biases
    280
    """


class Conv1d(_Conv):
    """1-D convolution over ``(N, C, L)`` sequences; arguments as ``Conv2d``, with ints or 1-tuples.

    Shape:
        input ``(N, C_in, L)``, output ``(N, C_out, Lo)``.

    Attributes:
        weight: ``(out_channels, in_channels / groups, k)``; bias ``(out_channels,)``.
    """

    _nd = 1


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: expected padding as an int or a tuple, got {padding!r}")
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
            output_padding=output_padding, dtype=dtype,
        )  # fmt: skip

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:  # noqa: A002
        """The output_padding that makes the output ``output_size`` (PyTorch's ``output_size=``)."""
        if output_size is None:
            return self.output_padding
        nd, name = self._nd, self._get_name()
        stride = ntuple(self.stride, nd, name, "stride", 1, one=True)
        dilation = ntuple(self.dilation, nd, name, "dilation", 1, one=True)
        padding = ntuple(self.padding, nd, name, "padding", one=True)
        # PyTorch takes the spatial sizes alone or with the batch and channel sizes in front
        size, lead = tuple(output_size), input.dim() - nd
        if len(size) == lead + nd:
            size = size[lead:]
        if len(size) != nd:
            raise ValueError(
                f"ConvTranspose{nd}D: for {input.dim()}D input, output_size must have {nd} or {lead + nd} "
                f"elements (got {len(size)})"
            )
        least = [
            (n - 1) * s - 2 * p + d * (k - 1) + 1
            for n, s, p, d, k in zip(input.shape[-nd:], stride, padding, dilation, self.kernel_size)
        ]
        most = [m + s - 1 for m, s in zip(least, stride)]
        # the module allows less than conv_transpose does (output_padding below the stride, not below
        # the dilation): PyTorch refuses a size past the next stride even where the functional would run
        if any(o < m or o > x for o, m, x in zip(size, least, most)):
            raise ShapeError(
                f"requested an output size of {list(size)}, but valid sizes range from {least} to {most} "
                f"(for an input of {tuple(input.shape[2:])})"
            )
        return tuple(o - m for o, m in zip(size, least))

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        self._check_input(input)
        fn = F.conv_transpose2d if self._nd == 2 else F.conv_transpose1d
        op = self._output_padding(input, output_size)
        return fn(input, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation)


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution ("deconvolution"): each input pixel paints a kernel-sized patch.

    Shape:
        input ``(N, C_in, H, W)``, output ``(N, C_out, Ho, Wo)``, ``Ho = (H-1)s - 2p + d(k-1) + output_padding + 1``.

    Attributes:
        weight: ``(in_channels, out_channels / groups, kh, kw)``, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
            fan_in = out_channels / groups * kh * kw (as PyTorch computes it from the weight's shape).
        bias: ``(out_channels,)``, same bound.

    >>> ConvTranspose2d(16, 8, 3, stride=2, output_padding=1)
    ConvTranspose2d(16, 8, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))
    """


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution over ``(N, C, L)``.

    Shape:
        input ``(N, C_in, L)``, output ``(N, C_out, Lo)``.

    Attributes:
        weight: ``(in_channels, out_channels / groups, k)``; bias ``(out_channels,)``.
    """

    _nd = 1


class Unfold(Module):
    """Extract sliding windows as columns (im2col), ``F.unfold``.

    Shape:
        input ``(N, C, H, W)``, output ``(N, C * kh * kw, L)``.
    """

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """Sum columns back into an image (col2im), ``F.fold``; overlapping windows add.

    Shape:
        input ``(N, C * kh * kw, L)``, output ``(N, C, *output_size)``.
    """

    def __init__(
        self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
    ) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )
