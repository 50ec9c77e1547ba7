"""Views that change a complex tensor's dtype (``.real``, ``.imag``, ``view_as_real``,
``view_as_complex``) in view rebasing (``view_rebase.py``).

Rebasing places a view's elements in its base's memory by element offsets, which needs one
element size on both sides. A complex array is seen here as its ``(..., 2)`` float pairs (the
memory ``view_as_real`` shows), so a float view of a complex base, or a complex view of a float
base, is placed in float units; gradients cross the same way, a complex gradient being the pairs
``(d/d re, d/d im)`` as PyTorch's convention for a real loss.
"""

from __future__ import annotations

from typing import Any

from glassgrad.backend import array_module

__all__ = ["allowed", "attrs", "to_pairs", "from_pairs"]


def allowed(root: Any, view: Any) -> bool:
    """Whether ``view``'s dtype differs from ``root``'s as a complex dtype from its float one."""
    a, b = root.dtype, view.dtype
    if a.kind == b.kind or {a.kind, b.kind} != {"c", "f"}:
        return False
    c, f = (a, b) if a.kind == "c" else (b, a)
    return c.itemsize == 2 * f.itemsize


def _pairs(a: Any) -> Any:
    xp = array_module(a)
    re = a.real
    return xp.lib.stride_tricks.as_strided(re, a.shape + (2,), a.strides + (re.itemsize,))


def attrs(root: Any, view: Any) -> dict:
    """A view node's attributes: the two arrays in one element size, and which side was complex."""
    if root.dtype == view.dtype:
        return {"arrays": (root, view)}
    if root.dtype.kind == "c":
        return {"arrays": (_pairs(root), view), "pairs": "root", "complex": root.dtype}
    return {"arrays": (root, _pairs(view)), "pairs": "view", "complex": view.dtype}


def to_pairs(ctx: Any, g: Any, side: str) -> Any:
    """``g`` (the gradient of ``side``: "root" or "view") as float pairs where that side is complex."""
    return _pairs(g) if ctx.attrs.get("pairs") == side else g


def from_pairs(ctx: Any, a: Any, side: str) -> Any:
    """Float pairs ``a`` back to ``side``'s complex dtype where that side is complex."""
    if ctx.attrs.get("pairs") != side:
        return a
    out = array_module(a).empty(a.shape[:-1], dtype=ctx.attrs["complex"])
    out.real, out.imag = a[..., 0], a[..., 1]
    return out
