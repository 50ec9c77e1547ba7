"""Gradcheck cases for ops/reduce.py, ops/extremes.py and ops/statistics.py: every dim form (None,
int, negative, tuple) with and without keepdim, on hypothesis-drawn shapes, kept away from ties and
kinks."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from tests.ops.harness import broadcast_pair, case, distinct_values, shapes, values


@st.composite
def dims(draw, ndim: int, tuples: bool = True, none: bool = True):
    """A PyTorch ``dim`` for an ndim-d tensor: None (unless ``none`` is False: logsumexp refuses
    it, as PyTorch's), an int (either sign) or a tuple of ints."""
    kinds = ["none"] * none + ["int"] + (["tuple"] if tuples and ndim else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(d - ndim if draw(st.booleans()) else d for d in picked)  # mix of signs


def _reduced_count(shape: tuple, dim) -> int:
    if dim is None or not shape:
        return int(np.prod(shape))
    ds = (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[d] for d in ds]))


def _reduction(method: str, low: float = -2.0, high: float = 2.0, tuples: bool = True):
    def draw_case(draw):
        shape = draw(shapes())
        dim, keep = draw(dims(len(shape), tuples, method != "logsumexp")), draw(st.booleans())
        draw_values = distinct_values if method in ("amax", "amin") else values
        return (lambda a: getattr(a, method)(dim, keep)), (draw_values(draw, shape, low, high),)

    return draw_case


case("sum")(_reduction("sum"))
case("mean")(_reduction("mean"))
case("amax")(_reduction("amax"))
case("amin")(_reduction("amin"))
case("logsumexp")(_reduction("logsumexp", -5.0, 5.0))


@case("sum")
@case("mean")
def _of_broadcast(draw):
    """A reduction of a broadcast product: the engine unbroadcasts what backward expands."""
    sa, sb = draw(broadcast_pair())
    out_ndim = max(len(sa), len(sb))
    dim, keep = draw(dims(out_ndim)), draw(st.booleans())
    method = draw(st.sampled_from(["sum", "mean"]))
    return (lambda a, b: getattr(a * b, method)(dim, keep)), (values(draw, sa), values(draw, sb))


@case("var")
@case("std")
def _moments(draw):
    shape = draw(shapes())
    dim, keep = draw(dims(len(shape))), draw(st.booleans())
    correction = draw(st.sampled_from([0, 1, 2]))
    if _reduced_count(shape, dim) <= correction:  # no degrees of freedom left: inf/nan
        correction = 0
    method = draw(st.sampled_from(["var", "std"]))
    return (lambda a: getattr(a, method)(dim, keepdim=keep, correction=correction)), (values(draw, shape),)


@case("prod")
def _prod(draw):
    shape = draw(shapes())
    dim, keep = draw(dims(len(shape))), draw(st.booleans())
    x = np.asarray(values(draw, shape, 0.5, 1.5) * np.where(values(draw, shape) > 0, 1.0, -1.0))
    if x.size and draw(st.booleans()):  # an exact zero: the prefix/suffix products must handle it
        x.reshape(-1)[draw(st.integers(0, x.size - 1))] = 0.0
    return (lambda a: a.prod(dim, keep)), (x,)


@case("maxmin_dim")
def _max_dim(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    keep, method = draw(st.booleans()), draw(st.sampled_from(["max", "min"]))
    # distinct values: a near-tie closer than the finite-difference step splits the numeric gradient
    return (lambda a: getattr(a, method)(dim, keep).values), (distinct_values(draw, shape),)


@case("amax")
@case("amin")
def _full_max(draw):
    """max()/min() with no dim: the 0-d result of a full reduction."""
    method = draw(st.sampled_from(["max", "min"]))
    return (lambda a: getattr(a, method)()), (distinct_values(draw, draw(shapes(min_side=1))),)


@case("norm")
def _norm(draw):
    shape = draw(shapes())
    dim, keep = draw(dims(len(shape))), draw(st.booleans())
    p = draw(st.sampled_from([2, 1, 3, 0.5, 0, float("inf"), float("-inf")]))
    # away from 0: |x| has a kink there (p = 1, p < 1, ±inf)
    return (lambda a: a.norm(p, dim, keep)), (values(draw, shape, away=0.1),)


@case("cumsum")
def _cumsum(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return (lambda a: a.cumsum(dim)), (values(draw, shape),)


@case("sum")
def _sum_to_dtype(draw):
    """sum(dtype=...) naming the dtype the input already has: no cast, the plain Sum."""
    x = values(draw, draw(shapes()))
    return (lambda a: gg.ops.reduce.sum(a, None, False, dtype=gg.float64)), (x,)
