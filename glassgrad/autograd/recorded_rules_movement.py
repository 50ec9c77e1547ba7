"""Recorded VJP rules (``autograd/recorded.py``) of the movement and indexing ops.

These ops are linear in their (differentiable) inputs, so each rule is the op's adjoint written with
the primitives whose own adjoint is the op again (getitem <-> index_put, diagonal <-> diag_embed,
permute <-> permute...), which keeps every rule differentiable in ``g`` to any order. Indices,
masks and keys are constants, as in PyTorch. ``g`` is the output gradient, a Tensor.
"""

from __future__ import annotations

import numpy as np

from glassgrad.autograd.recorded import constant, rule, saved
from glassgrad.backend import array_module
from glassgrad.ops.indexing import GetItem, MaskedFill, SplitKey, _grid_key
from glassgrad.ops.indexing_more import IndexPut
from glassgrad.ops.movement import Flip, Permute, Roll, Tril, Triu
from glassgrad.ops.movement_more import DiagEmbed
from glassgrad.ops.setitem import SetItem
from glassgrad.ops.views import Diagonal

__all__: list[str] = []


# ------------------------------------------------------------------ helpers
def _zeros(g, shape):
    return constant(array_module(g._data).zeros(tuple(shape), dtype=g._data.dtype))


def _zero(g):
    return constant(array_module(g._data).zeros((), dtype=g._data.dtype))


def _advanced(key: tuple) -> bool:
    return any(isinstance(k, np.ndarray | bool) for k in key)


def _whole(key: tuple) -> tuple:
    """A key that is all ints/slices, with an Ellipsis so that NumPy gives a 0-d array, not a scalar."""
    return key if _advanced(key) or any(k is Ellipsis for k in key) else (*key, Ellipsis)


def _read(g, key: tuple):
    """g[key] (NumPy semantics)."""
    return GetItem.apply(g, key=_whole(key), advanced=_advanced(key))


def _put(g, shape, key: tuple, accumulate: bool):
    """zeros(shape) with g written (or added, repeats adding up) at key: the adjoint of ``_read``."""
    return IndexPut.apply(_zeros(g, shape), g, key=_whole(key), accumulate=accumulate)


def _zero_at(g, key: tuple):
    """g with the entries at key set to 0 (adjoint of itself)."""
    return IndexPut.apply(g, _zero(g), key=_whole(key), accumulate=False)


def _grid(pos, shape) -> tuple:
    """The advanced-indexing key of the flat positions that gather / scatter ops save
    (``ops/grid_positions.py``): one index array per dim of ``shape``, each of pos's shape."""
    return tuple(array_module(pos).unravel_index(pos, tuple(shape)))


def _into_box(gs, shape, box: tuple):
    """gs (the gradient of src's box, index's shape) padded with zeros to src's ``shape``."""
    return gs if tuple(gs.shape) == tuple(shape) else _put(gs, shape, box, False)


# ------------------------------------------------------------------ movement
@rule("reshape")
def _reshape(ctx, g):
    """g.reshape(x.shape)"""
    return g.reshape(ctx.shapes[0])


@rule("permute")
def _permute(ctx, g):
    """g.permute(argsort(dims))"""
    return Permute.apply(g, dims=tuple(int(i) for i in np.argsort(ctx.attrs["dims"])))


@rule("expand", "split")
def _identity(ctx, g):
    """g (expand: the engine sums it over the broadcast dims)"""
    return g


@rule("repeat")
def _repeat(ctx, g):
    """g viewed as (r0, s0, r1, s1, ...) summed over the r dims"""
    sizes, shape = ctx.attrs["sizes"], ctx.shapes[0]
    full = (1,) * (len(sizes) - len(shape)) + tuple(shape)
    g = g.reshape([v for r, s in zip(sizes, full) for v in (r, s)])
    return g.sum(dim=tuple(range(0, 2 * len(sizes), 2))).reshape(shape)


@rule("flip")
def _flip(ctx, g):
    """flip(g, dims)"""
    return Flip.apply(g, dims=ctx.attrs["dims"])


@rule("roll")
def _roll(ctx, g):
    """roll(g, -shifts, dims)"""
    return Roll.apply(g, shifts=tuple(-s for s in ctx.attrs["shifts"]), dims=ctx.attrs["dims"])


@rule("tril")
def _tril(ctx, g):
    """tril(g, diagonal)"""
    return Tril.apply(g, diagonal=ctx.attrs["diagonal"])


@rule("triu")
def _triu(ctx, g):
    """triu(g, diagonal)"""
    return Triu.apply(g, diagonal=ctx.attrs["diagonal"])


