"""Double backward (create_graph=True) of the movement and indexing ops
(``glassgrad/autograd/recorded_rules_movement.py``).

Each case is one function ``f(lib, *xs)`` written once for glassgrad and PyTorch (``lib`` is the
module), run three ways: ``gradgradcheck`` of f itself (d/d(grad_output) of a linear op), of
``tanh(f(x))`` (the rule sits between two nonlinear parts, so d/dx runs through its graph), and the
second-order gradients of that composite against PyTorch's.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import grad, gradgradcheck

I = np.array  # index arrays, turned into each library's tensors by lib.tensor


def _t(lib, a):
    return lib.tensor(a)


# (id, f(lib, *xs), input shapes); every input is float64 and requires grad
CASES = [
    ("reshape", lambda L, x: x.reshape(6, 2), [(3, 4)]),
    ("reshape_0d", lambda L, x: x.reshape(1, 1), [()]),
    ("permute", lambda L, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("transpose", lambda L, x: x.transpose(0, 2), [(2, 1, 3)]),
    ("expand", lambda L, x: x.expand(2, 3, 4), [(3, 1)]),
    ("expand_0d", lambda L, x: x.expand(3, 2), [()]),
    ("getitem_int", lambda L, x: x[1], [(3, 4)]),
    ("getitem_ints_0d", lambda L, x: x[1, -2], [(3, 4)]),
    ("getitem_slices", lambda L, x: x[1:, ::2], [(3, 5)]),
    ("getitem_none_ellipsis", lambda L, x: x[None, ..., 1:3, None], [(2, 3, 4)]),
    ("getitem_mask", lambda L, x: x[_t(L, I([True, False, True]))], [(3, 2)]),
    ("getitem_mask_2d", lambda L, x: x[_t(L, I([[True, False], [True, True], [False, True]]))], [(3, 2)]),
    ("getitem_repeat", lambda L, x: x[[0, 2, 0, -1]], [(3, 2)]),
    ("getitem_2d_index", lambda L, x: x[_t(L, I([[0, 0], [1, 2]])), 1:], [(3, 3)]),
    ("getitem_two_arrays", lambda L, x: x[[0, 0, 2], [1, 1, 0]], [(3, 2)]),
    ("getitem_int_array_split", lambda L, x: x[1, :, [0, 2, 2]], [(2, 3, 4)]),
    ("getitem_separated", lambda L, x: x[[0, 1], :, [2, 2]], [(2, 3, 4)]),
    ("getitem_ellipsis_array", lambda L, x: x[..., [1, 1, 0]], [(2, 3)]),
    ("index_select", lambda L, x: x.index_select(1, _t(L, I([2, 0, 2]))), [(2, 3)]),
    ("narrow", lambda L, x: x.narrow(1, 1, 2), [(2, 4)]),
    ("cat", lambda L, x, y: L.cat([x, y, x], 1), [(2, 3), (2, 1)]),
    ("stack", lambda L, x, y: L.stack([x, y], 1), [(2, 3), (2, 3)]),
    ("split", lambda L, x: x.split(2, 1), [(2, 5)]),
    ("split_sizes", lambda L, x: x.split([1, 3], 0)[1], [(4, 2)]),
    ("chunk", lambda L, x: x.chunk(2, 0), [(3, 2)]),
    ("unbind", lambda L, x: x.unbind(1), [(2, 3)]),
    ("flip", lambda L, x: x.flip((0, 2)), [(2, 3, 2)]),
    ("roll", lambda L, x: x.roll((1, -2), (0, 1)), [(3, 4)]),
    ("roll_flat", lambda L, x: x.roll(5), [(3, 4)]),
    ("repeat", lambda L, x: x.repeat(2, 1, 3), [(2, 2)]),
    ("tril", lambda L, x: x.tril(), [(2, 3, 4)]),
    ("tril_neg", lambda L, x: x.tril(-1), [(4, 3)]),
    ("triu", lambda L, x: x.triu(1), [(3, 4)]),
    ("diagonal", lambda L, x: x.diagonal(), [(3, 4)]),
    ("diagonal_offset_dims", lambda L, x: x.diagonal(-1, 2, 0), [(3, 2, 4)]),
    ("pad", lambda L, x: L.nn.functional.pad(x, (1, 2, 0, 1)), [(2, 3)]),
    ("pad_crop_value", lambda L, x: L.nn.functional.pad(x, (-1, 2), value=0.5), [(2, 4)]),
    ("pad_reflect", lambda L, x: L.nn.functional.pad(x, (2, 1), mode="reflect"), [(2, 4)]),
    ("pad_replicate", lambda L, x: L.nn.functional.pad(x, (1, 2, 2, 0), mode="replicate"), [(1, 2, 3)]),
    ("pad_circular", lambda L, x: L.nn.functional.pad(x, (2, 1), mode="circular"), [(1, 2, 3)]),
    ("gather", lambda L, x: x.gather(1, _t(L, I([[0, 0, 2], [1, 0, 1]]))), [(3, 3)]),
    ("gather_dim0", lambda L, x: x.gather(0, _t(L, I([[2, 0], [2, 2]]))), [(3, 2)]),
    ("masked_fill", lambda L, x: x.masked_fill(_t(L, I([True, False, True])), 2.0), [(2, 3)]),
    (
        "embedding",
        lambda L, w: L.nn.functional.embedding(_t(L, I([[0, 2], [2, 2]])), w),
        [(4, 3)],
    ),
    (
        "embedding_pad_freq",
        lambda L, w: L.nn.functional.embedding(
            _t(L, I([1, 0, 1, 3])), w, padding_idx=0, scale_grad_by_freq=True
        ),
        [(4, 2)],
    ),
    # group 2: the writes
    ("scatter_add", lambda L, x, s: x.scatter_add(1, _t(L, I([[0, 0], [2, 1]])), s), [(2, 3), (2, 2)]),
    ("scatter", lambda L, x, s: x.scatter(0, _t(L, I([[1, 0, 2]])), s), [(3, 3), (1, 3)]),
    ("scatter_value", lambda L, x: x.scatter(1, _t(L, I([[1], [0]])), 1.5), [(2, 3)]),
    ("index_add", lambda L, x, s: x.index_add(0, _t(L, I([2, 0, 2])), s, alpha=2.0), [(3, 2), (3, 2)]),
    ("index_copy", lambda L, x, s: x.index_copy(1, _t(L, I([2, 0])), s), [(2, 3), (2, 2)]),
    ("index_put", lambda L, x, v: x.index_put((_t(L, I([0, 2])), _t(L, I([1, 1]))), v), [(3, 2), (2,)]),
    (
        "index_put_acc",
        lambda L, x, v: x.index_put((_t(L, I([0, 0, 2])),), v, accumulate=True),
        [(3, 2), (2,)],
    ),
    ("masked_scatter", lambda L, x, s: x.masked_scatter(_t(L, I([[True, False, True]])), s), [(2, 3), (5,)]),
    ("diag_embed", lambda L, x: L.diag_embed(x, 1, 0, 2), [(2, 3)]),
    ("unfold", lambda L, x: x.unfold(1, 2, 1), [(2, 5)]),
    ("unfold_gap", lambda L, x: x.unfold(0, 2, 3), [(7, 2)]),
    ("cummax", lambda L, x: L.cummax(x, 1)[0], [(2, 4)]),
    ("take_along_dim", lambda L, x: L.take_along_dim(x, _t(L, I([[0, 1, 1]])), 1), [(2, 3)]),
    ("masked_select", lambda L, x: x.masked_select(_t(L, I([True, False, True]))), [(2, 3)]),
]

# src larger than index (its box): PyTorch's double backward refuses these shapes
GG_ONLY = [
    ("scatter_add_box", lambda L, x, s: x.scatter_add(1, _t(L, I([[0, 0], [2, 1]])), s), [(2, 3), (2, 3)]),
    ("scatter_box", lambda L, x, s: x.scatter(0, _t(L, I([[1, 0, 2]])), s), [(3, 3), (2, 4)]),
    ("gather_0d", lambda L, x: x.gather(0, _t(L, I(0))), [()]),
    ("scatter_add_0d", lambda L, x, s: x.scatter_add(0, _t(L, I(0)), s), [(), ()]),
]

REDUCE = [
    ("sum", True), ("sum", False), ("mean", True), ("mean", False), ("amax", True), ("amin", False),
    ("prod", True), ("prod", False),
]  # fmt: skip


def _setitem(L, x, v, key):
    y = x * 1.0
    y[key] = v
    return y


SETITEM = [
    ("basic", lambda L: (1, slice(None, None, 2)), [(3, 4), (2,)]),
    ("int_array", lambda L: ([0, 2, 0],), [(3, 2), (2,)]),
    ("mask", lambda L: _t(L, I([True, False, True])), [(3, 2), (1,)]),
    ("split_key", lambda L: (1, slice(None), [0, 2]), [(2, 3, 4), (3, 2)]),
]


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    # away from 0 and from each other: no ties for cummax, no zero for prod
    return [rng.uniform(0.5, 1.5, s) * rng.choice([-1, 1], s) for s in shapes]


def _outs(y):
    return tuple(y) if isinstance(y, tuple | list) else (y,)


def _composite(L, f):
    def h(*xs):
        return tuple(L.tanh(o) for o in _outs(f(L, *xs)))

    return h


def _gg(arrays):
    return [gg.tensor(a, dtype=gg.float64, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name,f,shapes", CASES + GG_ONLY, ids=[c[0] for c in CASES + GG_ONLY])
def test_gradgradcheck(name, f, shapes):
    xs = _gg(_inputs(shapes, 1))
    if name == "embedding_pad_freq":
        # its derivative in g is PyTorch's (unscaled), so only d/dweight (grad_outputs fixed) is the
        # derivative of the first-order gradient
        vs = [
            gg.tensor(np.random.default_rng(5).standard_normal(tuple(o.shape)))
            for o in _composite(gg, f)(*xs)
        ]
        assert gradgradcheck(_composite(gg, f), xs, vs)
        return
    assert gradgradcheck(lambda *xs: f(gg, *xs), _gg(_inputs(shapes)))
    assert gradgradcheck(_composite(gg, f), xs)


def _second_order(L, f, arrays, grad_fn, make):
    """(first-order gradients, second-order gradients of sum(g * w)) of tanh(f(xs)) with v."""
    xs = make(arrays)
    outs = _composite(L, f)(*xs)
    rng = np.random.default_rng(7)
    vs = make([rng.standard_normal(tuple(o.shape)) for o in outs])
    gs = grad_fn(outs, xs, vs, create_graph=True)
    total = sum((g * make([rng.standard_normal(tuple(g.shape))])[0].detach()).sum() for g in gs)
    return gs, grad_fn(total, xs + vs, allow_unused=True)


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
def test_torch_second_order(torch, name, f, shapes):
    arrays = _inputs(shapes, 2)

    def tmake(a):
        return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in a]

    g1, g2 = _second_order(gg, f, arrays, grad, _gg)
    t1, t2 = _second_order(torch, f, arrays, torch.autograd.grad, tmake)
    for a, b in zip(g1, t1):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(g2, t2):
        if b is None:
            assert a is None or not np.any(a.numpy())
        else:
            assert a is not None, name
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
def test_create_graph_first_order_matches_plain(name, f, shapes):
    xs = _gg(_inputs(shapes, 3))
    outs = _outs(f(gg, *xs))
    rng = np.random.default_rng(4)
    vs = [gg.tensor(rng.standard_normal(tuple(o.shape))) for o in outs]
    recorded = grad(outs, xs, vs, create_graph=True, allow_unused=True)
    plain = grad(_outs(f(gg, *xs)), xs, vs, allow_unused=True)
    for a, b in zip(recorded, plain):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("reduce,include_self", REDUCE)
def test_scatter_reduce(reduce, include_self):
    idx = gg.tensor(I([[0, 0, 2], [1, 1, 1]]))

    def f(x, s):
        return x.scatter_reduce(1, idx, s, reduce, include_self=include_self)

    shapes = [(2, 3), (2, 4)]
    assert gradgradcheck(f, _gg(_inputs(shapes)))
    assert gradgradcheck(lambda x, s: gg.tanh(f(x, s)), _gg(_inputs(shapes, 1)))


@pytest.mark.parametrize("reduce,include_self", REDUCE)
def test_scatter_reduce_torch(torch, reduce, include_self):
    def f(L, x, s):
        return x.scatter_reduce(1, _t(L, I([[0, 0, 2], [1, 1, 1]])), s, reduce, include_self=include_self)

    arrays = _inputs([(2, 3), (2, 3)], 2)  # (PyTorch's double backward refuses a src larger than index)

    def tmake(a):
        return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in a]

    g2 = _second_order(gg, f, arrays, grad, _gg)[1]
    t2 = _second_order(torch, f, arrays, torch.autograd.grad, tmake)[1]
    for a, b in zip(g2, t2):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("include_self", [True, False], ids=["self", "noself"])
def test_scatter_reduce_prod_with_zeros_gradgradcheck(include_self):
    # PyTorch's formula (autograd/recorded_rules_scatter.py): a 0 in x and one in src, each alone
    # in its place, and a place with a 0 from x and one from src
    x = gg.tensor([[1.0, 0.0, 2.0, 0.0]], dtype=gg.float64, requires_grad=True)
    s = gg.tensor([[3.0, 4.0, 0.0, 0.0, -1.5]], dtype=gg.float64, requires_grad=True)
    idx = gg.tensor([[1, 1, 2, 3, 0]])
    assert gradgradcheck(
        lambda x, s: gg.tanh(x.scatter_reduce(1, idx, s, "prod", include_self=include_self)), [x, s]
    )


def test_embedding_sparse_refused():
    w = gg.randn(4, 2, dtype=gg.float64, requires_grad=True)
    y = gg.nn.functional.embedding(gg.tensor([0, 1]), w, sparse=True)
    with pytest.raises(NotImplementedError, match="embedding.*sparse"):
        grad(y.sum(), w, create_graph=True)


@pytest.mark.parametrize("name,key,shapes", SETITEM, ids=[c[0] for c in SETITEM])
def test_setitem(torch, name, key, shapes):
    def f(L, x, v):
        return _setitem(L, x, v, key(L))

    assert gradgradcheck(lambda x, v: f(gg, x, v), _gg(_inputs(shapes)))
    arrays = _inputs(shapes, 2)

    def tmake(a):
        return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in a]

    g2 = _second_order(gg, f, arrays, grad, _gg)[1]
    t2 = _second_order(torch, f, arrays, torch.autograd.grad, tmake)[1]
    for a, b in zip(g2, t2):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_third_order_through_getitem(torch):
    # the rules' own ops (index_put, getitem) have rules: a create_graph pass over a create_graph pass
    def third(L, grad_fn, x):
        y = (L.tanh(x[[0, 0, 3]]) * x[[1, 2, 2]]).sum()
        (g,) = grad_fn(y, x, create_graph=True)
        (h,) = grad_fn(g.sum(), x, create_graph=True)
        return grad_fn(h.sum(), x)[0]

    a = _inputs([(4,)])[0]
    got = third(gg, grad, gg.tensor(a, requires_grad=True))
    want = third(torch, torch.autograd.grad, torch.tensor(a, requires_grad=True))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)


def _view_written(L, x, v):
    y = x * 1.0
    y[1:][0] = v  # through a view of a view: the base's node becomes a CopySlices
    return y


def _view_scaled(L, x):
    y = x * 1.0
    e = y[0].expand(2, 4)  # a read-only view, regenerated as an as_strided of the new base
    z = y.t()[::2]
    z.mul_(2.0)
    return y * e[1]


VIEWS = [("copy_slices", _view_written, [(3, 4), (4,)]), ("as_strided", _view_scaled, [(3, 4)])]


@pytest.mark.parametrize("name,f,shapes", VIEWS, ids=[c[0] for c in VIEWS])
def test_views_changed_in_place(torch, name, f, shapes):
    assert gradgradcheck(_composite(gg, f), _gg(_inputs(shapes)))
    arrays = _inputs(shapes, 2)

    def tmake(a):
        return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in a]

    g1, g2 = _second_order(gg, f, arrays, grad, _gg)
    t1, t2 = _second_order(torch, f, arrays, torch.autograd.grad, tmake)
    for a, b in zip((*g1, *g2), (*t1, *t2)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_scatter_reduce_prod_zero_in_x_without_its_gradient():
    # a zero in x breaks only x's own formula: src's gradient and its derivatives stay exact
    x = gg.tensor([[1.5, 0.0, 2.0]], dtype=gg.float64)
    s = gg.tensor([[3.0, 4.0, 0.5]], dtype=gg.float64, requires_grad=True)
    idx = gg.tensor([[1, 1, 0]])
    assert gradgradcheck(lambda s: gg.tanh(x.scatter_reduce(1, idx, s, "prod")), [s])
