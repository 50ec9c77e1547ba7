"""Recorded VJP rules (``autograd/recorded.py``) of the nodes that view rebasing makes
(``view_rebase.py``): ``CopySlices`` (a base after a view of it changed in place) and ``as_strided``
(a view regenerated from its base's node).

Both place elements by their offsets in the base's memory, in one element size: a complex base
with a float view (``.real``, ``view_as_real``) or the reverse is placed in float ``(..., 2)`` pairs
(``view_pairs.py``), so a complex gradient crosses as ``view_as_real`` of it and comes back through
``complex(re, im)``, the recorded forms of the first-order rules' ``to_pairs``/``from_pairs``.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.autograd.recorded import constant, rule
from glassgrad.autograd.recorded_rules_movement import _put
from glassgrad.backend import array_module
from glassgrad.ops.indexing import GetItem, MaskedFill


def _places(ctx, xp) -> tuple:
    """The base's and the view's element positions in the base's memory (view_rebase.geometry)."""
    from glassgrad.autograd.view_rebase import _geometry_of

    span, r_at, r_st, r_shape, v_at, v_st, v_shape, _ = _geometry_of(ctx)
    pos = xp.arange(max(span, 1), dtype=np.int64)
    strided = xp.lib.stride_tricks.as_strided
    root = strided(pos[r_at:], r_shape, tuple(s * 8 for s in r_st)).copy()
    view = strided(pos[v_at:], v_shape, tuple(s * 8 for s in v_st)).copy()
    return max(span, 1), root, view


def _to_pairs(ctx, g, side: str):
    """``g`` (the gradient of ``side``: "root" or "view") as float pairs where that side is complex."""
    return gg.view_as_real(g) if ctx.attrs.get("pairs") == side else g


def _from_pairs(ctx, a, side: str):
    """Float pairs ``a`` (..., 2) back to ``side``'s complex dtype where that side is complex."""
    return gg.complex(a[..., 0], a[..., 1]) if ctx.attrs.get("pairs") == side else a


@rule("copy_slices")
def _copy_slices(ctx, g):
    """(g with the view's region zeroed, g's region read as the view)"""
    xp = array_module(g._data)
    _, root, view = _places(ctx, xp)
    g = _to_pairs(ctx, g, "root")
    need = ctx.needs_input_grad
    ga = _from_pairs(ctx, MaskedFill.apply(g, xp.isin(root, view), value=0), "root") if need[0] else None
    g_out = None
    if need[1]:
        flat = root.reshape(-1)
        order = xp.argsort(flat, kind="stable")
        at = order[xp.minimum(xp.searchsorted(flat[order], view), flat.size - 1)]
        if not bool((flat[at] == view).all()):  # (geometry places a changed view inside its base)
            raise NotImplementedError("copy_slices: create_graph=True for a view reaching outside its base")
        g_out = _from_pairs(ctx, GetItem.apply(g.reshape(-1), key=(at,), advanced=True), "view")
    return ga, g_out


@rule("as_strided")
def _as_strided(ctx, g):
    """zeros laid out as the base's memory with g added at the view's places, read at the base's
    (an element the base reaches k times gives each of its readers 1/k, as the first-order rule)"""
    xp = array_module(g._data)
    span, root, view = _places(ctx, xp)
    g = _to_pairs(ctx, g, "view")
    buf = _put(g.reshape(-1), (span,), (view.reshape(-1),), True)
    out = GetItem.apply(buf, key=(root,), advanced=True)
    count = xp.bincount(root.reshape(-1), minlength=span)[root]
    if root.size and count.max() > 1:  # an overlapping base (an expand, an unfold, an as_strided)
        out = out * constant((1.0 / count).astype(g._data.dtype))
    return _from_pairs(ctx, out, "root")