@rule("diagonal")
def _diagonal(ctx, g):
    """diag_embed(g) on the same diagonal of zeros like x"""
    at = ctx.attrs
    return DiagEmbed.apply(
        g, offset=at["offset"], dim1=at["dim1"], dim2=at["dim2"], shape=tuple(ctx.shapes[0])
    )


@rule("diag_embed")
def _diag_embed(ctx, g):
    """diagonal(g) (the same diagonal)"""
    at = ctx.attrs
    return Diagonal.apply(g, offset=at["offset"], dim1=at["dim1"], dim2=at["dim2"])


@rule("tensor_unfold")
def _tensor_unfold(ctx, g):
    """zeros like x, each window's gradient added back at the entries it read"""
    at = ctx.attrs
    d, size, step = at["dim"], at["size"], at["step"]
    xp = array_module(g._data)
    where = xp.arange(g.shape[d])[:, None] * step + xp.arange(size)[None, :]  # (count, size)
    return _put(g.movedim(-1, d + 1), ctx.shapes[0], (slice(None),) * d + (where,), True)


# ------------------------------------------------------------------ joining and pieces
@rule("cat")
def _cat(ctx, g):
    """g cut back into the inputs' pieces along dim"""
    pre, out, start = (slice(None),) * ctx.attrs["dim"], [], 0
    for n, need in zip(ctx.attrs["sizes"], ctx.needs_input_grad):
        if n is None:  # a legacy empty (0,) input, not joined: its gradient is empty
            out.append(constant(array_module(g._data).zeros((0,), dtype=g._data.dtype)) if need else None)
            continue
        out.append(_read(g, (*pre, slice(start, start + n))) if need else None)
        start += n
    return tuple(out)


@rule("stack")
def _stack(ctx, g):
    """g unstacked along dim"""
    pre = (slice(None),) * ctx.attrs["dim"]
    return tuple(_read(g, (*pre, i)) if need else None for i, need in enumerate(ctx.needs_input_grad))


@rule("piece")
def _piece(ctx, g):
    """zeros like the hub with g written at the piece's key (the hub sums its pieces' gradients)"""
    return _put(g, ctx.shapes[0], ctx.attrs["key"], False)


# ------------------------------------------------------------------ indexing
@rule("getitem")
def _getitem(ctx, g):
    """zeros like x with g written at key (added up for advanced keys: repeats)"""
    key, advanced, shape = ctx.attrs["key"], ctx.attrs["advanced"], ctx.shapes[0]
    if isinstance(key, SplitKey):  # x[basic][rest]: back through rest, then through basic
        inner = np.broadcast_to(np.empty((), dtype=np.int8), shape)[key.basic].shape
        return _put(_put(g, inner, key.rest, True), shape, key.basic, False)
    return _put(g, shape, key, bool(advanced))


@rule("index_put")
def _index_put(ctx, g):
    """(g, with the written positions zeroed unless accumulate; g[indices])"""
    key, need = ctx.attrs["key"], ctx.needs_input_grad
    ga = None
    if need[0]:
        ga = g if ctx.attrs["accumulate"] else _zero_at(g, key)
    return ga, (_read(g, key) if need[1] else None)


@rule("setitem")
def _setitem(ctx, g):
    """(g with g[key] = 0, g[key])"""
    key, advanced, need = ctx.attrs["key"], ctx.attrs["advanced"], ctx.needs_input_grad
    ga = SetItem.apply(g, _zero(g), key=key, advanced=advanced) if need[0] else None
    return ga, (GetItem.apply(g, key=key, advanced=advanced) if need[1] else None)


@rule("overwrite")
def _overwrite(ctx, g):
    """(zeros, a constant: x's values were never read, as PyTorch's zeros_like(grad); g)"""
    need = ctx.needs_input_grad
    gx = _zeros(g, g.shape) if need[0] else None
    return gx if len(need) == 1 else (gx, g if need[1] else None)


@rule("masked_fill")
def _masked_fill(ctx, g):
    """(g where not mask else 0, None)"""
    return MaskedFill.apply(g, saved(ctx)[0], value=0), None


@rule("masked_scatter")
def _masked_scatter(ctx, g):
    """(g where not mask else 0, None, g[mask] in src's first entries and 0 after)"""
    (mask,) = saved(ctx)
    need = ctx.needs_input_grad
    ga = MaskedFill.apply(g, mask, value=0) if need[0] else None
    gsrc = None
    if need[2]:
        sel = GetItem.apply(g, key=(mask,), advanced=True)  # (k,)
        n = int(np.prod(ctx.shapes[2]))
        gsrc = _into_box(sel, (n,), (slice(0, sel.shape[0]),)).reshape(ctx.shapes[2])
    return ga, None, gsrc


