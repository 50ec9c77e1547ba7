"""Gradcheck cases for ops/movement.py (reshape, permute, expand, repeat, flip, roll, tril, triu),
ops/joining.py (cat, stack) and ops/padding.py (pad, index_pad). Every function that is built on one of these primitives (squeeze,
flatten, transpose, split, ...) is exercised here too."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.ops import joining as J
from glassgrad.ops import movement as V
from glassgrad.ops import padding as P
from tests.ops.harness import case, shapes, values


def _dim(draw, ndim: int) -> int:
    """A dim of an ndim-tensor, negative half the time."""
    d = draw(st.integers(0, max(ndim - 1, 0)))
    return d - max(ndim, 1) if draw(st.booleans()) else d


@case("reshape")
def _reshape(draw):
    shape = draw(shapes(0, 3))
    n = math.prod(shape)
    div = [k for k in range(1, n + 1) if n % k == 0]
    k = draw(st.sampled_from(div))
    target = draw(st.sampled_from([(k, -1), (-1, k), (n,), (1, k, n // k), shape[::-1]]))
    return (lambda a: a.reshape(target)), (values(draw, shape),)


@case("reshape")
def _squeeze_unsqueeze_flatten(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=3))
    d = _dim(draw, len(shape))
    u = draw(st.integers(-len(shape) - 1, len(shape)))
    s, e = sorted((draw(st.integers(0, len(shape) - 1)), draw(st.integers(0, len(shape) - 1))))

    def fn(a):
        b = a.unsqueeze(u).squeeze(u).squeeze(d).squeeze()
        c = a.flatten(s, e).unflatten(s, a.shape[s : e + 1])
        return b.reshape(-1) * (c.reshape(-1) + 1.0)

    return fn, (values(draw, shape),)


@case("permute")
def _permute(draw):
    shape = draw(shapes(0, 4, max_side=3))
    perm = draw(st.permutations(range(len(shape))))
    neg = tuple(p - len(shape) if draw(st.booleans()) else p for p in perm)
    return (lambda a: a.permute(*neg) * 3.0), (values(draw, shape),)


@case("permute")
def _transposes(draw):
    shape = draw(shapes(2, 4, max_side=3))
    d0, d1 = _dim(draw, len(shape)), _dim(draw, len(shape))
    return (lambda a: (a.transpose(d0, d1).mT * 2.0, a.T * 3.0)), (values(draw, shape),)


@case("permute")
def _t(draw):
    shape = draw(shapes(0, 2))
    return (lambda a: V.t(a)), (values(draw, shape),)


@case("expand")
def _expand(draw):
    full = draw(shapes(0, 3))
    small = tuple(1 if draw(st.booleans()) else s for s in full)  # size-1 dims may grow
    lead = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2))))  # new leading dims
    sizes = lead + tuple(-1 if s == f and draw(st.booleans()) else f for s, f in zip(small, full))
    return (lambda a: a.expand(*sizes) * 1.5), (values(draw, small),)


@case("repeat")
def _repeat(draw):
    shape = draw(shapes(0, 3, max_side=3))
    extra = draw(st.integers(0, 1))
    sizes = tuple(draw(st.integers(1, 3)) for _ in range(len(shape) + extra))
    return (lambda a: a.repeat(*sizes)), (values(draw, shape),)


@case("flip")
def _flip(draw):
    shape = draw(shapes(1, 3))
    dims = draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))
    dims = tuple(d - len(shape) if draw(st.booleans()) else d for d in dims)
    return (lambda a: a.flip(dims)), (values(draw, shape),)


@case("roll")
def _roll(draw):
    shape = draw(shapes(1, 3))
    if draw(st.booleans()):
        shift = draw(st.integers(-7, 7))
        return (lambda a: a.roll(shift)), (values(draw, shape),)
    dims = tuple(
        draw(st.sets(st.integers(-len(shape), len(shape) - 1).map(lambda d: d % len(shape)), min_size=1))
    )
    shifts = tuple(draw(st.integers(-5, 5)) for _ in dims)
    return (lambda a: a.roll(shifts, dims)), (values(draw, shape),)


@case("tril")
def _tril(draw):
    shape = draw(shapes(2, 3))
    k = draw(st.integers(-2, 2))
    return (lambda a: a.tril(k)), (values(draw, shape),)


@case("triu")
def _triu(draw):
    shape = draw(shapes(2, 3))
    k = draw(st.integers(-2, 2))
    return (lambda a: V.triu(a, k)), (values(draw, shape),)


@case("cat")
def _cat(draw):
    shape = draw(shapes(1, 3))
    d = _dim(draw, len(shape))
    n = draw(st.integers(1, 3))
    arrays = []
    for _ in range(n):
        s = list(shape)
        s[d] = draw(st.integers(0, 3))
        arrays.append(values(draw, tuple(s)))
    return (lambda *ts: J.cat([t * (i + 1.0) for i, t in enumerate(ts)], d)), tuple(arrays)


@case("cat")
def _split_chunk_roundtrip(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=5))
    d = _dim(draw, len(shape))
    size = draw(st.integers(1, 4))
    chunks = draw(st.integers(1, 4))

    def fn(a):
        parts = a.split(size, d)
        parts = [p * (i + 1.0) for i, p in enumerate(parts)]
        pieces = J.cat(parts, d).chunk(chunks, d)
        return J.cat([p * (i + 2.0) for i, p in enumerate(pieces)], d)

    return fn, (values(draw, shape),)


@case("stack")
def _stack(draw):
    shape = draw(shapes(0, 3))
    d = draw(st.integers(-len(shape) - 1, len(shape)))
    n = draw(st.integers(1, 3))
    arrays = tuple(values(draw, shape) for _ in range(n))
    return (lambda *ts: J.stack(ts, d)), arrays


@case("stack")
def _unbind_stack(draw):
    shape = draw(shapes(1, 3))
    d = _dim(draw, len(shape))
    return (lambda a: J.stack(a.unbind(d)[::-1], d)), (values(draw, shape),)


@case("pad")
def _pad_constant(draw):
    shape = draw(shapes(1, 3, min_side=2, max_side=4))
    k = draw(st.integers(1, len(shape)))
    pads = []
    for i in range(k):
        n = shape[len(shape) - 1 - i]
        lo = draw(st.integers(-(n // 2), 2))
        hi = draw(st.integers(-(n // 2), 2))
        pads += [lo, hi]
    value = draw(st.floats(-2, 2))
    return (lambda a: P.pad(a, tuple(pads), value=value)), (values(draw, shape),)


@case("index_pad")
def _pad_index(draw):
    shape = draw(shapes(1, 3, min_side=2, max_side=4))
    mode = draw(st.sampled_from(["reflect", "replicate", "circular"]))
    k = draw(st.integers(1, len(shape)))
    pads = []
    for i in range(k):
        n = shape[len(shape) - 1 - i]
        limit = n - 1 if mode == "reflect" else n if mode == "circular" else 3
        pads += [draw(st.integers(0, limit)), draw(st.integers(0, limit))]
    return (lambda a: P.pad(a, tuple(pads), mode=mode)), (values(draw, shape),)


@case("expand")
def _expand_as_and_broadcast_to(draw):
    shape = draw(shapes(1, 3, max_side=3))
    target = (2, *shape)
    return (lambda a: a.broadcast_to(target) * gg.tensor(np.ones(target))), (values(draw, shape),)


@case("diagonal")
def _diagonal(draw):
    shape = draw(shapes(2, 4, min_side=1, max_side=4))
    d1, d2 = draw(
        st.lists(st.integers(-len(shape), len(shape) - 1), min_size=2, max_size=2).filter(
            lambda ds: ds[0] % len(shape) != ds[1] % len(shape)
        )
    )
    offset = draw(st.integers(-3, 3))
    return (lambda a: a.diagonal(offset, d1, d2) * 2.0), (values(draw, shape),)
