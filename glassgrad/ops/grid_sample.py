"""The ``grid_sample`` primitive: read an image at arbitrary (normalised) points, bilinearly or at
the nearest pixel, differentiable in the image and in the points (PyTorch's rules, 4-D input).

A grid point ``(x, y)`` in ``[-1, 1]`` maps to a pixel coordinate ``ix = ((x + 1) W - 1) / 2``
(``(x + 1) (W - 1) / 2`` with ``align_corners``); ``padding_mode`` then clips it to the image
("border") or folds it back in ("reflection"), or leaves it ("zeros": pixels outside read 0).
Bilinear reads the four neighbours ``(floor(ix) + {0, 1}, floor(iy) + {0, 1})`` with weights
``(1 - |ix - x_k|) (1 - |iy - y_k|)``. Each corner is one gather over the whole batch; the loop is
over the four corners only.

VJP: the image gradient scatter-adds ``g * weight_k`` into each corner (one ``bincount``); the
grid gradient is ``sum_c g * d(out)/d(ix)``, with ``d(out)/d(ix) = sum_k value_k * d(weight_k)/d(ix)``,
times ``d(ix)/d(x)`` (the unnormalising scale, and the clip/fold's 0 or +-1). Nearest sampling
gives the grid no gradient, as in PyTorch. Backward is first-order only.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly

__all__ = ["GridSample", "source_coordinates"]


def _clip(xp: Any, c: Any, size: int) -> tuple[Any, Any]:
    """Clamp to ``[0, size - 1]``; the slope is 1 strictly inside, else 0 (PyTorch's convention)."""
    return xp.clip(c, 0, size - 1), ((c > 0) & (c < size - 1)).astype(c.dtype)


def _reflect(xp: Any, c: Any, twice_low: int, twice_high: int) -> tuple[Any, Any]:
    """Fold ``c`` into ``[low, high]`` by reflecting at the ends; slope +-1."""
    if twice_low == twice_high:
        return xp.zeros_like(c), xp.zeros_like(c)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    c = c - low
    sign = xp.where(c < 0, -1.0, 1.0).astype(c.dtype)
    c = xp.abs(c)
    extra, flips = xp.fmod(c, span), xp.floor(c / span)
    even = flips % 2 == 0
    return xp.where(even, extra + low, span - extra + low), xp.where(even, sign, -sign)


def source_coordinates(coord: Any, size: int, padding_mode: str, align_corners: bool) -> tuple[Any, Any]:
    """``(pixel coordinate, d pixel / d coord)`` of normalised grid coordinates along one axis."""
    xp = array_module(coord)
    if align_corners:
        c, slope = (coord + 1) / 2 * (size - 1), (size - 1) / 2
    else:
        c, slope = ((coord + 1) * size - 1) / 2, size / 2
    slope = xp.full(c.shape, slope, dtype=c.dtype)
    if padding_mode == "border":
        c, s = _clip(xp, c, size)
        slope = slope * s
    elif padding_mode == "reflection":
        c, s1 = _reflect(xp, c, 0, 2 * (size - 1)) if align_corners else _reflect(xp, c, -1, 2 * size - 1)
        c, s2 = _clip(xp, c, size)
        slope = slope * s1 * s2
    return c, slope


def _corners(ix: Any, iy: Any, h: int, w: int, mode: str) -> list[tuple[Any, Any, Any, Any, Any]]:
    """Per corner: ``(flat pixel index, in-bounds mask, weight, d weight/d ix, d weight/d iy)``."""
    xp = array_module(ix)
    if mode == "nearest":
        x, y = xp.rint(ix), xp.rint(iy)  # round half to even, as PyTorch's nearbyint
        ones = xp.ones_like(ix)
        pts = [(x, y, ones, None, None)]
    else:
        x0, y0 = xp.floor(ix), xp.floor(iy)
        fx, fy = ix - x0, iy - y0  # distances from the top-left corner
        pts = [
            (x0, y0, (1 - fx) * (1 - fy), -(1 - fy), -(1 - fx)),
            (x0 + 1, y0, fx * (1 - fy), 1 - fy, -fx),
            (x0, y0 + 1, (1 - fx) * fy, -fy, 1 - fx),
            (x0 + 1, y0 + 1, fx * fy, fy, fx),
        ]
    out = []
    for x, y, wgt, dwx, dwy in pts:
        ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        flat = xp.where(ok, y * w + x, 0).astype(xp.int64)
        out.append((flat, ok, wgt, dwx, dwy))  # wgt is NaN at a NaN or infinite coordinate
    return out


def _forward(ctx, x, grid, mode, padding_mode, align_corners):
    """GridSample's forward (see the class), run with floating-point warnings off."""
    xp = array_module(x)
    n, c, h, w = x.shape
    _, ho, wo, _ = grid.shape
    ix, sx = source_coordinates(grid[..., 0].reshape(n, 1, ho * wo), w, padding_mode, align_corners)
    iy, sy = source_coordinates(grid[..., 1].reshape(n, 1, ho * wo), h, padding_mode, align_corners)
    flat_x = x.reshape(n, c, h * w)
    corners = _corners(ix, iy, h, w, mode)
    out = xp.zeros((n, c, ho * wo), dtype=x.dtype)
    for flat, ok, wgt, _, _ in corners:
        out += xp.take_along_axis(flat_x, flat, axis=2) * (wgt * ok)  # (N, C, L) * (N, 1, L)
    ctx.save_for_backward(x, ix, iy, sx, sy)
    return out.reshape(n, c, ho, wo)


def _backward(ctx, g):
    """GridSample's VJP (see the module docstring), run with floating-point warnings off."""
    x, ix, iy, sx, sy = ctx.saved
    a = ctx.attrs
    xp = array_module(g)
    n, c, h, w = x.shape
    gf = g.reshape(n, c, ix.shape[-1])  # (N, C, L)
    corners = _corners(ix, iy, h, w, a["mode"])
    dx = dgrid = None
    if ctx.needs_input_grad[0]:
        base = (xp.arange(n * c) * (h * w)).reshape(n, c, 1)  # (N, C, 1): each plane's offset
        index = xp.concatenate([(base + flat).reshape(-1) for flat, *_ in corners])
        # a corner outside the image sends nothing (not NaN * 0, into the stand-in pixel 0)
        weights = xp.concatenate([xp.where(ok, gf * wgt, 0).reshape(-1) for _, ok, wgt, _, _ in corners])
        dx = xp.bincount(index, weights=weights, minlength=n * c * h * w).astype(g.dtype).reshape(x.shape)
    if ctx.needs_input_grad[1]:
        gx = xp.zeros(ix.shape, dtype=g.dtype)  # (N, 1, L)
        gy = xp.zeros(ix.shape, dtype=g.dtype)
        if a["mode"] == "bilinear":
            flat_x = x.reshape(n, c, h * w)
            for flat, ok, _, dwx, dwy in corners:
                # sum over channels of g * value at this corner (0 outside the image)
                gv = (xp.take_along_axis(flat_x, flat, axis=2) * gf).sum(axis=1, keepdims=True) * ok
                gx += gv * dwx
                gy += gv * dwy
        ho, wo = ctx.shapes[1][1:3]
        dgrid = xp.stack([(gx * sx).reshape(n, ho, wo), (gy * sy).reshape(n, ho, wo)], axis=-1)
    return dx, dgrid


class GridSample(Function):
    """out[n, c, i, j] = sum_k weight_k(grid[n, i, j]) * x[n, c, corner_k] (see the module docstring).

    Shape:
        x ``(N, C, H, W)``, grid ``(N, Ho, Wo, 2)`` (last axis ``(x, y)``) -> ``(N, C, Ho, Wo)``.
    """

    name = "grid_sample"

    @staticmethod
    def forward(ctx, x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        # quietly: an infinite or NaN grid point gives NaN, as in PyTorch, without NumPy's warning
        return quietly(_forward, ctx, x, grid, mode, padding_mode, align_corners)

    @staticmethod
    def backward(ctx, g):
        return quietly(_backward, ctx, g)
