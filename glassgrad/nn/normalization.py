"""``LayerNorm``, ``BatchNorm1d``/``BatchNorm2d``, ``GroupNorm`` and ``LocalResponseNorm`` with PyTorch's
parameters, buffers and state-dict keys (``weight``, ``bias``, ``running_mean``, ``running_var``,
``num_batches_tracked``). The instance norms live in ``instancenorm.py``."""

from __future__ import annotations

import math
import numbers
from typing import Any

import glassgrad.nn.functional as F
from glassgrad import dtypes
from glassgrad.errors import ShapeError, SizeTypeError
from glassgrad.factories import empty, ones, tensor, zeros
from glassgrad.nn import init
from glassgrad.nn.input_checks import checkable
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.sizes import layer_sizes, size_int
from glassgrad.tensor import Tensor

__all__ = ["LayerNorm", "BatchNorm1d", "BatchNorm2d", "RMSNorm", "GroupNorm", "LocalResponseNorm"]


def _register_affine(module: Module, shape: Any, affine: bool, bias: bool, dtype: Any) -> None:
    """``weight`` and ``bias`` Parameters of ``shape`` (uninitialised; see ``_reset_affine``), or None
    for each one switched off: no ``affine`` means neither."""
    dt = dtype if dtype is not None else dtypes.get_default_dtype()
    module.register_parameter("weight", Parameter(empty(shape, dtype=dt)) if affine else None)
    module.register_parameter("bias", Parameter(empty(shape, dtype=dt)) if affine and bias else None)


