"""Resampling along one axis: the primitive behind ``F.interpolate``.

Nearest and linear interpolation read, for each output position ``i`` along an axis, the source
positions ``lo[i]`` and ``hi[i]`` and blend them with weight ``w[i]`` (0 for nearest). Both index
lists are non-decreasing (a resize keeps the order of positions), so the backward, which must add
each output's gradient back into the positions it read, is a segment sum: ``add.reduceat`` over the
runs of equal indices, written into the distinct indices, instead of a slow unbuffered ``add.at``.
Backward is first-order only.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.tensor import Tensor

__all__ = ["Resample", "resample", "add_sorted_segments"]


def add_sorted_segments(out: Any, index: Any, g: Any, axis: int = 0) -> None:
    """out[..., index[i], ...] += g[..., i, ...] along ``axis``, for a non-empty, non-decreasing
    ``index`` and an ``out`` that is 0 at the indexed positions: each run of equal indices is
    summed by one ``add.reduceat`` and written once (also ``getitem``'s backward, after a sort)."""
    xp = array_module(g)
    starts = xp.flatnonzero(xp.concatenate(([True], index[1:] != index[:-1])))  # first i of each run
    key = (slice(None),) * axis + (index[starts],)
    out[key] = xp.add.reduceat(g, starts, axis=axis)  # the targets are distinct: plain assignment


def _segment_scatter(g: Any, index: Any, axis: int, n: int) -> Any:
    """out[..., j, ...] = sum of g[..., i, ...] over i with index[i] == j, for a non-decreasing index."""
    out = array_module(g).zeros(g.shape[:axis] + (n,) + g.shape[axis + 1 :], dtype=g.dtype)
    add_sorted_segments(out, index, g, axis)
    return out


class Resample(Function):
    """z[..., i, ...] = (1 - w[i]) * x[..., lo[i], ...] + w[i] * x[..., hi[i], ...] along ``axis``.

    ``lo`` and ``hi`` are non-decreasing int arrays of the output's length along ``axis``; ``w`` is
    None for nearest (z = x[lo]), else an array of weights in [0, 1] of the input's dtype.

    VJP: dx = segment_sum((1 - w) * g at lo) + segment_sum(w * g at hi) along ``axis``, each
    written as PyTorch's kernels do (w0 * x0 + w1 * x1), which decides where an inf gives nan.
    """

    @staticmethod
    def forward(ctx, x, lo=None, hi=None, w=None, axis=0):
        xp = array_module(x)
        near = xp.take(x, lo, axis=axis)
        if w is None:
            return near
        bshape = (-1,) + (1,) * (x.ndim - 1 - axis)  # (n_out,) -> (n_out, 1, ...): broadcasts along axis
        far = xp.take(x, hi, axis=axis)
        # PyTorch's w0 * x0 + w1 * x1, not the lerp x0 + (x1 - x0) * w: between an inf pixel and a
        # finite one that is inf, where the lerp's inf - inf is nan
        w = w.reshape(bshape)
        return near * (1 - w) + far * w

    @staticmethod
    def backward(ctx, g):
        lo, hi, w, axis = (ctx.attrs[k] for k in ("lo", "hi", "w", "axis"))
        n = ctx.shapes[0][axis]
        if w is None:
            return _segment_scatter(g, lo, axis, n)
        bshape = (-1,) + (1,) * (g.ndim - 1 - axis)
        w = w.reshape(bshape)
        return _segment_scatter(g * (1 - w), lo, axis, n) + _segment_scatter(g * w, hi, axis, n)


def resample(x: Tensor, axis: int, lo: Any, hi: Any = None, w: Any = None) -> Tensor:
    """Resample ``x`` along ``axis`` (no validation; see ``F.interpolate``).

    Shape:
        x ``(*A, n_in, *B)``, lo/hi/w ``(n_out,)`` -> ``(*A, n_out, *B)``.
    """
    return Resample.apply(x, lo=lo, hi=hi, w=w, axis=axis)
