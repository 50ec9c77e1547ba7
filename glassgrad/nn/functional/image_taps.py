"""Resizing an image that holds inf or nan: each output read from its own taps, as PyTorch's kernels.

The bicubic, anti-aliased and adaptive-average resizes apply one fixed ``(n_out, n_in)`` matrix per
axis by matmul, which multiplies every pixel outside an output's taps by a zero weight too: one
inf or nan pixel then turns its whole row into nan (0 * inf), where PyTorch's kernels, which read
only the taps, give numbers there. An input holding an inf or nan takes this path instead (a
finite one keeps the matmul, faster for wide windows): along one axis,

    out[..., i] = sum_k w[i, k] * x[..., idx[i, k]]     (k = 0, 1, ... in PyTorch's order)

over the taps of output ``i`` (``idx`` -1: no tap), a zero weight on a tap included, as PyTorch
multiplies it too (bicubic's four taps at an exact source pixel: 0 * inf is nan there as well).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.nn.functional.image_aa import aa_taps
from glassgrad.ops import pooling as _P
from glassgrad.tensor import Tensor

__all__ = [
    "has_nonfinite", "apply_taps", "bin_taps", "taps_matrix", "cubic_taps", "resize_taps", "averaging_matrix",
    "adaptive_avg_taps",
]  # fmt: skip


def has_nonfinite(x: Tensor) -> bool:
    """Whether ``x`` (floating) holds an inf or nan; False on the meta device (no values)."""
    return not x.is_meta and not np.isfinite(x._data).all()


def bin_taps(start: Any, end: Any) -> Any:
    """``(n_out, K)`` taps of windows ``[start[i], end[i])``, padded with -1 to the widest, K."""
    k = np.arange(int((end - start).max()))
    idx = start[:, None] + k
    return np.where(idx < end[:, None], idx, -1)


def apply_taps(x: Tensor, axis: int, idx: Any, w: Any = None) -> Tensor:
    """``out[..., i, ...] = sum_k w[i, k] * x[..., idx[i, k], ...]`` along ``axis`` (a plain sum of
    the taps for ``w`` None), accumulated tap by tap; differentiable through ``index_select``.

    Shape:
        x ``(*A, n_in, *B)``, idx/w ``(n_out, K)`` -> ``(*A, n_out, *B)``.
    """
    axis %= x.ndim
    bshape = (-1,) + (1,) * (x.ndim - 1 - axis)  # (n_out,) -> (n_out, 1, ...): broadcasts along axis
    out = None
    for k in range(idx.shape[1]):
        col = idx[:, k]
        valid = col >= 0
        term = x.index_select(axis, Tensor(np.where(valid, col, 0), _wrap=True))
        if w is not None:
            term = term * Tensor(w[:, k].reshape(bshape), _wrap=True)
        if not valid.all():  # a shorter window: nothing there (a where, not 0 * an inf pixel)
            term = term.where(Tensor(valid.reshape(bshape), _wrap=True), term.new_zeros(()))
        out = term if out is None else out + term
    return out


def averaging_matrix(n: int, o: int, dtype: Any, meta: bool = False) -> Tensor:
    """``(o, n)``: row ``i`` averages bin ``i`` of the adaptive bins over ``n`` positions (on the
    meta device beside a meta input); the finite inputs' path of adaptive average pooling."""
    start, end = _P.adaptive_bins(n, o)
    pos = np.arange(n)
    a = ((pos >= start[:, None]) & (pos < end[:, None])) / (end - start)[:, None]
    out = Tensor(a.astype(dtype), _wrap=True)
    return out.to("meta") if meta else out


def adaptive_avg_taps(x: Tensor, size: tuple) -> Tensor:
    """Adaptive average pooling of an ``x`` holding inf or nan: each window summed (W, then H,
    then D), then divided by its widths (D, H, W), as PyTorch's ``sum / kh / kw``: a window of
    huge values overflows to inf there before the division.

    Shape:
        x ``(N, C, *spatial)`` -> ``(N, C, *size)``.
    """
    out, widths = x, []
    for axis in range(x.ndim - 1, 1, -1):
        start, end = _P.adaptive_bins(x.shape[axis], size[axis - 2])
        out = apply_taps(out, axis, bin_taps(start, end))
        widths.append((end - start).astype(x._data.dtype).reshape((-1,) + (1,) * (x.ndim - 1 - axis)))
    for width in reversed(widths):
        out = out / Tensor(width, _wrap=True)
    return out


def taps_matrix(idx: Any, w: Any, n_in: int) -> Any:
    """``(n_out, n_in)``: the taps spread into a matrix (clamped taps at an edge add up)."""
    m = np.zeros((idx.shape[0], n_in), dtype=w.dtype)
    valid = idx >= 0
    np.add.at(m, (np.nonzero(valid)[0], idx[valid]), w[valid])
    return m


def cubic_taps(n_in: int, n_out: int, factor: float | None, align_corners: bool, dt: Any) -> Any:
    """``(idx, w)``, each ``(n_out, 4)``: bicubic taps and weights (Keys' kernel, a = -0.75, taps
    clamped at the edges, as PyTorch).

    Output ``i`` reads ``s`` = ``i (n_in - 1) / (n_out - 1)`` (align_corners) or ``(i + 0.5) * scale - 0.5``
    (not clamped at 0, unlike linear), then taps ``floor(s) - 1 .. floor(s) + 2`` weighted by the
    cubic convolution of ``t = s - floor(s)``.
    """
    dt = np.dtype(dt)
    i = np.arange(n_out, dtype=dt)
    if align_corners:
        src = i * dt.type((n_in - 1) / (n_out - 1) if n_out > 1 else 0)
    else:
        scale = dt.type(1.0 / factor) if factor is not None else dt.type(n_in) / dt.type(n_out)
        # rounded twice, unlike linear: PyTorch's bicubic backward (which shares these weights here)
        # rounds the product before subtracting, so only its forward would gain from one rounding
        src = (i + dt.type(0.5)) * scale - dt.type(0.5)
    base = np.floor(src)
    t = (src - base).astype(dt)
    a = dt.type(-0.75)

    def near(x: Any) -> Any:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: Any) -> Any:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)  # (n_out, 4)
    taps = np.clip(base.astype(np.int64)[:, None] + np.arange(-1, 3), 0, n_in - 1)  # (n_out, 4)
    return taps, weights


def resize_taps(
    x: Tensor, sizes: tuple, factors: tuple, align_corners: Any, mode: str, antialias: bool
) -> Tensor:
    """Bicubic or anti-aliased resize of an ``x`` holding inf or nan: W, then H, from the taps
    (an anti-aliased axis that keeps its size is skipped, as PyTorch's separable kernel skips it).

    Shape:
        x ``(N, C, H, W)`` -> ``(N, C, *sizes)``.
    """
    out, dt = x, x._data.dtype
    for axis in (3, 2):
        n_in, n_out, f = x.shape[axis], sizes[axis - 2], factors[axis - 2]
        if antialias and n_in == n_out:
            continue
        if antialias:
            taps = aa_taps(n_in, n_out, f, bool(align_corners), mode, dt)
        else:
            taps = cubic_taps(n_in, n_out, f, bool(align_corners), dt)
        out = apply_taps(out, axis, *taps)
    return out