def _reset_affine(module: Module) -> None:
    """The identity transform: ``weight`` ones, ``bias`` zeros (those that exist)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift per element.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the biased variance of each sample.

    Args:
        normalized_shape: the trailing shape to normalise over (an int means ``(int,)``).
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of ``normalized_shape``.
        bias: learn the bias too (when ``elementwise_affine``).

    Shape:
        input ``(*, *normalized_shape)``, output the same.

    >>> LayerNorm(4)
    LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):  # NumPy ints too, as PyTorch
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        ns = self.normalized_shape
        if checkable(input) and (tuple(input.shape[input.ndim - len(ns) :]) != ns or input.ndim < len(ns)):
            raise ShapeError(
                f"{self!r}: expected input (*, {', '.join(map(str, ns))}), got {tuple(input.shape)}"
            )
        return F.layer_norm(input, ns, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class _NormBase(Module):
    """What batch and instance norm share: the affine parameters, the running statistics and the
    loading of checkpoints older than ``num_batches_tracked``. Instance norm is not a ``_BatchNorm``,
    as in PyTorch, so that ``isinstance(m, _BatchNorm)`` picks the same layers in both libraries."""

    _version = 2  # PyTorch's: version 2 added num_batches_tracked (see _load_from_state_dict)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        n = size_int(num_features)  # a NumPy int or an integer tensor is accepted, as in PyTorch
        if n is None or n <= 0:  # a float: PyTorch's TypeError (its parameters' size), a ValueError too
            error = SizeTypeError if n is None else ValueError
            raise error(
                f"{type(self).__name__}: expected a positive num_features (an int), got {num_features!r}"
            )
        self.num_features = num_features = n
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _register_affine(self, num_features, affine, bias, dtype)
        dt = dtype if dtype is not None else dtypes.get_default_dtype()
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dt))
            self.register_buffer("running_var", ones(num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", zeros((), dtype=dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def _load_from_state_dict(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        # As PyTorch: a checkpoint from before version 2 may lack num_batches_tracked; keep ours (a
        # meta one, holding no value, becomes 0). A version-2 checkpoint without it is missing a key.
        key, nbt = prefix + "num_batches_tracked", self.num_batches_tracked
        version = local_metadata.get("version")
        if (version is None or version < 2) and self.track_running_stats and key not in state_dict:
            state_dict[key] = nbt if nbt is not None and nbt.device.type != "meta" else tensor(0)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002 - PyTorch's name
        """PyTorch's hook that ``forward`` calls to check the input's rank; each norm layer defines it,
        and a library's own ``_BatchNorm`` subclass defines its own (spikingjelly's tdBN takes the
        flattened ``(T * N, C)``). Here, as in PyTorch, a subclass that defines none cannot run."""
        raise NotImplementedError(f"{type(self).__name__}: _check_input_dim(input) is not defined")


class _BatchNorm(_NormBase):
    """Shared code of the batch norms: per-channel statistics over every dim but dim 1."""

    _dims: tuple[int, ...] = ()  # the ranks ``_check_input_dim`` accepts (none: the subclass checks)
    _layout = "(N, {C}, *)"

    def _expected(self, shape: tuple, channels: int | None = None) -> str:
        c = self.num_features if channels is None else channels
        return f"{self!r}: expected input {self._layout.format(C=c)}, got {tuple(shape)}"

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002 - PyTorch's name
        if not self._dims:  # a library's own subclass of _BatchNorm defines this hook
            super()._check_input_dim(input)
        if input.ndim not in self._dims:
            raise ShapeError(self._expected(input.shape))

    def _check_input(self, shape: tuple) -> None:
        # the channels the statistics or the affine parameters hold, as PyTorch's F.batch_norm
        # checks them (a pruned layer with num_features left as built runs; with neither, any)
        own = (
            self._buffers.get("running_mean"),
            self._parameters.get("weight"),
            self._parameters.get("bias"),
        )
        held = (t for t in own if isinstance(t, Tensor) and t.ndim == 1)
        c = next((t.shape[0] for t in held), None)
        if len(shape) < 2 or (c is not None and shape[1] != c):
            raise ShapeError(self._expected(shape, c))
        if self.training and shape[0] * math.prod(shape[2:]) == 1:
            raise ValueError(
                f"{self!r}: expected more than 1 value per channel when training, got input {tuple(shape)}"
            )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        self._check_input_dim(input)  # the rank, by the layer's hook (a subclass may define its own)
        self._check_input(input.shape)
        # momentum None = cumulative moving average: factor 1/n for the n-th batch (PyTorch's rule)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1  # a counter, outside the graph
            self.num_batches_tracked._version += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        # eval mode uses the running statistics, unless there are none to use
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over ``(N, C)`` or ``(N, C, L)``: per channel, statistics over N (and L).

    Training: normalise with the batch mean and biased variance, and update
    ``running = (1 - momentum) * running + momentum * batch`` (the unbiased variance goes into
    ``running_var``); ``momentum=None`` uses the cumulative average. Eval: use the running stats.

    Shape:
        input ``(N, C)`` or ``(N, C, L)``, output the same.

    >>> bn = BatchNorm1d(4)
    >>> bn
    BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> list(bn.state_dict())
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    """

    _dims = (2, 3)
    _layout = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over ``(N, C, H, W)``: per channel, statistics over N, H and W (see BatchNorm1d).

    Shape:
        input ``(N, C, H, W)``, output the same.
    """

    _dims = (4,)
    _layout = "(N, {C}, H, W)"


# ------------------------------------------------------------------ RMSNorm (issue 10)
class RMSNorm(Module):
    """Scale by the root mean square over the last ``len(normalized_shape)`` dims, then per element.

    ``y = x / sqrt(mean(x^2) + eps) * weight``: LayerNorm without centring or bias (T5, Llama).

    Args:
        normalized_shape: the trailing shape to normalise over (an int means ``(int,)``).
        eps: added to the mean square; None means the input dtype's machine epsilon (as PyTorch).
        elementwise_affine: learn ``weight`` (ones) of ``normalized_shape``.

    Shape:
        input ``(*, *normalized_shape)``, output the same.

    >>> RMSNorm(4)
    RMSNorm((4,), eps=None, elementwise_affine=True)
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            dt = dtype if dtype is not None else dtypes.get_default_dtype()
            self.weight = Parameter(ones(self.normalized_shape, dtype=dt))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Normalise groups of channels within each sample, then scale and shift per channel.

    The C channels are split into ``num_groups`` groups of C / num_groups; each group of each sample
    is normalised with its own mean and biased variance (over its channels and all positions), so
    the result does not depend on the batch size. ``weight`` (ones) and ``bias`` (zeros) have
    shape (C,) when ``affine``.

    Shape:
        input ``(N, C, *)``, output the same.

    >>> GroupNorm(2, 4)
    GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: expected num_channels divisible by num_groups, got {num_channels} and {num_groups}"
            )
        # as PyTorch's: num_groups as given (F.group_norm refuses a float), num_channels a size (int)
        self.num_groups = num_groups
        self.num_channels = layer_sizes("GroupNorm", num_channels=num_channels)[0]
        self.eps = eps
        self.affine = affine
        _register_affine(self, self.num_channels, affine, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        if checkable(input) and (input.ndim < 2 or input.shape[1] != self.num_channels):
            raise ShapeError(
                f"{self!r}: expected input (N, {self.num_channels}, *), got {tuple(input.shape)}"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class LocalResponseNorm(Module):
    """Divide each value by ``(k + alpha / size * sum of squares over size neighbouring channels) ** beta``.

    No parameters (see ``F.local_response_norm``).

    Shape:
        input ``(N, C, *)`` with at least one spatial dim, output the same.

    >>> LocalResponseNorm(5)
    LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=1.0)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        # as given, as PyTorch's (repr 2.0): F.local_response_norm refuses a float or a size <= 0
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
