"""Recorded VJP rules (``autograd/recorded.py``) of the sparse COO ops: each is linear in the
stored values, so its rule is a gather (a ``getitem`` of g) or the transposed product, written
with the ops themselves and differentiable again."""

from __future__ import annotations

from glassgrad.autograd.recorded import constant, operand, rule, saved
from glassgrad.ops.sparse import SparseMM

__all__: list[str] = []


@rule("sparse_to_dense")
def _sparse_to_dense(ctx, g):
    """gv[i] = g[idx_i]."""
    return g[tuple(constant(i) for i in ctx.attrs["index"])]


@rule("sparse_coalesce")
def _sparse_coalesce(ctx, g):
    """gv[i] = g[inverse[i]]."""
    return g[constant(ctx.attrs["inverse"])]


@rule("sparse_mm")
def _sparse_mm(ctx, g):
    """gv[i] = g[rows_i] . d[cols_i];  gd = S^T g (the product with rows and cols swapped)."""
    v, d = saved(ctx)
    rows, cols = ctx.attrs["rows"], ctx.attrs["cols"]
    need = ctx.needs_input_grad
    gv = (g[constant(rows)] * operand(ctx, 1, d)[constant(cols)]).sum(dim=1) if need[0] else None
    gd = SparseMM.apply(operand(ctx, 0, v), g, rows=cols, cols=rows, m=d.shape[0]) if need[1] else None
    return gv, gd
