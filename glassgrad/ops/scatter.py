"""``scatter`` (write values at indices along a dim) and ``masked_select``, PyTorch's remaining
indexing ops. ``scatter`` is a primitive; ``masked_select`` is an advanced ``getitem``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import Function
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops.indexing import GetItem, _check_gather_index, _grid_key, masked_fill, normalize_dim
from glassgrad.tensor import Tensor

__all__ = ["scatter", "masked_select", "index_fill"]


class Scatter(Function):
    """z = x, then z[i, index[i, j, k], k] = src[i, j, k] (dim=1) for every position of index.

    VJP: (g with the written positions zeroed, None, g read back at those positions).
    With repeated indices the value written is one of the candidates (unspecified, as PyTorch).
    """

    @staticmethod
    def forward(ctx, a, index, src, dim=0):
        key = _grid_key(index, dim)
        box = tuple(slice(0, n) for n in index.shape)
        out = a.copy()
        out[key] = src[box] if getattr(src, "ndim", 0) else src
        ctx.save_for_backward(key)
        ctx.attrs["box"] = box
        return out

    @staticmethod
    def backward(ctx, g):
        (key,) = ctx.saved
        ga = gsrc = None
        if ctx.needs_input_grad[0]:
            ga = g.copy()
            ga[key] = 0
        if ctx.needs_input_grad[2]:
            gsrc = array_module(g).zeros(ctx.shapes[2], dtype=g.dtype)
            gsrc[ctx.attrs["box"]] = g[key]
        return ga, None, gsrc


def scatter(
    x: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: Any = None
) -> Tensor:
    """``x`` with ``src`` (a tensor, or the number ``value``) written at ``index`` along ``dim``:
    ``out[i][index[i][j][k]][k] = src[i][j][k]`` for dim=1 (out-of-place ``scatter_``).

    Shape:
        index has x's number of dims, sizes <= src's, and <= x's except along ``dim``.
    """
    if reduce is not None:
        raise ValueError(f"scatter: reduce={reduce!r} is not supported; use scatter_add for 'add'")
    if src is None:
        src = value
    if src is None:
        raise ValueError("scatter: expected src (a tensor) or value (a number)")
    idx, d = _check_gather_index("scatter", x, dim, index)
    if isinstance(src, Tensor):
        if src._data.ndim != idx.ndim or any(i > s for i, s in zip(idx.shape, src._data.shape)):
            raise ShapeError(
                f"scatter: expected index sizes <= src sizes, got index {idx.shape} and src {src.shape}"
            )
        if src._data.dtype != x._data.dtype:
            raise DTypeError(f"scatter: expected src of dtype {x.dtype}, got {src.dtype}")
        return Scatter.apply(x, idx, src, dim=d)
    return Scatter.apply(x, idx, np.asarray(src, dtype=x._data.dtype), dim=d)


def masked_select(x: Tensor, mask: Any) -> Tensor:
    """The entries of ``x`` where the bool ``mask`` (broadcast with x) is True, as a 1-D tensor.

    Shape:
        x and mask broadcast to a common shape S; the result is ``(number of True in mask,)``.
    """
    # a copy of the mask (a tensor's or an array's): backward reads it, and an in-place change must not move it
    m = np.array(mask._data if isinstance(mask, Tensor) else mask)
    if m.dtype != np.bool_:
        raise DTypeError(f"masked_select: expected a bool mask, got {m.dtype}")
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise ShapeError(
            f"masked_select: expected a mask broadcastable with {x.shape}, got {m.shape}"
        ) from None
    if tuple(shape) != tuple(x.shape):
        x = x.expand(*shape)
    return GetItem.apply(x, key=(array_module(m).broadcast_to(m, shape),), advanced=True)


def index_fill(x: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """``x`` with the slices at ``index`` along ``dim`` set to ``value`` (out-of-place ``index_fill_``)."""
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    d = normalize_dim(dim, x.ndim, "index_fill", x.shape)
    sel = np.zeros(x.shape[d], dtype=bool)
    sel[idx.reshape(-1)] = True
    shape = [1] * x.ndim
    shape[d] = x.shape[d]
    return masked_fill(x, Tensor(sel.reshape(shape), _wrap=True), value)  # (n,) -> (1, .., n, .., 1)
