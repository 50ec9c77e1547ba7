"""Recorded VJP rule (``autograd/recorded.py``) of ``scatter_reduce`` (and so of ``index_reduce``,
which composes it): the one indexing op that is not linear in its inputs, so its rule reads the
inputs and the output as Tensors of the forward graph. ``g`` is the output gradient, a Tensor.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.autograd.recorded import constant, delayed_error, operand, output, rule, saved
from glassgrad.autograd.recorded_rules_movement import _grid, _into_box, _read, _zero_at
from glassgrad.backend import array_module
from glassgrad.ops.indexing import MaskedFill
from glassgrad.ops.scatter import ScatterReduce, _counts

__all__: list[str] = []

#: PyTorch's message, word for word (its DelayedError node on src's gradient)
_MANY_ZEROS = (
    "scatter_reduce(): Double backward is unsupported for src when >1 zeros in src are scattered "
    "to the same position in self"
)


@rule("scatter_reduce")
def _scatter_reduce(ctx, g):
    """sum: (g, g[key]); mean: (g / N, g[key] / N[key]); amax/amin: g shared evenly among the
    entries equal to the result (masks and counts constant); prod: ``_prod``. x's gradient zeroed
    at key without include_self."""
    a, src, out = saved(ctx)
    at, need = ctx.attrs, ctx.needs_input_grad
    pos, box, reduce, inc = at["pos"], at["box"], at["reduce"], at["include_self"]
    key = _grid(pos, a.shape)
    s = src[box]
    if reduce == "sum":
        gself, gs = g, _read(g, key)
    elif reduce == "mean":
        n = _counts(a.shape, pos, inc, g._data.dtype)
        gself, gs = g / constant(n), _read(g, key) / constant(n[key])
    elif reduce == "prod":
        gself, gs = _prod(ctx, g, a, src, out, key)
    else:  # amax / amin
        self_is = (a == out).astype(g._data.dtype)
        src_is = (s == out[key]).astype(g._data.dtype)
        count = self_is.copy()
        array_module(count).add.at(count, key, src_is)
        with np.errstate(divide="ignore", invalid="ignore"):  # a NaN result: 0 / 0, as first order
            gself, gs = g * constant(self_is / count), _read(g, key) * constant(src_is / count[key])
    if not inc and need[0]:
        gself = _zero_at(gself, key)
    gsrc = _into_box(gs, ctx.shapes[2], box) if need[2] else None
    return (gself if need[0] else None), None, gsrc


def _filled(t, mask):
    """t with 1 where the constant mask (PyTorch's ``masked_fill(mask, 1)``), t itself where none."""
    return MaskedFill.apply(t, mask, value=1) if mask.any() else t


def _prod(ctx, g, a, src, out, key):
    """PyTorch's ``scatter_reduce_backward`` for 'prod' in recorded ops: x's gradient g * z' / x'
    with x' = x where x != 0 else 1 and z' the product taken with x' (the exclusive product where x
    is 0); src's (g * z)[key] / src, or where src is the only 0 reduced into its place, (g * the
    product taken with 1 in its place)[key]. A place with two zeros or more from src: src's
    gradient refuses a second backward, as PyTorch's. Returns (x's, src's in index's box)."""
    at, need = ctx.attrs, ctx.needs_input_grad
    pos, box, inc = at["pos"], at["box"], at["include_self"]
    flat = pos.reshape(-1)

    def product(base, values):  # base (x's shape) with values (index's shape) multiplied in at pos
        z = ScatterReduce.apply(base.reshape(-1), flat, values.reshape(-1), reduce="prod", include_self=inc)
        return z.reshape(a.shape)

    x, s = operand(ctx, 0, a), _read(operand(ctx, 2, src), box)
    gself = gs = None
    if need[0] and not inc:
        gself = g  # (zeroed at key by the caller; elsewhere z' / x' is 1)
    elif need[0]:
        zx = a == 0
        mx = _filled(x, zx)
        gself = g * (product(mx, s) if zx.any() else output(ctx, out)) / mx
    if need[2]:
        zs = src[box] == 0
        zeros = array_module(pos).zeros(a.shape, dtype=np.int64)
        array_module(pos).add.at(zeros.reshape(-1), flat, zs.reshape(-1).astype(np.int64))
        zeros = zeros.reshape(-1)[pos]  # the number of zeros from src reduced into each one's place
        single = zs & (zeros == 1)
        gs = _read(g * output(ctx, out), key) / _filled(s, zs)
        if single.any():
            gs = gg.where(single, _read(g * product(x, _filled(s, single)), key), gs)
        if (zeros > 1).any():
            gs = delayed_error(gs._data, [g, x, s], _MANY_ZEROS)
    return gself, gs
