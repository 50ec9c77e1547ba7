"""Gradcheck cases for ops/indexing_more.py (index_add, index_copy, index_put, masked_scatter,
scatter_reduce), ops/movement_more.py (diag_embed, tensor_unfold), ops/products_more.py (cdist),
ops/dist.py (dist) and linalg_more.py's matrix norms (svd_s), on hypothesis-drawn shapes with
repeated indices and negative dims; plus the compositions built on other primitives (take_along_dim, tensordot, rot90 ...)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from tests.ops.harness import case, shapes, values


def _rng(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def _dim(draw, nd: int) -> int:
    return draw(st.integers(-nd, nd - 1))


@case("index_add")
def _index_add(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=4))
    d = _dim(draw, len(shape))
    idx = _rng(draw).integers(0, shape[d], size=draw(st.integers(0, 5)))  # repeats likely
    src = list(shape)
    src[d] = idx.size
    alpha = draw(st.sampled_from([1, -0.5, 2.0]))
    return (lambda x, s: x.index_add(d, gg.tensor(idx), s, alpha=alpha)), (
        values(draw, shape),
        values(draw, tuple(src)),
    )


@case("index_copy")
def _index_copy(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=4))
    d = _dim(draw, len(shape))
    rng = _rng(draw)
    idx = rng.permutation(shape[d])[: draw(st.integers(0, shape[d]))]  # distinct: the forward is defined
    src = list(shape)
    src[d] = idx.size
    return (lambda x, s: x.index_copy(d, gg.tensor(idx), s)), (values(draw, shape), values(draw, tuple(src)))


@case("index_put")
def _index_put(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=4))
    rng = _rng(draw)
    k = draw(st.integers(1, len(shape)))
    n = draw(st.integers(1, 4))
    accumulate = draw(st.booleans())
    if accumulate:  # repeated positions add up
        idx = tuple(rng.integers(-s, s, size=n) for s in shape[:k])
    else:  # distinct positions: the written value is defined
        flat = rng.permutation(int(np.prod(shape[:k])))[:n]
        idx = np.unravel_index(flat, shape[:k])
    vshape = (len(idx[0]), *shape[k:])
    vshape = vshape[draw(st.integers(0, len(vshape))) :]  # values broadcast
    return (
        lambda x, v: x.index_put(tuple(gg.tensor(i) for i in idx), v, accumulate=accumulate),
        (values(draw, shape), values(draw, vshape)),
    )


@case("masked_scatter")
def _masked_scatter(draw):
    shape = draw(shapes(0, 3))
    mask = _rng(draw).random(shape) > 0.5
    mshape = mask.shape[draw(st.integers(0, mask.ndim)) :]  # mask broadcast over leading dims
    mask = mask[(0,) * (mask.ndim - len(mshape))]
    extra = draw(st.integers(0, 3))
    src = (int(np.broadcast_to(mask, shape).sum()) + extra,)
    return (lambda x, s: x.masked_scatter(gg.tensor(mask), s)), (values(draw, shape), values(draw, src))


@case("scatter_reduce")
def _scatter_reduce(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=4))
    d = _dim(draw, len(shape))
    rng = _rng(draw)
    ishape = tuple(
        draw(st.integers(1, 5)) if k == d % len(shape) else draw(st.integers(1, s))
        for k, s in enumerate(shape)
    )
    index = rng.integers(0, shape[d], size=ishape)  # repeats likely
    reduce = draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"]))
    inc = draw(st.booleans())
    # distinct values away from 0 (no ties, no zero products): the op is differentiable there.
    # One draw for both, then one ramp over both: hypothesis shrinks to equal draws, and two ramps
    # of their own left x[0] == src[0] (an amax tie, whose gradient PyTorch splits in half)
    nx, ns = int(np.prod(shape)), int(np.prod(ishape))
    both = values(draw, (nx + ns,), away=0.3) + np.arange(nx + ns) * 1e-2
    x, src = both[:nx].reshape(shape), both[nx:].reshape(ishape)
    return (lambda a, s: a.scatter_reduce(d, gg.tensor(index), s, reduce, include_self=inc)), (x, src)


@case("diag_embed")
def _diag_embed(draw):
    shape = draw(shapes(1, 3))
    nd = len(shape) + 1
    d1, d2 = draw(
        st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2).filter(lambda p: p[0] % nd != p[1] % nd)
    )
    offset = draw(st.integers(-2, 2))
    return (lambda a: a.diag_embed(offset, d1, d2)), (values(draw, shape),)


@case("diag_embed")
def _diagflat(draw):
    offset = draw(st.integers(-2, 2))
    return (lambda a: gg.diagflat(a, offset)), (values(draw, draw(shapes(0, 2))),)


@case("tensor_unfold")
def _unfold(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=6))
    d = _dim(draw, len(shape))
    size = draw(st.integers(0, shape[d]))
    step = draw(st.integers(1, 3))
    return (lambda a: a.unfold(d, size, step)), (values(draw, shape),)


@case("cdist")
def _cdist(draw):
    batch = draw(shapes(0, 2, max_side=3))
    m = draw(st.integers(1, 3))
    p = draw(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf]))
    x1 = values(draw, (*batch, draw(st.integers(1, 4)), m))
    x2 = values(draw, (*batch[draw(st.integers(0, len(batch))) :], draw(st.integers(1, 4)), m))
    if p in (1.0, math.inf):  # kinks where differences are 0 or |d| tie: keep them apart
        x1 = x1 + np.arange(x1.size).reshape(x1.shape) * 0.37
    return (lambda a, b: gg.cdist(a, b, p)), (x1, x2)


@case("dist")
def _dist(draw):
    shape = draw(shapes(0, 3, max_side=3))
    other = shape[draw(st.integers(0, len(shape))) :]  # broadcast against a trailing part
    p = draw(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, -1.0, math.inf, -math.inf]))
    x2 = values(draw, other)
    # differences of distinct sizes, none near 0: the kinks of p = 1, +-inf (ties) and p < 1 (d = 0)
    steps = (np.arange(math.prod(shape)) + 1.0).reshape(shape) * 0.37
    x1 = np.asarray(x2 + steps * np.where(values(draw, shape) > 0, 1.0, -1.0))
    return (lambda a, b: gg.dist(a, b, p)), (x1, x2)


@case("svd_s")  # matrix_norm's nuclear and 2-norms take the singular values
def _matrix_norm(draw):
    shape = (*draw(shapes(0, 1, max_side=3)), draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    ord = draw(st.sampled_from(["nuc", 2, -2]))
    return (lambda a: gg.linalg.matrix_norm(a, ord)), (values(draw, shape),)


# ------------------------------------------------------------------ compositions over other primitives
@case("gather")
def _take_along_dim(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=4))
    d = _dim(draw, len(shape))
    ishape = [1 if draw(st.booleans()) else s for s in shape]
    ishape[d] = draw(st.integers(0, 4))
    idx = _rng(draw).integers(-shape[d], shape[d], size=ishape)
    return (lambda a: gg.take_along_dim(a, gg.tensor(idx), d)), (values(draw, shape),)


@case("getitem")
def _take_split_diff(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=5))
    rng = _rng(draw)
    idx = rng.integers(-int(np.prod(shape)), int(np.prod(shape)), size=(2, 3))
    d = _dim(draw, len(shape))
    sections = draw(st.sampled_from([2, 3, [1, 3], [3, 1]]))
    n = draw(st.integers(1, 3))
    return (lambda a: (a.take(gg.tensor(idx)), *a.tensor_split(sections, d), a.diff(n, d))), (
        values(draw, shape),
    )


@case("einsum")
def _tensordot_inner(draw):
    a, b = values(draw, (2, 3, 4)), values(draw, (4, 3, 2))
    dims = draw(st.sampled_from([1, ([1, 2], [1, 0]), ([0], [2])]))
    return (lambda x, y: (gg.tensordot(x, y, dims), gg.inner(x, y.permute(2, 1, 0)))), (a, b)


@case("permute")
def _rot90(draw):
    k = draw(st.integers(-4, 4))
    dims = draw(st.sampled_from([(0, 1), (-1, 0), (1, 2)]))
    return (lambda a: gg.rot90(a, k, dims)), (values(draw, draw(shapes(3, 3))),)


@case("mul")
def _kron_addr(draw):
    a, b = values(draw, draw(shapes(0, 2))), values(draw, draw(shapes(0, 3)))
    i, v, w = values(draw, (1, 3)), values(draw, (2,)), values(draw, (3,))
    return (lambda x, y, p, q, r: (gg.kron(x, y), gg.addr(p, q, r, beta=0.5, alpha=2.0))), (a, b, i, v, w)


@case("matmul")
def _multi_dot_addbmm(draw):
    ms = [values(draw, (3,)), values(draw, (3, 2)), values(draw, (2, 4))]
    i, b1, b2 = values(draw, (2, 4)), values(draw, (3, 2, 5)), values(draw, (3, 5, 4))
    return (
        lambda x, y, z, p, q, r: (gg.linalg.multi_dot([x, y, z]), gg.addbmm(p, q, r, alpha=0.5)),
        (*ms, i, b1, b2),
    )


@case("norm")
def _norms_cross(draw):
    x = values(draw, (2, 3, 3), away=0.2)
    ord = draw(st.sampled_from(["fro", 1, -1, math.inf, -math.inf]))
    p = draw(st.sampled_from([1.5, 2, 3]))
    return (
        lambda a, b: (
            gg.linalg.matrix_norm(a, ord),
            gg.linalg.vector_norm(a, p, -1),
            gg.linalg.cross(a, b, dim=1),
        ),
        (x + np.arange(18).reshape(2, 3, 3) * 0.05, values(draw, (1, 3, 3))),
    )
