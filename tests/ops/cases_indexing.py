"""Gradcheck cases for ops/indexing.py (getitem, masked_fill, gather, scatter_add), including
repeated indices, bool masks, negative dims, and the functions built on them (index_select,
split/chunk/unbind, topk, sort)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.ops import indexing as I
from tests.ops.harness import broadcast_pair, case, shapes, values


def _rng(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


@case("getitem")
def _basic(draw):
    shape = draw(shapes(2, 3, min_side=2, max_side=4))
    i = draw(st.integers(-shape[0], shape[0] - 1))
    step = draw(st.sampled_from([1, 2, 3]))  # PyTorch refuses steps below 1
    key = draw(
        st.sampled_from(
            [
                (i,),
                (slice(None, None, step),),
                (None, Ellipsis, slice(1, None)),
                (slice(None), None, slice(None, None, step)),
                (Ellipsis, i % shape[-1]),
            ]
        )
    )
    return (lambda a: a[key]), (values(draw, shape),)


@case("getitem")
def _advanced_repeated(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=4))
    rng = _rng(draw)
    idx = rng.integers(-shape[0], shape[0], size=draw(st.integers(1, 6)))  # repeats and negatives
    kind = draw(st.sampled_from(["list", "tensor", "array"]))
    key = idx.tolist() if kind == "list" else gg.tensor(idx) if kind == "tensor" else idx
    return (lambda a: a[key]), (values(draw, shape),)


@case("getitem")
def _two_advanced_broadcast(draw):
    shape = draw(shapes(2, 3, min_side=1, max_side=4))
    rng = _rng(draw)
    i0 = rng.integers(0, shape[0], size=(3, 1))
    i1 = rng.integers(0, shape[1], size=(1, 2))
    key = draw(st.sampled_from([(i0, i1), (i0, slice(None), None) if len(shape) == 2 else (i0, i1, 0)]))
    return (lambda a: a[key]), (values(draw, shape),)


@case("getitem")
def _bool_mask(draw):
    shape = draw(shapes(1, 3))
    mask = _rng(draw).random(shape) > 0.5
    key = gg.tensor(mask) if draw(st.booleans()) else mask
    return (lambda a: a[key]), (values(draw, shape),)


@case("getitem")
def _row_mask_and_index_select(draw):
    shape = draw(shapes(2, 3, min_side=1, max_side=4))
    rng = _rng(draw)
    row_mask = rng.random(shape[0]) > 0.4
    masked = (int(row_mask.sum()), *shape[1:])
    d = draw(st.integers(-len(shape), len(shape) - 1))
    idx = rng.integers(0, masked[d], size=draw(st.integers(0, 5)) if masked[d] else 0)
    return (lambda a: I.index_select(a[row_mask], d, gg.tensor(idx))), (values(draw, shape),)


@case("masked_fill")
def _masked_fill(draw):
    sx, sm = draw(broadcast_pair())
    mask = values(draw, sm) > 0
    value = draw(st.sampled_from([0.0, -1e9, 3.5]))
    return (lambda a: a.masked_fill(gg.tensor(mask), value)), (values(draw, sx),)


@case("gather")
def _gather(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=4))
    d = draw(st.integers(-len(shape), len(shape) - 1))
    rng = _rng(draw)
    ishape = tuple(
        draw(st.integers(1, 5)) if k == d % len(shape) else draw(st.integers(1, s))
        for k, s in enumerate(shape)
    )
    index = rng.integers(0, shape[d], size=ishape)  # repeats likely
    return (lambda a: a.gather(d, gg.tensor(index))), (values(draw, shape),)


@case("gather")
def _topk_sort(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=5))
    d = draw(st.integers(-len(shape), len(shape) - 1))
    k = draw(st.integers(0, shape[d]))
    largest = draw(st.booleans())
    x = values(draw, shape) + np.arange(np.prod(shape)).reshape(shape) * 1e-3  # no near-ties

    def fn(a):
        v, _ = a.topk(k, d, largest=largest)
        s = a.sort(d, descending=not largest).values
        return v * 2.0, s * 3.0

    return fn, (x,)


@case("scatter_add")
def _scatter_add(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=4))
    d = draw(st.integers(-len(shape), len(shape) - 1))
    rng = _rng(draw)
    ishape = tuple(
        draw(st.integers(1, 5)) if k == d % len(shape) else draw(st.integers(1, s))
        for k, s in enumerate(shape)
    )
    sshape = tuple(i + draw(st.integers(0, 1)) for i in ishape)  # src may be larger than index
    index = rng.integers(0, shape[d], size=ishape)
    fn = lambda x, src: I.scatter_add(x * 2.0, d, gg.tensor(index), src)  # noqa: E731
    return fn, (values(draw, shape), values(draw, sshape))


@case("scatter")
def _scatter(draw):
    from glassgrad.ops.scatter import scatter

    shape = draw(shapes(1, 3, min_side=2, max_side=4))
    d = draw(st.integers(0, len(shape) - 1))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # distinct indices along d (a permutation prefix per position), so the write is well defined
    k = draw(st.integers(1, shape[d]))
    perm = np.argsort(rng.random(shape), axis=d)
    index = np.take(perm, np.arange(k), axis=d)
    src_shape = tuple(index.shape)
    return (lambda a, s, i: scatter(a, d, i, s)), (values(draw, shape), values(draw, src_shape), index)
