"""PyTorch's deprecated resize names, kept because old tutorials call them: ``upsample``,
``upsample_nearest`` and ``upsample_bilinear`` warn as PyTorch's do and call ``interpolate``
(``upsample_bilinear`` with ``align_corners=True``, as PyTorch's)."""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.nn.functional.image import interpolate
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["upsample", "upsample_bilinear", "upsample_nearest"]


def _deprecated(name: str) -> None:
    # PyTorch's text (a UserWarning, so it shows by default)
    # at the user's line: a fixed stacklevel named the generated operand-check wrapper's frame
    warnings.warn(
        f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=user_stacklevel(),
    )


def upsample(
    input: Tensor,  # noqa: A002 - PyTorch's names
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """``interpolate`` under its old name. Shape: input (N, C, *S) -> (N, C, *S_out)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """``interpolate(mode="nearest")`` under its old name. Shape: (N, C, *S) -> (N, C, *S_out)."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """``interpolate(mode="bilinear", align_corners=True)`` under its old name.
    Shape: (N, C, H, W) -> (N, C, H_out, W_out)."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
