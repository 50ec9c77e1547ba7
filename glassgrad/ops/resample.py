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

import numpy as np

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
    targets = index[starts]
    lengths = xp.diff(xp.concatenate((starts, [index.shape[0]])))
    if axis == 0 and g.__class__ is np.ndarray and lengths.max() <= _RUN_LOOP_MAX:
        # short runs (a resize's 1 to 4): the k-th entries of all runs added at once, k = 0, 1, ...
        # the same sums in the same order as reduceat, 4x faster than it along a first axis
        out[targets] = g[starts]
        for k in range(1, int(lengths.max())):
            longer = lengths > k
            out[targets[longer]] += g[starts[longer] + k]
        return
    key = (slice(None),) * axis + (targets,)
    out[key] = xp.add.reduceat(g, starts, axis=axis)  # the targets are distinct: plain assignment


_RUN_LOOP_MAX = 8  # longest run summed by ``add_sorted_segments``' loop (longer: one reduceat)


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
        xp = array_module(g)
        # the sums run with the axis moved first: reduceat along a later axis loops over every
        # row's short runs (30 ms along W of a (16, 32, 50, 50) gradient), along the first it adds
        # whole rows (3 ms), in the same order; one copy in, one out
        gt = xp.ascontiguousarray(xp.moveaxis(g, axis, 0)) if axis else g
        if w is None:
            dt = _segment_scatter(gt, lo, 0, n)
        else:
            w = w.reshape((-1,) + (1,) * (g.ndim - 1))
            dt = _segment_scatter(gt * (1 - w), lo, 0, n) + _segment_scatter(gt * w, hi, 0, n)
        return xp.ascontiguousarray(xp.moveaxis(dt, 0, axis)) if axis else dt


def resample(x: Tensor, axis: int, lo: Any, hi: Any = None, w: Any = None) -> Tensor:
    """Resample ``x`` along ``axis`` (no validation; see ``F.interpolate``).

    Shape:
        x ``(*A, n_in, *B)``, lo/hi/w ``(n_out,)`` -> ``(*A, n_out, *B)``.
    """
    return Resample.apply(x, lo=lo, hi=hi, w=w, axis=axis)
