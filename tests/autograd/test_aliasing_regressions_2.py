"""More paths where a gradient or value once came out silently wrong through aliasing (a mask,
indices, a parameter's data, a Function's returned input, a retained gradient, a copy from a tensor
in the graph): each now matches PyTorch, or raises where PyTorch raises or cannot be matched."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.errors import GraphError

F64 = gg.float64


def _w(values):
    return gg.tensor(values, dtype=F64, requires_grad=True)


@pytest.mark.parametrize("op", ["masked_fill", "where", "masked_select"])
def test_a_mask_changed_after_the_op_does_not_move_the_gradient(op):
    w = _w([1.0, 2.0, 3.0, 4.0])
    m = gg.tensor([True, False, False, True])
    y = {
        "masked_fill": lambda: w.masked_fill(m, 0.0),
        "where": lambda: gg.where(m, w, gg.zeros(4, dtype=F64)),
        "masked_select": lambda: gg.masked_select(w, m),
    }[op]()
    m[1] = True  # after the op: backward must still use the mask the forward used
    m[3] = False
    (y * gg.arange(1.0, len(y) + 1, dtype=F64)).sum().backward()
    want = {"masked_fill": [0, 2, 3, 0], "where": [1, 0, 0, 4], "masked_select": [1, 0, 0, 2]}[op]
    np.testing.assert_array_equal(w.grad.numpy(), want)


@pytest.mark.parametrize("op", ["max", "min", "sort", "topk"])
def test_returned_indices_changed_in_place_do_not_move_the_gradient(op):
    w = _w([[3.0, 5.0, 1.0], [4.0, 0.0, 2.0]])
    call = {
        "max": lambda: w.max(1),
        "min": lambda: w.min(1),
        "sort": lambda: w.sort(1),
        "topk": lambda: w.topk(2, 1),
    }[op]
    v, i = call()
    up = gg.arange(1.0, v.numel() + 1, dtype=F64).reshape(v.shape)
    (v * up).sum().backward()
    want = w.grad.numpy().copy()  # the gradient with the indices left alone
    w.grad = None
    v, i = call()
    z = (v * up).sum()
    i.fill_(0)  # the user's indices, not the ones backward routes by
    z.backward()
    np.testing.assert_array_equal(w.grad.numpy(), want)


def test_max_unpool_indices_changed_after_the_op_do_not_move_the_gradient():
    x = _w([[[1.0, 2.0, 3.0, 4.0]]])
    y, idx = gg.nn.functional.max_pool1d(x, 2, return_indices=True)
    u = gg.nn.functional.max_unpool1d(y, idx, 2)
    idx.fill_(0)
    (u * gg.arange(1.0, 5.0, dtype=F64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[0.0, 2.0, 0.0, 4.0]]])


def test_a_parameter_shares_its_datas_version_counter():
    t = gg.ones(3, dtype=F64)
    p = nn.Parameter(t)
    w = _w([1.0, 2.0, 3.0])
    y = (p * w).sum()  # saves p for w's gradient
    with gg.no_grad():
        t.mul_(2)  # writes p's memory
    with pytest.raises(GraphError, match="modified in place"):
        y.backward()
    t.add_(w)  # recorded and written into the memory p holds, as PyTorch: p sees it
    assert p.tolist() == [3.0, 4.0, 5.0] and t.grad_fn is not None
    t.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0]


def test_arrays_handed_out_are_never_swapped_by_a_recorded_inplace_op():
    w = _w([1.0, 2.0])
    buf = gg.zeros(2, dtype=F64)
    a = np.asarray(buf)
    buf += w  # recorded, and written where `a` sees it (a swap would have left `a` at 0)
    np.testing.assert_array_equal(a, [1.0, 2.0])
    assert buf.grad_fn is not None
    p, t = gg.zeros(2, dtype=F64), gg.zeros(2, dtype=F64)
    p.data = t
    t.add_(w)
    assert p.tolist() == [1.0, 2.0]


def _functions(lib):
    class Id(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    class DoubleInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return Id, DoubleInPlace


def test_a_function_returning_its_input_shares_its_version_counter():
    Id, _ = _functions(gg)
    w = _w([1.0, 2.0])
    z = (w * w).sum()
    y = Id.apply(w)
    with gg.no_grad():
        y.mul_(2)  # changes w, which z saved
    with pytest.raises(GraphError, match="modified in place"):
        z.backward()


def test_mark_dirty_rebases_the_returned_input_as_torch(torch):
    results = []
    for lib in (gg, torch):
        _, DoubleInPlace = _functions(lib)
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        h = w * 1
        y = DoubleInPlace.apply(h)
        (h * lib.tensor([1.0, 10.0], dtype=lib.float64)).sum().backward()
        results.append((y is h, w.grad.tolist()))
    assert results[0] == results[1] == (True, [2.0, 20.0])


def test_mark_dirty_refusals():
    _, DoubleInPlace = _functions(gg)
    with pytest.raises(GraphError, match="mark_dirty.*leaf tensor that requires grad"):
        DoubleInPlace.apply(_w([1.0]))

    class Hidden(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x * 3

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(GraphError, match="did not return it"):
        Hidden.apply(_w([1.0]) * 1)


def test_retain_grad_follows_a_recorded_inplace_op_as_torch(torch):
    results = []
    for lib in (gg, torch):
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = w * 2
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        results.append((y.retains_grad, y.grad.tolist(), w.grad.tolist()))
    assert results[0] == results[1]


def test_copy_and_fill_from_a_tensor_in_the_graph_are_recorded_as_torch(torch):
    results = []
    for lib in (gg, torch):
        w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        s = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
        a, b = lib.zeros(3, dtype=lib.float64), lib.zeros(2, 3)  # b float32: copy_ casts
        a.copy_(w)
        b.copy_(w)
        c = lib.zeros(3, dtype=lib.float64).fill_(s)
        ((a * w).sum() + (b.double() * w).sum() + (c * w).sum()).backward()
        results.append((a.requires_grad, w.grad.tolist(), s.grad.item()))
    assert results[0] == results[1]
    with pytest.raises(GraphError, match="leaf tensor that requires grad"):
        _w([0.0, 0.0]).copy_(_w([1.0, 2.0]))
