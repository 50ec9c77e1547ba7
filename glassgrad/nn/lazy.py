"""Lazy modules (``torch.nn.LazyLinear``, ``LazyConv2d``, ``LazyBatchNorm2d``, ...): layers that
learn their input size from the first batch.

Until the first call a lazy layer holds ``UninitializedParameter`` placeholders; a forward pre-hook
reads the input's shape, gives the placeholders storage in place (so an optimizer built before the
first call trains the real parameters, as in d2l's ``Trainer``), runs ``reset_parameters`` and turns
the module into its ``cls_to_become`` (``LazyLinear`` -> ``Linear``). Loading a state dict into a
lazy layer materializes the placeholders from the loaded shapes first.
"""

from __future__ import annotations

import itertools
from typing import Any

from glassgrad import dtypes
from glassgrad.errors import ShapeError
from glassgrad.factories import tensor as _tensor
from glassgrad.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from glassgrad.nn.instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm
from glassgrad.nn.layers3d import BatchNorm3d, Conv3d, ConvTranspose3d
from glassgrad.nn.linear import Linear
from glassgrad.nn.module import Module
from glassgrad.nn.normalization import BatchNorm1d, BatchNorm2d, _BatchNorm
from glassgrad.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from glassgrad.tensor import Tensor

__all__ = [
    "LazyModuleMixin",
    "LazyLinear",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
]


class LazyModuleMixin:
    """Shape inference on the first call. Subclasses define ``initialize_parameters(*args)`` and
    ``cls_to_become``. A user's ``class M(LazyModuleMixin, nn.Module)`` whose ``__init__`` calls
    ``super().__init__()`` gets the hooks from the mixin's ``__init__``, as PyTorch's (torchaudio's
    ``PitchShift``, port round 40); the layers here, which call ``Module.__init__`` directly, run
    ``_lazy_setup()`` at the end of theirs."""

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # the Module (or layer) after the mixin in the MRO
        self._lazy_setup()

    def _lazy_setup(self) -> None:
        if self.__dict__.get("_initialize_hook") is not None:
            return  # already set up (a layer that calls both)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer is still a placeholder."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(), self._buffers.values()))

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__}: initialize_parameters is not implemented")

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        # a placeholder is saved as itself (PyTorch's ``<UninitializedParameter>`` entries), not detached
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name, value in itertools.chain(self._parameters.items(), self._buffers.items()):
            if is_lazy(value) and prefix + name in destination:
                destination[prefix + name] = value

    def _lazy_load_hook(self, state_dict: dict, prefix: str, *_: Any) -> None:
        # a placeholder takes the shape of a real tensor loaded into it; a real one is kept
        for name, value in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if value is not None and key in state_dict and is_lazy(value):
                incoming = state_dict[key]
                if not is_lazy(incoming):
                    value.materialize(tuple(incoming.shape))

    def _infer_parameters(self, module: Module, args: tuple, kwargs: dict | None = None) -> None:
        self.initialize_parameters(*args, **(kwargs or {}))
        if self.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        self._initialize_hook.remove()
        self._load_hook.remove()
        del self._initialize_hook, self._load_hook
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become


def _first_input(name: str, args: tuple) -> Tensor:
    if not args or not isinstance(args[0], Tensor):
        raise TypeError(
            f"{name}: expected a Tensor as the first input, got {[type(a).__name__ for a in args]}"
        )
    return args[0]


