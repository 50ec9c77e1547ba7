# ruff: noqa: A001 - PyTorch's parameter name `input`, rebound to the flattened input
"""``repeat_interleave``: each entry (or slice along a dim) repeated in place, [a, b] -> [a, a, b, b].

A composite: the repeats become an index (``numpy.repeat`` of an arange) and ``index_select`` does
the rest, so the gradient (the repeated slices' gradients summed back) comes from its backward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import ShapeError, kernel_dtype_error
from glassgrad.meta_array import on_device_of
from glassgrad.ops.index_keys import INT32_64
from glassgrad.ops.indexing import index_select, normalize_dim
from glassgrad.tensor import Tensor

__all__ = ["repeat_interleave"]


def repeat_interleave(
    input: Tensor,  # noqa: A002
    repeats: Any = None,
    dim: int | None = None,
    *,
    output_size: int | None = None,
) -> Tensor:
    """Each entry (or slice along ``dim``) repeated ``repeats`` times in place: [a, b] -> [a, a, b, b].

    ``repeats`` is one count or one count per slice along ``dim``; without ``dim`` the input is
    flattened first. ``torch.repeat_interleave(repeats)`` (a 1-D integer tensor alone) gives index
    i repeated ``repeats[i]`` times, in the repeats' dtype. ``output_size``, the result's length
    along ``dim``, must equal the repeats' total (it lets meta repeats give a meta result).

    Shape:
        input (..., n, ...) along ``dim``; repeats () or (n,); returns (..., sum(repeats), ...).
    """
    if repeats is None:  # the one-argument form: the counts are the input
        repeats = input
        if not isinstance(repeats, Tensor) or repeats.ndim != 1:
            shape = repeats.shape if isinstance(repeats, Tensor) else type(repeats).__name__
            raise ShapeError(f"repeat_interleave: expected a 1-D tensor of repeats, got {shape}")
        if repeats._data.dtype.name not in INT32_64:  # PyTorch's kernel: int16, uint8, bool ... refused
            raise _repeats_error(repeats._data.dtype)
        input = Tensor(
            on_device_of(
                repeats._data, array_module(repeats._data).arange(repeats.shape[0], dtype=repeats._data.dtype)
            ),
            _wrap=True,
        )
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = normalize_dim(dim, input.ndim, "repeat_interleave", input.shape)
    if isinstance(repeats, Tensor) and repeats.is_meta:  # the result's length is the repeats' sum
        if output_size is None:
            raise RuntimeError(
                "repeat_interleave: cannot repeat_interleave a meta tensor without output_size"
            )
        idx = on_device_of(
            repeats._data, array_module(input._data).zeros(output_size, dtype=np.int64)
        )  # no values: a meta index
        return index_select(input, d, Tensor(idx, _wrap=True))
    xp = array_module(input._data)
    reps = xp.asarray(repeats._data if isinstance(repeats, Tensor) else repeats)
    if reps.ndim > 1 or (reps.ndim == 1 and reps.size not in (1, input.shape[d])):
        raise ShapeError(
            f"repeat_interleave: expected repeats of one value or {input.shape[d]} values (the size of dim "
            f"{dim} of shape {input.shape}), got shape {reps.shape}"
        )
    if reps.dtype.kind not in "iu" or (isinstance(repeats, Tensor) and reps.dtype.name not in INT32_64):
        raise _repeats_error(reps.dtype)
    if reps.size and reps.min() < 0:  # PyTorch: RuntimeError "repeats can not be negative"
        raise RuntimeError(f"repeat_interleave: expected non-negative repeats, got {reps.tolist()}")
    idx = xp.repeat(xp.arange(input.shape[d]), reps)
    if output_size is not None and output_size != idx.size:
        raise RuntimeError(
            f"repeat_interleave: expected output_size equal to the repeats' total {idx.size}, got {output_size}"
        )
    return index_select(input, d, Tensor(idx, _wrap=True))


def _repeats_error(dtype: Any) -> Exception:
    """PyTorch's NotImplementedError for repeats its kernel has no code for: int16, uint8, bool and
    floats (int16 and uint8 ones were repeated silently)."""
    e = kernel_dtype_error("repeat_interleave", "repeat_interleave_cpu", dtype)
    return type(e)(f"{e}; expected integer repeats (int64 or int32), got {dtype}")
