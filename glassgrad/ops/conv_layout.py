"""The convolutions' layout moves: the batch last (the columns' layout, ``(C, *S, N)``, where
every strided slice runs over contiguous stretches of ``N`` or ``Wo * N`` values) and back.

Shared by ``ops/conv.py`` and ``ops/conv3d.py``.
"""

from __future__ import annotations

from typing import Any

from glassgrad.backend import array_module

__all__ = ["padded_batch_last", "batch_first_nd", "batch_last_nd"]


def padded_batch_last(x: Any, padding: tuple) -> Any:
    """``(N, C, H, W) -> (C, H + pt + pb, W + pl + pr, N)``, zero-padded, in one copy;
    ``padding`` is ``((pt, pb), (pl, pr))``."""
    (pt, pb), (pl, pr) = padding
    n, c, h, w = x.shape
    xt = array_module(x).zeros((c, h + pt + pb, w + pl + pr, n), dtype=x.dtype)
    # written through a (N, C, H, W) view of the interior: NumPy copies faster reading contiguously
    xt[:, pt : pt + h, pl : pl + w, :].transpose(3, 0, 1, 2)[...] = x
    return xt


def batch_first_nd(y: Any, bias: Any = None) -> Any:
    """``(C, *S, N) -> (N, C, *S)`` contiguous, adding ``bias`` per channel in the same pass.

    The result is written through its own ``(C, *S, N)`` view: NumPy transposes about twice as
    fast reading contiguously and writing strided as the other way round."""
    xp = array_module(y)
    shape = y.shape
    out = xp.empty((shape[-1], *shape[:-1]), dtype=y.dtype)
    dst = out.transpose(*range(1, y.ndim), 0)
    if bias is None:
        dst[...] = y
    else:
        xp.add(y, bias.reshape(shape[0], *(1,) * (y.ndim - 1)), out=dst)
    return out


def batch_last_nd(g: Any) -> Any:
    """``(N, C, *S) -> (C, *S, N)`` contiguous (the columns' layout), written as ``batch_first_nd``."""
    shape = g.shape
    out = array_module(g).empty((*shape[1:], shape[0]), dtype=g.dtype)
    out.transpose(g.ndim - 1, *range(g.ndim - 1))[...] = g
    return out