def _check_loaded(layer: Module, name: str, loaded: int, got: int, x: Tensor) -> None:
    """A layer loaded from a state dict takes ``name`` from its weight, and checks the input against it
    before it changes class (as PyTorch's: a failed first call leaves it lazy, as it was)."""
    setattr(layer, name, loaded)
    if loaded != got:
        raise ShapeError(
            f"{layer._get_name()}: the loaded weight {tuple(layer.weight.shape)} has {name}={loaded}, "
            f"but the input {tuple(x.shape)} has {got}"
        )


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` whose ``in_features`` is the last dim of the first input.

    Args:
        out_features: size of each output sample. bias, device, dtype: as ``Linear``.

    Shape:
        input ``(*, H_in)``, output ``(*, out_features)``; ``weight`` becomes ``(out_features, H_in)``.
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        Module.__init__(self)
        self.in_features, self.out_features = 0, out_features
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self._lazy_setup()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        x = _first_input(self._get_name(), args)
        if x.ndim == 0:
            raise ShapeError(f"{self._get_name()}: expected an input with at least 1 dim, got a 0-d tensor")
        self.in_features = int(x.shape[-1])
        if not is_lazy(self.weight):  # loaded from a state dict
            _check_loaded(self, "in_features", int(self.weight.shape[-1]), int(x.shape[-1]), x)
        if self.has_uninitialized_params():
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    """The lazy convolutions: ``in_channels`` is dim 1 of the first input (dim 0 unbatched)."""

    def _lazy_conv_init(self, out_channels: int, bias: bool, dtype: Any) -> None:
        self.out_channels = out_channels
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        self._lazy_setup()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        x = _first_input(self._get_name(), args)
        nd = self._nd
        if x.ndim not in (nd + 1, nd + 2):
            raise ShapeError(
                f"{self._get_name()}: expected a {nd + 1}-d (unbatched) or {nd + 2}-d (batched) input, "
                f"got {tuple(x.shape)}"
            )
        self.in_channels = int(x.shape[0] if x.ndim == nd + 1 else x.shape[1])
        if not is_lazy(self.weight):  # loaded from a state dict
            w, got = self.weight.shape, self.in_channels
            _check_loaded(self, "in_channels", int(w[0] if self._transposed else w[1] * self.groups), got, x)
        if self.in_channels % self.groups:
            raise ValueError(
                f"{self._get_name()}: in_channels must be divisible by groups (in_channels={self.in_channels}, "
                f"groups={self.groups})"
            )
        if self.has_uninitialized_params():
            if self._transposed:
                shape = (self.in_channels, self.out_channels // self.groups)
            else:
                shape = (self.out_channels, self.in_channels // self.groups)
            self.weight.materialize(shape + tuple(self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


def _lazy_conv(base: type, transposed: bool) -> type:
    """A lazy twin of the convolution ``base``: PyTorch's arguments without ``in_channels``."""

    if transposed:

        def init(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                     bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
            # out_channels 0 and no bias: nothing is built that the placeholders replace
            base.__init__(self, 0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation,
                          padding_mode, dtype=dtype)  # fmt: skip
            self._lazy_conv_init(out_channels, bias, dtype)
    else:

        def init(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                     padding_mode="zeros", device=None, dtype=None):  # fmt: skip
            base.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode,
                          dtype=dtype)  # fmt: skip
            self._lazy_conv_init(out_channels, bias, dtype)

    name = "Lazy" + base.__name__
    doc = f"``{base.__name__}`` whose ``in_channels`` is dim 1 of the first input (dim 0 if unbatched)."
    return type(name, (_LazyConvMixin, base), {"__init__": init, "cls_to_become": base, "__doc__": doc})


LazyConv1d = _lazy_conv(Conv1d, False)
LazyConv2d = _lazy_conv(Conv2d, False)
LazyConv3d = _lazy_conv(Conv3d, False)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, True)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, True)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, True)
for _cls in (
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyConvTranspose3d,
):
    _cls.__module__ = __name__


class _LazyNormBase(LazyModuleMixin):
    """The lazy batch norms: ``num_features`` is dim 1 of the first input."""

    def __init__(
        self,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        Module.__init__(self)  # the batch norms' own __init__ wants num_features > 0
        self.num_features, self.eps, self.momentum = 0, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", UninitializedParameter(dtype=dtype) if affine else None)
        self.register_parameter("bias", UninitializedParameter(dtype=dtype) if affine else None)
        if track_running_stats:
            self.register_buffer("running_mean", UninitializedBuffer(dtype=dtype))
            self.register_buffer("running_var", UninitializedBuffer(dtype=dtype))
            self.register_buffer("num_batches_tracked", _tensor(0, dtype=dtypes.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self._lazy_setup()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _channel_dim(self, x: Tensor) -> int:
        return 1

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        x = _first_input(self._get_name(), args)
        if x.ndim < 2:
            raise ShapeError(f"{self._get_name()}: expected an input (N, C, ...), got {tuple(x.shape)}")
        # loaded from a state dict, the size is the loaded tensors'; with nothing to learn, the input's
        known = [t for t in (self.weight, self.running_mean) if t is not None and not is_lazy(t)]
        self.num_features = int(known[0].shape[0]) if known else int(x.shape[self._channel_dim(x)])
        if self.has_uninitialized_params():
            for t in (self.weight, self.bias, self.running_mean, self.running_var):
                if t is not None:
                    t.materialize((self.num_features,))
            self.reset_parameters()


# On _BatchNorm, not BatchNorm1d ..., as PyTorch: a lazy batch norm is not an instance of the
# layer it becomes until its first call.
class LazyBatchNorm1d(_LazyNormBase, _BatchNorm):
    """``BatchNorm1d`` whose ``num_features`` is dim 1 of the first input ``(N, C)`` or ``(N, C, L)``."""

    cls_to_become = BatchNorm1d
    _dims, _layout = BatchNorm1d._dims, BatchNorm1d._layout


class LazyBatchNorm2d(_LazyNormBase, _BatchNorm):
    """``BatchNorm2d`` whose ``num_features`` is dim 1 of the first input ``(N, C, H, W)``."""

    cls_to_become = BatchNorm2d
    _dims, _layout = BatchNorm2d._dims, BatchNorm2d._layout


class LazyBatchNorm3d(_LazyNormBase, _BatchNorm):
    """``BatchNorm3d`` whose ``num_features`` is dim 1 of the first input ``(N, C, D, H, W)``."""

    cls_to_become = BatchNorm3d
    _dims, _layout = BatchNorm3d._dims, BatchNorm3d._layout


class _LazyInstanceNormBase(_LazyNormBase):
    """The lazy instance norms, with PyTorch's defaults (``affine=True``, ``track_running_stats=True``,
    unlike ``InstanceNorm``'s): ``num_features`` is the channel dim of the first input, dim 1 of
    ``(N, C, *S)`` or dim 0 of an unbatched ``(C, *S)``. With nothing to learn or track it stays 0,
    as PyTorch's, and the layer warns that the input's channels differ."""

    def _channel_dim(self, x: Tensor) -> int:
        return x.ndim - self._spatial - 1

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        if self.has_uninitialized_params():
            super().initialize_parameters(*args, **kwargs)


class LazyInstanceNorm1d(_LazyInstanceNormBase, _InstanceNorm):
    """``InstanceNorm1d`` whose ``num_features`` is the channels of the first input ``(N, C, L)`` or ``(C, L)``."""

    cls_to_become, _spatial = InstanceNorm1d, 1


class LazyInstanceNorm2d(_LazyInstanceNormBase, _InstanceNorm):
    """``InstanceNorm2d`` whose ``num_features`` is the channels of the first input ``(N, C, H, W)`` or ``(C, H, W)``."""

    cls_to_become, _spatial = InstanceNorm2d, 2


class LazyInstanceNorm3d(_LazyInstanceNormBase, _InstanceNorm):
    """``InstanceNorm3d`` whose ``num_features`` is the channels of the first input ``(N, C, D, H, W)`` or ``(C, D, H, W)``."""

    cls_to_become, _spatial = InstanceNorm3d, 3
