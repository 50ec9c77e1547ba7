"""``torch.histogramdd``: counts of D-dimensional points in a grid of bins, with the rules of
``torch.histogram`` (``ops/histogram.py``) applied along each of the D axes.

``histogramdd(input, bins, *, range=None, weight=None, density=False)``: ``input`` holds points
along its last dim (``(..., D)``, D >= 1); ``bins`` is one count for every axis, D counts, or D
1-D tensors of edges; ``range`` is ``[min_0, max_0, ..., min_{D-1}, max_{D-1}]`` (default: each
axis's min and max, widened by 0.5 each side when equal). Along each axis a value lands in
``[e_i, e_{i+1})`` (the last bin also holds its right edge); a point outside any axis's edges is
not counted. Not differentiable (counts are piecewise constant).

Example:
    >>> import glassgrad as gg
    >>> hist, edges = gg.histogramdd(gg.tensor([[0.0, 1.0], [1.0, 1.0], [2.0, 3.0]]), bins=[2, 1])
    >>> hist.tolist(), [e.tolist() for e in edges]
    ([[1.0], [2.0]], [[0.0, 1.0, 2.0], [1.0, 3.0]])
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.ops.carried import underived
from glassgrad.ops.histogram import _add_at, _float_input, _int_arg, _linspace, _outer_edges
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor

__all__ = ["HistogramDD", "histogramdd"]

#: ``hist, bin_edges = torch.histogramdd(...)``: bin_edges is a tuple of D tensors.
HistogramDD = return_type("histogramdd", ["hist", "bin_edges"])


def _axis_edges(op: str, data: Any, bins: Any, range: Any) -> list[Any]:  # noqa: A002
    """One array of edges per axis of the points ``data`` (N, D)."""
    xp = array_module(data)
    d = data.shape[1]
    if isinstance(bins, (list, tuple)) and bins and all(isinstance(b, Tensor) for b in bins):
        if len(bins) != d:
            raise ShapeError(
                f"{op}: expected {d} tensors of edges (one per axis of the points), got {len(bins)}"
            )
        if range is not None:
            raise TypeError(f"{op}(): expected range only with bins as numbers, got bins as tensors")
        edges = []
        for i, b in enumerate(bins):
            e = b._data
            if e.ndim != 1 or e.shape[0] < 2 or e.dtype != data.dtype:
                raise ShapeError(
                    f"{op}: expected the edges of axis {i} as a 1-D tensor of {data.dtype} with at "
                    f"least two edges, got shape {tuple(e.shape)} of {e.dtype}"
                )
            edges.append(e)
        return edges
    counts = [_int_arg(op, "bins", b) for b in bins] if isinstance(bins, (list, tuple)) else None
    if counts is None:
        counts = [_int_arg(op, "bins", bins)] * d
    if len(counts) != d:
        raise ShapeError(f"{op}: expected {d} bin counts (one per axis of the points), got {len(counts)}")
    if counts and builtins.min(counts) < 1:
        raise ShapeError(f"{op}: expected every bin count >= 1, got {list(counts)}")
    if range is not None:
        range = [float(v) for v in range]  # noqa: A001
        if len(range) != 2 * d:
            raise ShapeError(
                f"{op}: expected range as {2 * d} numbers (min and max of each of {d} axes), got {len(range)}"
            )
    edges = []
    for i, n in enumerate(counts):
        col = data[:, i]
        given = None if range is None else range[2 * i : 2 * i + 2]
        if given is None and not col.size:
            given = (0.0, 1.0)  # no points: PyTorch's [0, 1]
        edges.append(
            xp.asarray(_linspace(*_outer_edges(col, given, 0.5, f"{op} (axis {i})"), n + 1, data.dtype))
        )
    return edges


def histogramdd(
    input: Tensor,  # noqa: A002 - PyTorch's name
    bins: Any,
    *,
    range: Any = None,  # noqa: A002
    weight: Tensor | None = None,
    density: bool = False,
) -> HistogramDD:
    """Counts (or summed ``weight``) of the points of ``input`` in a D-dimensional grid of bins.

    Shape:
        input: ``(..., D)`` floating point (float32 or float64); weight: ``input.shape[:-1]``;
        returns hist ``(bins_0, ..., bins_{D-1})`` and a tuple of D edge tensors ``(bins_i + 1,)``,
        all of ``input``'s dtype.
    """
    data = _float_input("histogramdd", input)
    if data.ndim < 2:
        raise ShapeError(
            f"histogramdd: expected input of at least 2 dims (..., D), got shape {tuple(data.shape)}"
        )
    xp = array_module(data)
    points = data.reshape(math.prod(data.shape[:-1]), data.shape[-1])  # (N, D); D may be 0
    edges = _axis_edges("histogramdd", points, bins, range)
    counts = tuple(e.shape[0] - 1 for e in edges)
    # (N,) NaN and outside values are not counted; points of no coordinates (D = 0) fall in no bin,
    # as PyTorch's (its 0-d hist is 0, NaN with density)
    inside = xp.full(points.shape[0], bool(counts))
    for i, e in enumerate(edges):
        inside &= (points[:, i] >= e[0]) & (points[:, i] <= e[-1])
    kept = points[inside]  # (M, D)
    pos = [
        xp.minimum(xp.searchsorted(e, kept[:, i], side="right") - 1, counts[i] - 1)
        for i, e in enumerate(edges)
    ]  # D arrays (M,): a value on the last edge goes in the last bin
    flat = xp.ravel_multi_index(pos, counts) if kept.shape[0] else xp.zeros(0, np.int64)
    total = math.prod(counts)
    if weight is None:
        hist = xp.bincount(flat, minlength=total).astype(data.dtype)
    else:
        if (
            not isinstance(weight, Tensor)
            or tuple(weight.shape) != data.shape[:-1]
            or weight.dtype != input.dtype
        ):
            raise ShapeError(
                f"histogramdd: expected weight of shape {tuple(data.shape[:-1])} and dtype {input.dtype}, "
                f"got {type(weight).__name__} of shape {tuple(getattr(weight, 'shape', ()))} and dtype "
                f"{getattr(weight, 'dtype', None)}"
            )
        hist = _add_at(xp.zeros(total, data.dtype), flat, weight._data.reshape(-1)[inside])
    hist = hist.reshape(counts)
    if density:
        with np.errstate(invalid="ignore", divide="ignore"):  # no points: nan, as PyTorch
            hist = hist / hist.sum()
            for i, e in enumerate(edges):  # one axis's bin widths at a time, as PyTorch rounds
                shape = [1] * len(counts)
                shape[i] = counts[i]
                hist = hist / xp.diff(e).reshape(shape)
    op = "aten::_histogramdd_from_bin_cts"  # PyTorch records the outputs with a derivative that raises
    return HistogramDD(
        underived(xp.asarray(hist, dtype=data.dtype), input, weight, op=op),
        tuple(underived(xp.asarray(e, dtype=data.dtype), input, weight, op=op) for e in edges),
    )
