"""``InstanceNorm1d``/``2d``/``3d``: per-sample, per-channel normalisation over the spatial positions,
with PyTorch's defaults (``affine=False``, ``track_running_stats=False``) and state-dict keys."""

from __future__ import annotations

import warnings

import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError
from glassgrad.nn.normalization import _NormBase
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_NormBase):
    """Shared code: the parameters and buffers are batch norm's (``_NormBase``); only forward differs.

    Training (or no running statistics): each (sample, channel) is normalised with its own mean and
    biased variance over the spatial positions; tracked running statistics move towards the
    batch average of those statistics. Eval with tracked statistics: the running statistics are
    used, as in batch norm. As PyTorch, ``momentum=None`` means the running statistics never move
    (PyTorch passes 0 for it), and ``num_batches_tracked`` is kept but not counted.
    """

    _spatial = 1

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002 - PyTorch's name (a subclass may define its own)
        k = self._spatial
        if input.ndim not in (k + 1, k + 2):
            raise ShapeError(
                f"{self!r}: expected input of {k + 2} dims (N, C, *S) or {k + 1} dims (C, *S), got "
                f"{tuple(input.shape)}"
            )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        self._check_input_dim(input)
        k = self._spatial
        channels = input.shape[input.ndim - k - 1]
        if channels != self.num_features:
            dim = input.ndim - k - 1  # then PyTorch's words: code ported from it may match them
            if self.affine or self.track_running_stats:
                raise ShapeError(
                    f"{self!r}: expected {self.num_features} channels at dim {dim}, got input "
                    f"{tuple(input.shape)}: expected input's size at dim={dim} to match num_features "
                    f"({self.num_features}), but got: {channels}."
                )
            warnings.warn(
                f"{self!r}: num_features does not match the input's channels {channels}: input's size "
                f"at dim={dim} does not match num_features. You can silence this warning by not "
                "passing in num_features, which is not used because affine=False",
                stacklevel=user_stacklevel(),
            )
        x = input.unsqueeze(0) if input.ndim == k + 1 else input  # unbatched (C, *S) -> (1, C, *S)
        out = F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return out.squeeze(0) if input.ndim == k + 1 else out  # (1, C, *S) -> (C, *S)


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over ``(N, C, L)`` (or unbatched ``(C, L)``): statistics over L per sample and channel.

    Shape:
        input ``(N, C, L)`` or ``(C, L)``, output the same.

    >>> InstanceNorm1d(3)
    InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
    """

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over ``(N, C, H, W)`` (or ``(C, H, W)``): statistics over H, W per sample and channel.

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``, output the same.
    """

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance norm over ``(N, C, D, H, W)`` (or ``(C, D, H, W)``).

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``, output the same.
    """

    _spatial = 3
