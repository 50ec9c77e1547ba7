"""The ``grid_sample`` primitive: read an image (4-D) or a volume (5-D) at arbitrary normalised
points, at the nearest pixel, (tri)linearly or bicubically (4-D only), differentiable in the
image and in the points (PyTorch's rules).

A grid point ``(x, y[, z])`` in ``[-1, 1]`` maps to a pixel coordinate ``ix = ((x + 1) W - 1) / 2``
(``(x + 1) (W - 1) / 2`` with ``align_corners``) along each axis. Nearest and linear modes then
apply ``padding_mode`` to that coordinate: clip it to the image ("border"), fold it back in
("reflection"), or leave it ("zeros": taps outside read 0). Linear reads the ``2^d`` neighbours
``floor(i) + {0, 1}`` per axis with weights ``prod (1 - |i - i_k|)``; nearest the rounded point.
Bicubic reads the 4 x 4 neighbours ``floor(i) - 1 .. floor(i) + 2`` with the cubic-convolution
weights (A = -0.75) of the fraction, and applies ``padding_mode`` to each integer tap instead,
as PyTorch does. Each tap is one gather over the whole batch; the loop is over the taps only.

VJP: the image gradient scatter-adds ``g * weight_k`` into each tap (one ``bincount``); the grid
gradient along an axis is ``sum_c g * sum_k value_k * d(weight_k)/d(i)`` times ``d(i)/d(x)`` (the
unnormalising scale, and for linear modes the clip/fold's 0 or +-1). Nearest sampling gives the
grid no gradient, as in PyTorch. Backward is first-order only.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly

__all__ = ["GridSample", "axis_weights", "source_coordinates", "taps"]

_A = -0.75  # the cubic-convolution constant PyTorch's bicubic modes use


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


def _pad(xp: Any, c: Any, size: int, padding_mode: str, align_corners: bool) -> tuple[Any, Any]:
    """``padding_mode`` applied to pixel coordinates: ``(coordinate, its slope)``."""
    if padding_mode == "border":
        return _clip(xp, c, size)
    if padding_mode == "reflection":
        c, s1 = _reflect(xp, c, 0, 2 * (size - 1)) if align_corners else _reflect(xp, c, -1, 2 * size - 1)
        c, s2 = _clip(xp, c, size)
        return c, s1 * s2
    return c, xp.ones_like(c)


def source_coordinates(
    coord: Any, size: int, padding_mode: str, align_corners: bool, pad: bool = True
) -> tuple[Any, Any]:
    """``(pixel coordinate, d pixel / d coord)`` of normalised grid coordinates along one axis
    (``pad=False``: unnormalised only, for bicubic, whose taps are padded one by one)."""
    xp = array_module(coord)
    if align_corners:
        c, slope = (coord + 1) / 2 * (size - 1), (size - 1) / 2
    else:
        c, slope = ((coord + 1) * size - 1) / 2, size / 2
    slope = xp.full(c.shape, slope, dtype=c.dtype)
    if pad:
        c, s = _pad(xp, c, size, padding_mode, align_corners)
        slope = slope * s
    return c, slope


def _cubic(t: Any) -> list[tuple[Any, Any]]:
    """The four cubic-convolution weights of the fraction ``t`` and their derivatives in ``t``."""
    a = _A
    u = [t + 1, t, 1 - t, 2 - t]  # the distances to the taps -1, 0, 1, 2
    outer = [
        (((a * v - 5 * a) * v + 8 * a) * v - 4 * a, (3 * a * v - 10 * a) * v + 8 * a) for v in (u[0], u[3])
    ]
    inner = [(((a + 2) * v - (a + 3)) * v * v + 1, (3 * (a + 2) * v - 2 * (a + 3)) * v) for v in (u[1], u[2])]
    # d/dt of a weight of (1 - t) or (2 - t) is minus its derivative in that distance
    return [outer[0], inner[0], (inner[1][0], -inner[1][1]), (outer[1][0], -outer[1][1])]


def axis_weights(t: Any, mode: str) -> list:
    """The weights of one axis's taps as functions of the fraction ``t`` (arrays or tensors: the
    recorded rule differentiates them); linear and bicubic modes."""
    return [1 - t, t] if mode == "bilinear" else [w for w, _ in _cubic(t)]


def _axis_taps(c: Any, size: int, mode: str, padding_mode: str, align_corners: bool) -> list[tuple]:
    """Per tap along one axis: ``(integer coordinate, weight, d weight / d c)``."""
    xp = array_module(c)
    if mode == "nearest":
        return [(xp.rint(c), xp.ones_like(c), None)]  # round half to even, as PyTorch's nearbyint
    low = xp.floor(c)
    t = c - low
    if mode == "bilinear":
        return [(low, 1 - t, -1.0), (low + 1, t, 1.0)]  # slopes as numbers: no array to multiply
    out = []
    for k, (w, dw) in enumerate(_cubic(t)):  # each integer tap padded on its own
        out.append((_pad(xp, low + (k - 1), size, padding_mode, align_corners)[0], w, dw))
    return out


def _product(factors: list) -> Any:
    """The product of arrays and numbers, without a leading 1 (one multiply fewer per tap)."""
    out = factors[0]
    for f in factors[1:]:
        out = out * f
    return out


def taps(
    coords: list, sizes: list, mode: str, padding_mode: str, align_corners: bool, slopes: bool = False
) -> list[tuple]:
    """Per tap of the image: ``(flat pixel index, in-bounds mask, weight, [d weight / d coord per
    axis] or None)``; ``coords``/``sizes`` in the grid's axis order (x: W first); the derivatives
    only with ``slopes`` (the grid's gradient)."""
    xp = array_module(coords[0])
    per_axis = [_axis_taps(c, s, mode, padding_mode, align_corners) for c, s in zip(coords, sizes)]
    out = []
    for combo in itertools.product(*per_axis):
        ok = flat = None
        stride = 1
        for (pos, _, _), size in zip(combo, sizes):  # x varies fastest: x + W (y + H z)
            inside = (pos >= 0) & (pos < size)
            ok = inside if ok is None else ok & inside
            flat = pos if flat is None else flat + pos * stride
            stride *= size
        wgt = _product([w for _, w, _ in combo])
        dws = None
        if slopes and mode != "nearest":
            dws = [
                _product([dw if j == d else w for j, (_, w, dw) in enumerate(combo)])
                for d in range(len(combo))
            ]
        out.append((xp.where(ok, flat, 0).astype(xp.int64), ok, wgt, dws))  # wgt NaN at a NaN coordinate
    return out


def _coords(grid: Any, spatial: tuple, a: dict) -> tuple[list, list, list, list]:
    """The grid's pixel coordinates per axis, x first, each ``(N, 1, L)``: those the forward reads,
    those the backward reads (the same but on volumes, see ``_non_finite``), their slopes; and
    the sizes along the axes."""
    n, nd = grid.shape[0], grid.shape[-1]
    sizes = list(reversed(spatial))  # W, H (, D): the grid's last axis is (x, y[, z])
    flat = grid.reshape(n, 1, math.prod(grid.shape[1:-1]), nd)
    pad, pm = a["mode"] != "bicubic", a["padding_mode"]
    pairs = [source_coordinates(flat[..., d], sizes[d], pm, a["align_corners"], pad) for d in range(nd)]
    slopes = [p[1] for p in pairs]
    if not pad:
        coords = [p[0] for p in pairs]
        return coords, coords, slopes, sizes
    coords = [_non_finite(c, s, nd, pm) for (c, _), s in zip(pairs, sizes)]
    if nd == 2 or pm == "zeros":
        return coords, coords, slopes, sizes
    return (
        coords,
        [_non_finite(c, s, nd, pm, backward=True) for (c, _), s in zip(pairs, sizes)],
        slopes,
        sizes,
    )


def _non_finite(c: Any, size: int, nd: int, padding_mode: str, backward: bool = False) -> Any:
    """PyTorch's kernels' handling of a NaN (or, folded, infinite) point: after clipping,
    a NaN coordinate is pixel 0 on images and the last pixel on volumes (their two kernels clamp
    differently); volumes also move a non-finite or out-of-int-range coordinate outside the
    image, so that it reads 0 rather than NaN. The volumes' backward clips with a rule that keeps
    NaN (``clip_coordinates_set_grad``): there the point is outside, and sends no gradient to the
    input or to any of its grid coordinates."""
    xp = array_module(c)
    if padding_mode != "zeros" and not (backward and nd == 3):
        c = xp.where(xp.isnan(c), 0 if nd == 2 else size - 1, c)
    if nd == 3:
        c = xp.where(xp.isfinite(c) & (c <= 2**31 - 2) & (c >= -(2**31)), c, -100)
    return c


def _pixel_rows(x: Any) -> Any:
    """``x`` channels last, one row of C values per pixel: ``(N, C, *S) -> (N * prod(S), C)``."""
    n, c, plane = x.shape[0], x.shape[1], math.prod(x.shape[2:])  # (not -1: an empty x has no inference)
    return x.reshape(n, c, plane).transpose(0, 2, 1).reshape(n * plane, c)


def _read_taps(rows: Any, flat: Any, ok: Any) -> Any:
    """The pixels at one tap, 0 outside the image: rows ``(N * P, C)`` (``_pixel_rows``), flat and
    ok ``(N, 1, L)`` -> ``(N, L, C)``. One row ``take`` (C values copied per point) instead of
    ``take_along_axis`` over ``(N, C, L)``, whose open-grid indexing was 40 % of the op's time."""
    xp = array_module(rows)
    n, length = flat.shape[0], flat.shape[-1]
    at = (flat.reshape(n, length) + xp.arange(n).reshape(n, 1) * (rows.shape[0] // max(n, 1))).reshape(-1)
    return xp.where(ok.reshape(n, length, 1), xp.take(rows, at, axis=0).reshape(n, length, rows.shape[1]), 0)


def _forward(ctx, x, grid, mode, padding_mode, align_corners):
    """GridSample's forward (see the class), run with floating-point warnings off."""
    xp = array_module(x)
    n, c, *spatial = x.shape
    attrs = {"mode": mode, "padding_mode": padding_mode, "align_corners": align_corners}
    coords, saved, slopes, sizes = _coords(grid, tuple(spatial), attrs)
    rows = _pixel_rows(x)
    length = coords[0].shape[-1]
    out = xp.zeros((n, length, c), dtype=x.dtype)  # (N, L, C): channels last until the end
    for flat, ok, wgt, _ in taps(coords, sizes, mode, padding_mode, align_corners):
        # a tap outside the image reads 0, as PyTorch's masked gathers, and only then is weighted:
        # never 0 * the stand-in pixel 0 (nan if it is inf); a NaN point's NaN weight still tells
        out += _read_taps(rows, flat, ok) * wgt.reshape(n, length, 1)  # (N, L, C) * (N, L, 1)
    ctx.save_for_backward(x, *saved, *slopes)
    return xp.ascontiguousarray(out.transpose(0, 2, 1)).reshape(n, c, *grid.shape[1:-1])


def _backward(ctx, g):
    """GridSample's VJP (see the module docstring), run with floating-point warnings off."""
    x = ctx.saved[0]
    nd = x.ndim - 2
    coords, slopes = list(ctx.saved[1 : 1 + nd]), list(ctx.saved[1 + nd :])
    a = ctx.attrs
    xp = array_module(g)
    n, c, *spatial = x.shape
    sizes = list(reversed(spatial))
    gf = g.reshape(n, c, coords[0].shape[-1])  # (N, C, L)
    all_taps = taps(coords, sizes, a["mode"], a["padding_mode"], a["align_corners"], ctx.needs_input_grad[1])
    dx = dgrid = None
    if ctx.needs_input_grad[0]:
        plane = math.prod(spatial)
        base = (xp.arange(n * c) * plane).reshape(n, c, 1)  # (N, C, 1): each plane's offset
        index = xp.concatenate([(base + flat).reshape(-1) for flat, *_ in all_taps])
        # a tap outside the image sends nothing (not NaN * 0, into the stand-in pixel 0)
        weights = xp.concatenate([xp.where(ok, gf * wgt, 0).reshape(-1) for _, ok, wgt, _ in all_taps])
        dx = xp.bincount(index, weights=weights, minlength=n * c * plane).astype(g.dtype).reshape(x.shape)
    if ctx.needs_input_grad[1]:
        grads = [xp.zeros(coords[0].shape, dtype=g.dtype) for _ in range(nd)]  # each (N, 1, L)
        if a["mode"] != "nearest":
            rows, g_last = _pixel_rows(x), gf.transpose(0, 2, 1)  # (N * P, C), (N, L, C)
            for flat, ok, _, dws in all_taps:
                # sum over channels of g * value at this tap (0 outside the image): (N, 1, L)
                gv = (_read_taps(rows, flat, ok) * g_last).sum(axis=2)[:, None, :]
                for d in range(nd):
                    grads[d] += gv * dws[d]
        out_shape = ctx.shapes[1][1:-1]
        dgrid = xp.stack([(gd * s).reshape(n, *out_shape) for gd, s in zip(grads, slopes)], axis=-1)
    return dx, dgrid


class GridSample(Function):
    """out[n, c, *p] = sum_k weight_k(grid[n, *p]) * x[n, c, tap_k] (see the module docstring).

    Shape:
        x ``(N, C, H, W)``, grid ``(N, Ho, Wo, 2)`` (last axis ``(x, y)``) -> ``(N, C, Ho, Wo)``;
        x ``(N, C, D, H, W)``, grid ``(N, Do, Ho, Wo, 3)`` -> ``(N, C, Do, Ho, Wo)``.
    """

    name = "grid_sample"

    @staticmethod
    def forward(ctx, x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        # quietly: an infinite or NaN grid point gives NaN, as in PyTorch, without NumPy's warning
        return quietly(_forward, ctx, x, grid, mode, padding_mode, align_corners)

    @staticmethod
    def backward(ctx, g):
        return quietly(_backward, ctx, g)
