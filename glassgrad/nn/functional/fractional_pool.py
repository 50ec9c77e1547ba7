"""Fractional max pooling (Graham, 2014): ``fractional_max_pool2d`` and ``fractional_max_pool3d``.

Each output position takes the maximum over a ``kernel_size`` window, as max pooling, but the
windows' starts advance by a pseudo-random mix of strides ``floor(alpha)`` and ``ceil(alpha)``
with ``alpha = (size - k) / (out - 1)``, so the output size need not divide the input's. One random
sample in [0, 1) per (batch, channel, spatial dim) fixes the starts of that plane:

    start_i = int((i + u) * alpha) - int(u * alpha)   for i < out - 1,   start_{out-1} = size - k

computed in the input's dtype, as PyTorch does (so that float32 samples give PyTorch's windows).
``_random_samples`` ``(N, C, nd)`` passes the samples in (its last axis in PyTorch's order: width,
height in 2-D; time, height, width in 3-D); without it they are drawn from the global generator.

The maximum is chosen as PyTorch's kernel chooses it (the first of equal maxima, the last NaN of
a window with NaNs) on the arrays, then the output is a ``gather`` of the input at those flat
indices, so the gradient is that gather's: each output's gradient added at its index.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from glassgrad.autograd.function import named
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.factories import rand
from glassgrad.nn.functional.conv import _batched, ntuple
from glassgrad.tensor import Tensor

__all__ = [
    "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
]

_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}
# Which sample along the samples' last axis drives each spatial dim (PyTorch's kernels: 2-D reads
# width's first, 3-D reads them in the dims' order)
_SAMPLE_OF = {2: (1, 0), 3: (0, 1, 2)}


def _ratio_size(op: str, nd: int, sizes: tuple[int, ...], output_ratio: Any) -> tuple[int, ...]:
    ratio = (output_ratio,) * nd if isinstance(output_ratio, numbers.Real) else tuple(output_ratio)
    if len(ratio) != nd or not all(isinstance(r, numbers.Real) for r in ratio):
        raise ShapeError(
            f"{op}: expected output_ratio as a number or a tuple of {nd} numbers, got {output_ratio!r}"
        )
    return tuple(int(s * r) for s, r in zip(sizes, ratio))


def _samples(op: str, nd: int, x: Tensor, given: Any) -> Any:
    """The samples' array ``(N, C, nd)``: checked as PyTorch checks them, or drawn."""
    n, c = x.shape[:2]
    if given is None:
        return rand(n, c, nd, dtype=x.dtype)._data
    if not isinstance(given, Tensor):
        raise TypeError(f"{op}: expected _random_samples as a Tensor, got {type(given).__name__}")
    if given.dtype != x.dtype:
        raise DTypeError(f"{op}: expected _random_samples of the input's dtype {x.dtype}, got {given.dtype}")
    shape = tuple(given.shape)
    if len(shape) != 3 or shape[0] < n or shape[1] != c or shape[2] != nd:
        raise ShapeError(
            f"{op}: expected _random_samples of shape (>= {n}, {c}, {nd}) for an input of shape "
            f"{tuple(x.shape)}, got {shape}"
        )
    return given._data[:n]


def _starts(op: str, name: str, u: Any, size: int, out: int, k: int) -> Any:
    """Window starts ``(N, C, out)`` along one dim, from that dim's samples ``u`` ``(N, C)``."""
    xp = array_module(u)
    kind = u.dtype.type
    starts = xp.empty(u.shape + (out,), dtype=xp.int64)
    if out > 1:
        alpha = kind(size - k) / kind(out - 1)  # in the samples' dtype, as PyTorch
        step = xp.arange(out - 1).astype(u.dtype)
        with xp.errstate(invalid="ignore"):  # a NaN sample is refused just below
            hi = xp.trunc((step + u[..., None]) * alpha)
            lo = xp.trunc(u * alpha)[..., None]
        if not (xp.isfinite(hi).all() and xp.isfinite(lo).all()):
            raise ValueError(f"{op}: expected finite _random_samples, got a NaN or an infinity")
        starts[..., :-1] = (hi - lo).astype(xp.int64)
    if out > 0:
        starts[..., -1] = size - k
    if starts.size and (starts.min() < 0 or starts.max() > size - k):
        raise ValueError(
            f"{op}: _random_samples put a {name} window outside the input (expected samples in [0, 1))"
        )
    return starts


