"""Recorded VJP rules (``autograd/recorded.py``) of the elementwise, unary and reduction ops.

Each rule is its op's ``backward`` written again with Tensor ops, so that the gradient it returns
has a graph (``create_graph=True``). ``x``, ``y`` and ``g`` are Tensors: an input, the op's output
and the output's gradient.
"""

from __future__ import annotations

import math

from glassgrad.autograd.recorded import constant, operand, output, rule, saved

__all__: list[str] = []


@rule("add")
def _add(ctx, g):
    return g, g


@rule("sub")
def _sub(ctx, g):
    return g, (-g if ctx.needs_input_grad[1] else None)


@rule("mul")
def _mul(ctx, g):
    a, b = saved(ctx)
    need = ctx.needs_input_grad
    ga = g * operand(ctx, 1, b) if need[0] else None
    gb = g * operand(ctx, 0, a) if need[1] else None
    return ga, gb


@rule("tanh")
def _tanh(ctx, g):
    """g (1 - y^2), valued as the op's backward, (1 - y)(1 + y) (1 - y is exact as |y| -> 1), but
    differentiated as 1 - y^2 (-2 y g, PyTorch's): the product's own derivative (1 - y) - (1 + y)
    keeps both roundings, all of the result at small y (tanh''(1e-8) was 5e-10 off, 0 at 1e-300).
    The constant is exact (Sterbenz: both are 1 - y^2 within a factor of 2), so the sum is the product."""
    (y,) = saved(ctx)
    fix = (1 - y) * (1 + y) - (1 - y * y)
    y = output(ctx, y)
    return g * ((1 - y * y) + constant(fix))


def _kept_shape(shape: tuple, axis, keepdims: bool) -> tuple:
    """``shape`` with the reduced axes as 1: the shape a reduction's gradient is reshaped to."""
    n = len(shape)
    axes = range(n) if axis is None else [a % n for a in ((axis,) if isinstance(axis, int) else axis)]
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


@rule("sum")
def _sum(ctx, g):
    a, shape = ctx.attrs, ctx.shapes[0]
    return g.reshape(_kept_shape(shape, a.get("axis"), a.get("keepdims", False))).expand(shape)


@rule("mean")
def _mean(ctx, g):
    a, shape = ctx.attrs, ctx.shapes[0]
    kept = _kept_shape(shape, a.get("axis"), a.get("keepdims", False))
    n = max(1, math.prod(shape) // max(1, math.prod(kept)))
    return g.reshape(kept).expand(shape) / n


@rule("sample_node")
def _sample_node(ctx, g):
    """0 for each parameter of a sampler (``normal``, ``bernoulli``, ``poisson``), as its backward:
    PyTorch's ``NormalBackward*`` give zeros there under ``create_graph`` too, with no graph."""
    zeros = constant(g._data * 0)  # (g's shape; the engine unbroadcasts to each parameter's)
    return (None, *[zeros] * (len(ctx.next) - 1))
