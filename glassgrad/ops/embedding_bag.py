"""The ``embedding_bag`` primitive: look up rows of a table and reduce them per bag (sum, mean, max).

The ids arrive flat, with the bag of each (bags are contiguous runs, so the bag numbers never
decrease) and ``padding_idx`` entries already dropped. The forward is one gather and one
``reduceat`` over the runs (no loop over bags or ids); an empty bag gives zeros, as in PyTorch.

    sum:  out[b] = sum_(i in b) w_i * W[id_i]      (w_i the per-sample weights, else 1)
    mean: out[b] = sum_(i in b) W[id_i] / |b|
    max:  out[b, d] = max_(i in b) W[id_i, d]      (first maximum on ties; NaN only as b's first entry)

VJP: each id's row receives its bag's gradient (times w_i; divided by |b| for the mean; for max,
only the row that held each column's maximum), scatter-added since an id may repeat;
``dw_i = <g[b], W[id_i]>``. With ``sparse`` (sum and mean) the table's gradient is handed on as
``SparseRows``, one row per kept id (autograd/sparse_grad.py). Backward is first-order only.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.sparse_grad import SparseRows
from glassgrad.backend import array_module
from glassgrad.ops.embedding import NO_FREQ
from glassgrad.ops.grid_positions import reduce_positions
from glassgrad.ops.indexing import _scatter_add_rows

__all__ = ["EmbeddingBag"]


def _runs(bags: Any) -> tuple[Any, Any]:
    """``(bag numbers that are not empty, index of each one's first entry)`` of the sorted ``bags``."""
    xp = array_module(bags)
    if not bags.size:
        return bags[:0], bags[:0]
    first = xp.flatnonzero(xp.concatenate([[True], bags[1:] != bags[:-1]]))
    return bags[first], first


class EmbeddingBag(Function):
    """out[b] = reduction over bag b of the rows ``weight[ids]`` (see the module docstring).

    Attributes ``ids``, ``bags`` (the kept entries, flat), ``keep`` (their positions in the input,
    to place per-sample-weight gradients), ``num_bags``, ``mode``, ``sparse`` and ``freq`` (None,
    or for ``scale_grad_by_freq`` the count of each kept id in the input, dividing its weight gradient);
    the forward adds ``arg`` (for max, the row of each bag's maximum per column, else None) and,
    for max, ``nonempty``.

    Shape:
        weight ``(num_embeddings, D)``, per_sample_weights ``(L,)`` or None -> ``(num_bags, D)``.
    """

    name = "embedding_bag"

    @staticmethod
    def forward(
        ctx,
        weight,
        per_sample_weights,
        ids=None,
        bags=None,
        keep=None,
        num_bags=0,
        mode="mean",
        freq=None,
        sparse=False,
    ):
        xp = array_module(weight)
        dim = weight.shape[1]
        rows = weight[ids]  # (M, D)
        half = weight.dtype == xp.float16 and mode != "max"
        if half:  # PyTorch's CPU kernel (fbgemm) sums float16 rows in float32 and rounds once
            rows = rows.astype(xp.float32)
        if per_sample_weights is not None:  # mode "sum" only
            ctx.save_for_backward(weight, per_sample_weights)
            rows = rows * per_sample_weights[keep][:, None].astype(rows.dtype, copy=False)
        out = xp.zeros((num_bags, dim), dtype=rows.dtype)
        nonempty, first = _runs(bags)
        ctx.attrs["arg"] = None
        if not len(first):
            return out
        if mode == "max":
            # PyTorch keeps a bag's first entry and replaces it only by a strictly greater one:
            # a NaN wins only as the first entry, later NaNs are skipped (fmax)
            best = xp.fmax.reduceat(rows, first, axis=0)  # (U, D)
            # the first row of each bag holding the column's maximum: the smallest such position
            pos = xp.where(
                rows == best[xp.searchsorted(nonempty, bags)], xp.arange(len(rows))[:, None], len(rows)
            )
            winner = xp.minimum.reduceat(pos, first, axis=0)  # (U, D) rows of ``rows``
            winner = xp.where(xp.isnan(rows[first]), first[:, None], winner)  # a NaN first entry stays
            out[nonempty] = xp.take_along_axis(rows, winner, axis=0)  # the winners' values (NaN, -0.0)
            ctx.attrs["arg"], ctx.attrs["nonempty"] = ids[winner], nonempty
            return out
        out[nonempty] = xp.add.reduceat(rows, first, axis=0)
        if mode == "mean":
            out /= xp.maximum(xp.bincount(bags, minlength=num_bags), 1)[:, None].astype(out.dtype)
        return out.astype(weight.dtype) if half else out

    @staticmethod
    def backward(ctx, g):
        a = ctx.attrs
        xp = array_module(g)
        ids, bags, mode = a["ids"], a["bags"], a["mode"]
        shape = ctx.shapes[0]
        dw = dpsw = None
        if mode == "max":
            if ctx.needs_input_grad[0]:
                dw = xp.zeros(shape, dtype=g.dtype)
                if a["arg"] is not None:  # (flat positions: one 1-D add.at, NumPy's fast path)
                    pos = a["arg"] * shape[1] + xp.arange(shape[1])
                    reduce_positions(xp.add, dw, pos, g[a["nonempty"]])
            return dw, None
        gb = g[bags]  # (M, D): each entry's bag gradient
        if mode == "mean":
            counts = xp.bincount(bags, minlength=a["num_bags"])
            gb = gb / counts[bags][:, None].astype(g.dtype)
        weight, psw = ctx.saved if ctx.saved else (None, None)
        if ctx.needs_input_grad[1]:
            dpsw = xp.zeros(ctx.shapes[1], dtype=g.dtype)
            dpsw[a["keep"]] = (gb * weight[ids]).sum(axis=1)
        if ctx.needs_input_grad[0]:
            rows = gb if psw is None else gb * psw[a["keep"]][:, None]
            if a.get("freq") is not None and a.get("sparse"):
                raise RuntimeError(NO_FREQ)
            if a.get("freq") is not None:  # scale_grad_by_freq: each entry's share / its id's count
                rows = rows / a["freq"][:, None].astype(g.dtype)
            if a.get("sparse"):
                return SparseRows(ids, rows, shape), dpsw  # (M,) kept ids, (M, D) their rows
            dw = xp.zeros(shape, dtype=g.dtype)
            _scatter_add_rows(dw, ids, rows)  # (add.at's sums in its order, a sort and segment sums)
        return dw, dpsw