def _fractional_max_pool(op, nd, input, kernel_size, output_size, output_ratio, return_indices, samples):  # noqa: A002
    x, unbatched = _batched(op, input, nd)
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating point input, got {x.dtype}")
    kernel = ntuple(kernel_size, nd, op, "kernel_size", 1)
    sizes = tuple(x.shape[2:])
    for d in range(1, nd + 2):
        if x.shape[d] == 0:
            raise ShapeError(
                f"{op}: expected a non-zero size in every dim but the batch, got shape {tuple(input.shape)}"
            )
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        output_size = _ratio_size(op, nd, sizes, output_ratio)
    out = ntuple(output_size, nd, op, "output_size")
    names = _DIM_NAMES[nd]
    # PyTorch's bound: output + pool - 1 <= input in 2-D, < input in 3-D
    slack = 0 if nd == 2 else 1
    for name, k, size, o in zip(names, kernel, sizes, out):
        if o + k - 1 + slack > size:
            relation = "<=" if nd == 2 else "<"
            raise ShapeError(
                f"{op}: pool {name} {k} too large relative to input {name} {size} (output {name} {o} "
                f"needs output + pool - 1 {relation} input)"
            )
    u = _samples(op, nd, x, samples)
    xp = array_module(u)
    n, c = x.shape[:2]
    # The flat index (into one (N, C) plane) of every window element: (N, C, *out, *kernel)
    flat = xp.zeros((n, c) + (1,) * (2 * nd), dtype=xp.int64)
    for d, (name, k, size, o) in enumerate(zip(names, kernel, sizes, out)):
        first = _starts(op, name, u[:, :, _SAMPLE_OF[nd][d]], size, o, k)
        at = [1] * (2 * nd)
        at[d], at[nd + d] = o, k
        pos = first.reshape(n, c, o, 1) + xp.arange(k).reshape(1, 1, 1, k)
        pos = pos.reshape((n, c) + tuple(at))
        flat = flat * size + pos
    places, window = math.prod(out), math.prod(kernel)
    flat = xp.broadcast_to(flat, (n, c) + out + kernel).reshape(n, c, places, window)
    plane = x._data.reshape(n, c, math.prod(sizes))
    vals = xp.take_along_axis(plane, flat.reshape(n, c, places * window), axis=2).reshape(
        n, c, places, window
    )
    nan = xp.isnan(vals)
    pick = xp.argmax(vals, axis=-1)  # the first of equal maxima, NaNs aside
    if nan.any():  # PyTorch's kernel takes a NaN over anything, the last NaN of the window
        last_nan = window - 1 - xp.argmax(nan[..., ::-1], axis=-1)
        first_max = xp.argmax(xp.where(nan, -xp.inf, vals), axis=-1)
        pick = xp.where(nan.any(axis=-1), last_nan, first_max)
    idx = xp.take_along_axis(flat, pick[..., None], axis=-1).reshape(n, c, places)
    where = Tensor(idx, _wrap=True)
    y = x.reshape(n, c, math.prod(sizes)).gather(2, where).reshape(n, c, *out)
    y = named(y, f"FractionalMaxPool{nd}DBackward0")
    indices = where.reshape(n, c, *out)
    if unbatched:
        y, indices = y.squeeze(0), indices.squeeze(0)
    return (y, indices) if return_indices else y


def fractional_max_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """2-D fractional max pooling: the maximum over ``kernel_size`` windows placed at pseudo-random
    fractional strides so that the output is ``output_size`` (or ``int(size * output_ratio)``).

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``, floating point; ``_random_samples`` ``(N, C, 2)``
        of the input's dtype (width's sample first); returns ``(N, C, Ho, Wo)`` and, with
        ``return_indices``, the flat index of each maximum in its ``H * W`` plane (int64), which
        ``max_unpool2d`` takes.

    >>> import glassgrad as gg
    >>> x = gg.arange(16.0).reshape(1, 1, 4, 4)
    >>> fractional_max_pool2d(x, 2, output_size=2, _random_samples=gg.full((1, 1, 2), 0.5)).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _fractional_max_pool(
        "fractional_max_pool2d",
        2,
        input,
        kernel_size,
        output_size,
        output_ratio,
        return_indices,
        _random_samples,
    )


def fractional_max_pool3d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """3-D fractional max pooling (see ``fractional_max_pool2d``).

    Shape:
        input ``(N, C, T, H, W)`` or ``(C, T, H, W)``; ``_random_samples`` ``(N, C, 3)`` (time's
        sample first, then height's, then width's); returns ``(N, C, To, Ho, Wo)`` and, with
        ``return_indices``, flat indices into each ``T * H * W`` volume.
    """
    return _fractional_max_pool(
        "fractional_max_pool3d",
        3,
        input,
        kernel_size,
        output_size,
        output_ratio,
        return_indices,
        _random_samples,
    )


def fractional_max_pool2d_with_indices(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """``fractional_max_pool2d(..., return_indices=True)``: ``(output, indices)``."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """``fractional_max_pool3d(..., return_indices=True)``: ``(output, indices)``."""
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True, _random_samples)
