"""In-place writes whose input partly shares the destination's memory, and NumPy conversion of a
tensor in the graph: refused where PyTorch refuses them, allowed (with PyTorch's values) where it
allows them."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError, ShapeError


def _shift_add(T):
    x = T.arange(6.0)
    x[1:] += x[:-1]
    return x


def _setitem(key_of, value_of):
    def run(T):
        x = T.arange(4.0)
        x[key_of(T)] = value_of(x, T)
        return x

    return run


# Each case runs in both libraries: both raise, or both give the same values.
CASES = {
    "shift add_": _shift_add,
    "add_ of own row": lambda T: T.arange(12.0).reshape(3, 4).add_(T.arange(12.0).reshape(3, 4)[0]),
    "add_ of a row of itself": lambda T: (lambda x: x.add_(x[0]))(T.arange(12.0).reshape(3, 4)),
    "add_ of itself": lambda T: (lambda x: x.add_(x))(T.arange(12.0).reshape(3, 4)),
    "add_ of itself through t().t()": lambda T: (lambda x: x.add_(x.t().t()))(T.arange(6.0).reshape(2, 3)),
    "add_ of its transpose": lambda T: (lambda x: x.t().add_(x))(T.arange(9.0).reshape(3, 3)),
    "copy_ of its transpose": lambda T: (lambda x: x.copy_(x.t()))(T.arange(4.0).reshape(2, 2)),
    "copy_ shifted": lambda T: (lambda x: (x[1:].copy_(x[:-1]), x)[1])(T.arange(6.0)),
    "copy_ disjoint halves": lambda T: (lambda x: (x[:3].copy_(x[3:]), x)[1])(T.arange(6.0)),
    "copy_ of a broadcast element": lambda T: (lambda x: x.copy_(x[0]))(T.arange(4.0)),
    "sub_ overlapping ranges": lambda T: (lambda x: x[:4].sub_(x[3:7]))(T.arange(8.0)),
    "div_ by own element": lambda T: (lambda x: x.div_(x[3]))(T.arange(4.0) + 1),
    "mul_ by own first": lambda T: (lambda x: x.mul_(x[:1]))(T.arange(4.0) + 1),
    "pow_ of itself": lambda T: (lambda x: x.pow_(x))(T.arange(4.0)),
    "clamp_ min shifted": lambda T: (lambda x: x[1:].clamp_(min=x[:-1]))(T.arange(4.0)),
    "clamp_ max own element": lambda T: (lambda x: x.clamp_(max=x[1]))(T.arange(4.0)),
    "lerp_ end shifted": lambda T: (lambda x: x[1:].lerp_(x[:-1], 0.5))(T.arange(4.0)),
    "lerp_ weight shifted": lambda T: (lambda x: x[1:].lerp_(T.zeros(3), x[:-1]))(T.arange(4.0)),
    "addcmul_ shifted": lambda T: (lambda x: x[1:].addcmul_(x[:-1], x[:-1]))(T.arange(4.0)),
    "addcdiv_ shifted": lambda T: (lambda x: x[1:].addcdiv_(x[:-1], T.ones(3)))(T.arange(4.0)),
    "addcmul_ of itself": lambda T: (lambda x: x.addcmul_(x, x))(T.arange(4.0)),
    "mul_ integer shifted": lambda T: (lambda x: x[1:].mul_(x[:-1]))(T.arange(4)),
    "index_copy_ of own rows": lambda T: (lambda x: x.index_copy_(0, T.tensor([1, 2]), x[:2]))(
        T.arange(12.0).reshape(3, 4)
    ),
    "index_add_ of own head": lambda T: (lambda x: x.index_add_(0, T.tensor([2, 3]), x[:2]))(T.arange(4.0)),
    "scatter_ shifted": lambda T: (lambda x: x[1:].scatter_(0, T.tensor([0, 1]), x[:2]))(T.arange(4.0)),
    "scatter_add_ shifted": lambda T: (lambda x: x[1:].scatter_add_(0, T.tensor([0, 1]), x[:2]))(
        T.arange(4.0)
    ),
    "masked_fill_ with own element": lambda T: (lambda x: x.masked_fill_(x > 0.5, x[0]))(T.arange(4.0)),
    "fill_ with own element": lambda T: (lambda x: x.fill_(x[1]))(T.arange(4.0)),
    "index_fill_ with own element": lambda T: (lambda x: x.index_fill_(0, T.tensor([0, 2]), x[1]))(
        T.arange(4.0)
    ),
    "sub_ of a new mean": lambda T: (lambda x: x.sub_(x.mean()))(T.arange(4.0)),
    "setitem shifted": _setitem(lambda T: slice(1, None), lambda x, T: x[:-1]),
    "setitem the same slice": _setitem(lambda T: slice(1, 3), lambda x, T: x[1:3]),
    "setitem whole": _setitem(lambda T: slice(None), lambda x, T: x),
    "setitem one element from another": _setitem(lambda T: 0, lambda x, T: x[1]),
    "setitem broadcast own element": _setitem(lambda T: slice(0, 2), lambda x, T: x[1]),
    "setitem index tensor overlapping": _setitem(lambda T: T.tensor([1, 2]), lambda x, T: x[:2]),
    "setitem index list disjoint": _setitem(lambda T: [0, 1], lambda x, T: x[2:]),
    "setitem bool mask overlapping": _setitem(
        lambda T: T.tensor([False, True, True, False]), lambda x, T: x[:2]
    ),
    "setitem row of a matrix": lambda T: (lambda x: (x.__setitem__(1, x[0]), x)[1])(
        T.arange(4.0).reshape(2, 2)
    ),
    "add out= shifted": lambda T: (lambda x: T.add(x[:-1], 1, out=x[1:]))(T.arange(4.0)),
    "exp out= shifted": lambda T: (lambda x: T.exp(x[:-1], out=x[1:]))(T.arange(4.0)),
    "mul out= disjoint": lambda T: (lambda x: (T.mul(x[:2], 2, out=x[2:]), x)[1])(T.arange(4.0)),
    "cat out= overlapping": lambda T: (lambda x: T.cat([x[:2]], out=x[1:3]))(T.arange(4.0)),
    "stack out= disjoint": lambda T: (lambda x: (T.stack([x[:1], x[1:2]], out=x[2:].view(2, 1)), x)[1])(
        T.arange(4.0)
    ),
    "mm out= overlapping (allowed)": lambda T: (lambda x: T.mm(x[:2], x[:2], out=x[2:]))(
        T.arange(8.0).reshape(4, 2)
    ),
    "index_put_ overlapping": lambda T: (lambda x: x.index_put_((T.tensor([1, 2]),), x[:2]))(T.arange(4.0)),
    "setitem of own row to all rows (broadcast)": lambda T: (
        lambda x: (x.__setitem__(slice(None), x[0]), x)[1]
    )(T.arange(8.0).reshape(2, 4)),
    "setitem of own (1, n) row to all rows": lambda T: (lambda x: (x.__setitem__(slice(None), x[:1]), x)[1])(
        T.arange(8.0).reshape(2, 4)
    ),
    "setitem through a bool mask of own element": lambda T: (lambda x: (x.__setitem__(x > 1, x[0]), x)[1])(
        T.arange(4.0)
    ),
    "setitem through a bool mask of own 1-element slice": lambda T: (
        lambda x: (x.__setitem__((slice(None), x[0] > 1), x[1, 1:2]), x)[1]
    )(T.arange(8.0).reshape(2, 4)),
    "setitem through an index of own element": lambda T: (
        lambda x: (x.__setitem__(T.tensor([1, 2]), x[0]), x)[1]
    )(T.arange(4.0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_partial_overlap_raises_where_pytorch_raises(torch, name):
    case = CASES[name]
    try:
        want = case(torch).tolist()
    except RuntimeError as e:
        assert "single memory location" in str(e)  # PyTorch's overlap refusal, not another error
        with pytest.raises(ShapeError, match="refer to the same memory"):
            case(gg)
        return
    assert case(gg).tolist() == want


def test_partial_overlap_refused_while_recording_and_clone_is_the_way_out():
    x = gg.arange(6.0, requires_grad=True)
    y = x * 1
    with pytest.raises(ShapeError, match=r"clone\(\) the input"):
        y[1:] += y[:-1]
    y = x * 1
    y[1:] += y[:-1].clone()  # the way out the error names: the values and the gradient follow
    assert y.tolist() == [0.0, 1.0, 3.0, 5.0, 7.0, 9.0]
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0, 2.0, 2.0, 1.0]


def test_masked_scatter_from_overlapping_memory_is_refused(torch):
    # PyTorch does not check this one, and its values then follow the order its kernel writes in
    # (x[3] takes the x[1] it has just written); glassgrad refuses instead of differing silently.
    t = torch.arange(4.0)
    t[1:].masked_scatter_(torch.tensor([True, False, True]), t[:-1])
    assert t.tolist() == [0.0, 0.0, 2.0, 0.0]  # not [0, 0, 2, 1], what reading first would give
    x = gg.arange(4.0)
    with pytest.raises(ShapeError, match="masked_scatter_"):
        x[1:].masked_scatter_(gg.tensor([True, False, True]), x[:-1])


@pytest.mark.parametrize("op", ["addmm_", "addbmm_"])
def test_in_place_matrix_products_are_not_checked(torch, op):
    # PyTorch's BLAS-backed in-place products write self while an input overlaps it, unchecked;
    # glassgrad reads its inputs first: PyTorch's values of the same call on a clone of the input
    def run(T, clone):
        b = T.arange(1.0, 13.0)
        src = b.clone() if clone else b
        m1 = src[2:6].view(2, 2) if op == "addmm_" else src[2:10].view(2, 2, 2)
        getattr(b[:4].view(2, 2), op)(m1, m1)
        return b.tolist()

    run(torch, clone=False)  # runs in PyTorch
    assert run(gg, clone=False) == run(torch, clone=True)


def test_blocks_that_are_not_dense_are_not_checked():
    # PyTorch's "too hard" case (steps, broadcast rows): allowed in both libraries; glassgrad's
    # values are those of the expression with its inputs read before anything is written.
    x = gg.arange(12.0).reshape(3, 4)
    x[:, :2] += x[:, 1:3]
    assert x.tolist() == [[1.0, 3.0, 2.0, 3.0], [9.0, 11.0, 6.0, 7.0], [17.0, 19.0, 10.0, 11.0]]
    y = gg.arange(8.0)
    y[2::2].add_(y[::2][:3])
    assert y.tolist() == [0.0, 1.0, 2.0, 3.0, 6.0, 5.0, 10.0, 7.0]


@pytest.mark.parametrize("convert", [np.asarray, np.array, lambda t: np.asarray(t, dtype=np.float64)])
def test_numpy_conversion_refuses_a_tensor_that_requires_grad(torch, convert):
    with pytest.raises(RuntimeError, match="requires grad"):
        convert(torch.ones(2, requires_grad=True))
    for t in (gg.ones(2, requires_grad=True), gg.ones(2, requires_grad=True) * 2):
        with pytest.raises(GraphError, match=r"call \.detach\(\) first"):
            convert(t)
    assert convert(gg.ones(2, requires_grad=True).detach()).tolist() == [1.0, 1.0]
    # PyTorch allows it with grad mode off (its check is requires_grad and GradMode::is_enabled)
    with torch.no_grad():
        assert convert(torch.ones(2, requires_grad=True)).tolist() == [1.0, 1.0]
    with gg.no_grad():
        assert convert(gg.ones(2, requires_grad=True)).tolist() == [1.0, 1.0]
