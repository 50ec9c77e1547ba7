"""Anti-aliased resizing weights for ``interpolate(..., antialias=True)`` (bilinear and bicubic).

A downscale by ``scale = n_in / n_out > 1`` widens the interpolation kernel by ``scale`` so that
every input pixel contributes (PIL's and PyTorch's resampling): output ``i`` is centred on source
coordinate ``c = scale * (i + 0.5)`` and reads the pixels ``j`` within ``support`` of it,

    w_ij = filter((j - c + 0.5) / scale),   normalized so that sum_j w_ij = 1,

with ``support = scale * taps / 2`` (taps 2 for bilinear: the triangle ``1 - |x|``; 4 for bicubic:
Keys' kernel with a = -0.5). Upscaling (scale <= 1) keeps the plain kernel (divide by 1). The
weights form one ``(n_out, n_in)`` matrix per axis, applied by matmul, so the backward is the
transposed matrix (an input with an inf or nan reads the taps alone, ``image_taps``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["aa_taps", "aa_matrix"]

_TAPS = {"bilinear": 2, "bicubic": 4}


def _triangle(x: Any) -> Any:
    x = np.abs(x)
    return np.where(x < 1, 1 - x, 0)


def _cubic(x: Any) -> Any:
    a, x = -0.5, np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = (((x - 5) * x + 8) * x - 4) * a
    return np.where(x < 1, near, np.where(x < 2, far, 0))


def aa_taps(n_in: int, n_out: int, factor: float | None, align_corners: bool, mode: str, dt: Any) -> Any:
    """``(idx, w)``, each ``(n_out, K)``: output ``i`` reads pixels ``idx[i]`` (-1 past its window)
    with the anti-aliased weights ``w[i]``, computed in the input's precision.

    ``factor`` is the scale factor the caller gave (None when a size was given); ``align_corners``
    changes the scale to ``(n_in - 1) / (n_out - 1)`` as in the other modes.
    """
    dt = np.dtype(dt)
    if align_corners:
        scale = dt.type((n_in - 1) / (n_out - 1)) if n_out > 1 else dt.type(0)
    else:
        scale = dt.type(1.0 / factor) if factor is not None else dt.type(n_in) / dt.type(n_out)
    taps = _TAPS[mode]
    support = dt.type(taps * 0.5 * scale if scale >= 1 else taps * 0.5)
    inv = dt.type(1.0 / scale if scale >= 1 else 1.0)
    fn = _triangle if mode == "bilinear" else _cubic
    rows = []
    for i in range(n_out):
        center = scale * dt.type(i + 0.5)
        lo = max(int(center - support + dt.type(0.5)), 0)  # int() truncates toward zero, as C++'s cast
        hi = min(int(center + support + dt.type(0.5)), n_in)
        j = np.arange(lo, hi, dtype=dt)
        w = fn((j - center + dt.type(0.5)) * inv).astype(dt)
        total = w.sum(dtype=dt)
        rows.append((lo, w / total if total != 0 else w))
    k = max(len(w) for _, w in rows)
    idx = np.full((n_out, k), -1, dtype=np.int64)
    wts = np.zeros((n_out, k), dtype=dt)
    for i, (lo, w) in enumerate(rows):
        idx[i, : len(w)] = np.arange(lo, lo + len(w))
        wts[i, : len(w)] = w
    return idx, wts


def aa_matrix(n_in: int, n_out: int, factor: float | None, align_corners: bool, mode: str, dt: Any) -> Any:
    """``(n_out, n_in)`` anti-aliased weights along one axis (the taps of :func:`aa_taps` spread out)."""
    idx, w = aa_taps(n_in, n_out, factor, align_corners, mode, dt)
    m = np.zeros((n_out, n_in), dtype=np.dtype(dt))
    valid = idx >= 0
    m[np.nonzero(valid)[0], idx[valid]] = w[valid]
    return m