@rule("gather")
def _gather(ctx, g):
    """(zeros like x with g added at the grid key, None)"""
    pos = saved(ctx)[0]
    return _put(g, ctx.shapes[0], _grid(pos, ctx.shapes[0]), True), None


@rule("index_along")
def _index_along(ctx, g):
    """(zeros with g added up at idx along axis, None)"""
    idx = saved(ctx)[0]
    axis = ctx.attrs["axis"]
    shape = tuple(g.shape[:axis]) + (ctx.shapes[0][axis],) + tuple(g.shape[axis + 1 :])
    return _put(g, shape, _grid_key(idx, axis), True), None  # (x broadcast: the engine sums back)


@rule("scatter_add")
def _scatter_add(ctx, g):
    """(g, None, g[key] in src's index box, 0 outside)"""
    pos, box = saved(ctx)
    key = _grid(pos, g.shape)  # (x's shape: ctx.shapes[0] is None when x needs no gradient)
    gsrc = _into_box(_read(g, key), ctx.shapes[2], box) if ctx.needs_input_grad[2] else None
    return g, None, gsrc


@rule("scatter")
def _scatter(ctx, g):
    """(g with the written positions zeroed, None, g[key] in src's index box)"""
    (pos,) = saved(ctx)
    key, need = _grid(pos, g.shape), ctx.needs_input_grad  # (as scatter_add's)
    ga = _zero_at(g, key) if need[0] else None
    gsrc = _into_box(_read(g, key), ctx.shapes[2], ctx.attrs["box"]) if need[2] else None
    return ga, None, gsrc


def _along(ctx) -> tuple:
    return (slice(None),) * ctx.attrs["dim"] + (ctx.attrs["idx"],)


@rule("index_add")
def _index_add(ctx, g):
    """(g, None, alpha * g[.., index, ..])"""
    gsrc = None
    if ctx.needs_input_grad[2]:
        gsrc = _read(g, _along(ctx))
        gsrc = gsrc if ctx.attrs["alpha"] == 1 else gsrc * ctx.attrs["alpha"]
    return g, None, gsrc


@rule("index_copy")
def _index_copy(ctx, g):
    """(g with the written slices zeroed, None, g[.., index, ..])"""
    need = ctx.needs_input_grad
    ga = _zero_at(g, _along(ctx)) if need[0] else None
    return ga, None, (_read(g, _along(ctx)) if need[2] else None)


# ------------------------------------------------------------------ padding and embedding
@rule("pad")
def _pad(ctx, g):
    """zeros like x with g[dst] written back at src"""
    return _put(_read(g, ctx.attrs["dst"]), ctx.shapes[0], ctx.attrs["src"], False)


@rule("index_pad")
def _index_pad(ctx, g):
    """g scatter-added back along each padded dim at its source index, in reverse order"""
    shape = ctx.shapes[0]
    for d, idx in reversed(ctx.attrs["index"]):
        to = tuple(g.shape[:d]) + (shape[d],) + tuple(g.shape[d + 1 :])
        g = _put(g, to, (slice(None),) * d + (idx,), True)
    return g


@rule("embedding")
def _embedding(ctx, g):
    """zeros like weight with each position's gradient row added at its id (padding_idx: none;
    scale_grad_by_freq: divided by the id's count, a constant scale as PyTorch's)"""
    a = ctx.attrs
    if a.get("sparse"):
        raise NotImplementedError("embedding: create_graph=True with sparse=True (a sparse gradient)")
    ids = a["ids"].reshape(-1)
    rows = g.reshape(ids.size, g.shape[-1])  # (*, D) -> (M, D)
    if a["scale_grad_by_freq"]:
        # PyTorch's: the scale is in the value but not in the derivative in g (its
        # embedding_dense_double_backward reads g unscaled), so that d/dweight of the gradient is
        # its finite differences (the first-order backward through the lookup scales once more)
        xp = array_module(ids)
        _, inverse, counts = xp.unique(ids, return_inverse=True, return_counts=True)
        scale = (1.0 / counts[inverse]).astype(g._data.dtype)[:, None]
        rows = constant(rows._data * scale) + (rows - rows.detach())
    if a["padding_idx"] is not None:  # skipped, not scaled by 0: an inf there must not reach the row
        rows = MaskedFill.apply(rows, (ids == a["padding_idx"])[:, None], value=0)
    return _put(rows, ctx.shapes[0], (ids,), True)
