"""Round 57's differential hunt for silently wrong gradients: each program runs in glassgrad and in
PyTorch, and both raise, or both give the same values, gradients and hook calls.

Found by the fuzzer: a leaf whose ``requires_grad`` was turned off after the graph recorded it
(``requires_grad_(False)``, ``requires_grad = False``, ``detach_()``: freezing a parameter between
the forward and the backward) still had its gradient stored, where PyTorch's ``AccumulateGrad``
drops it, so an optimizer stepped a frozen parameter; ``retain_grad()`` on a tensor that does not
require grad was accepted (its ``.grad`` stayed None), where PyTorch refuses at once; under
``create_graph=True`` an ``as_strided`` view of a base that reaches an element twice (an
``as_strided``, ``expand`` or ``unfold`` view) gave that element each reader's whole gradient
(twice PyTorch's) where the first-order backward shares it out; ``Tensor.reciprocal`` was a
division that saved its input, and ``erfinv`` saved its result, each the other way from PyTorch
(an in-place change raised where PyTorch computes, and computed where it raises); ``renorm`` of
a 1-D or 0-d input computed and an out-of-range dim wrapped around, where PyTorch raises.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError

W = np.array([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]])
X = np.array([[1.0, -2.0], [0.25, 3.0], [-1.5, 0.5]])


def _read(t):
    return None if t is None else np.array(t.detach().tolist())


def _same(ours, theirs):
    assert len(ours) == len(theirs), (ours, theirs)
    for a, b in zip(ours, theirs, strict=True):
        if isinstance(a, list) and isinstance(b, list):
            _same(a, b)
        elif isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
            assert a is not None and b is not None, (a, b)
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        else:
            assert a == b


# -- a leaf turned off after the graph recorded it ---------------------------------------------------

FREEZE = {
    "requires_grad_": lambda t: t.requires_grad_(False),
    "attribute": lambda t: setattr(t, "requires_grad", False),
    "detach_": lambda t: t.detach_(),
}


def _frozen_between_forward_and_backward(lib, freeze, create_graph):
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    log = []
    w.register_hook(lambda g: log.append(_read(g)))  # still runs: the engine calls it, not the store
    w.register_post_accumulate_grad_hook(lambda p: log.append(f"post, grad {p.grad is None}"))
    loss = ((w @ x).tanh() ** 2).sum()
    FREEZE[freeze](w)
    loss.backward(create_graph=create_graph)
    return [_read(w.grad), _read(x.grad), log, w.requires_grad]


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@pytest.mark.parametrize("freeze", sorted(FREEZE))
def test_leaf_turned_off_after_the_forward_gets_no_grad(torch, freeze, create_graph):
    ours = _frozen_between_forward_and_backward(gg, freeze, create_graph)
    theirs = _frozen_between_forward_and_backward(torch, freeze, create_graph)
    assert ours[0] is None and theirs[0] is None
    _same(ours, theirs)


def _frozen_after_one_step(lib):
    """The GAN pattern: a parameter with a .grad from the last backward, frozen before the next
    backward of a graph recorded while it was still on; an SGD step then leaves it alone."""
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.SGD([w, x], lr=0.1)
    (w @ x).exp().sum().backward()
    first = _read(w.grad)
    loss = ((w @ x) ** 2).sum()
    w.requires_grad_(False)
    loss.backward()
    opt.step()
    return [first, _read(w.grad), _read(w), _read(x.grad), _read(x)]


def test_frozen_leaf_keeps_its_old_grad_and_value_through_a_step(torch):
    _same(_frozen_after_one_step(gg), _frozen_after_one_step(torch))


def _turned_back_on(lib):
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    loss = (w.sin() * 3.0).sum()
    w.requires_grad_(False)
    w.requires_grad_(True)  # on again at backward: the gradient is stored
    loss.backward()
    return [_read(w.grad)]


def test_leaf_turned_back_on_before_backward_gets_its_grad(torch):
    ours, theirs = _turned_back_on(gg), _turned_back_on(torch)
    assert ours[0] is not None
    _same(ours, theirs)


def _grad_of_a_turned_off_leaf(lib):
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    loss = (w * w).sum()
    w.requires_grad_(False)
    return lib.autograd.grad(loss, [w])


def test_autograd_grad_of_a_turned_off_leaf_raises(torch):
    with pytest.raises(RuntimeError, match="does not require grad"):
        _grad_of_a_turned_off_leaf(torch)
    with pytest.raises(GraphError, match="require grad"):
        _grad_of_a_turned_off_leaf(gg)


# -- retain_grad on a tensor that does not require grad ----------------------------------------------


@pytest.mark.parametrize("which", ["constant", "detached", "no_grad result"])
def test_retain_grad_of_a_tensor_that_does_not_require_grad_raises(torch, which):
    for lib in (gg, torch):
        w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
        if which == "constant":
            t = lib.tensor(W, dtype=lib.float64) * 2
        elif which == "detached":
            t = (w * 2).detach()
        else:
            with lib.no_grad():
                t = w * 2
        with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
            t.retain_grad()


def _retained(lib):
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    h = w * 2
    h.retain_grad()
    h.retain_grad()  # twice: still one .grad
    w.retain_grad()  # a leaf: nothing to do
    (h.exp()).sum().backward()
    return [_read(h.grad), _read(w.grad)]


def test_retain_grad_of_tensors_that_require_grad_still_works(torch):
    _same(_retained(gg), _retained(torch))


# -- as_strided of a base that reaches an element twice, under create_graph ---------------------------

STRIDED = {
    "as_strided of as_strided": lambda a: a.as_strided((2, 2), (1, 1)).as_strided((3,), (1,)),
    "as_strided of expand": lambda a: a[:3].expand(2, 3).as_strided((2, 2), (1, 2)),
    "as_strided of unfold": lambda a: a.unfold(0, 3, 1).as_strided((3,), (2,), 1),
    "unsqueeze between": lambda a: a.as_strided((2, 2), (1, 1)).unsqueeze(0).as_strided((2,), (1,)),
    "no overlap": lambda a: a.as_strided((2, 2), (2, 1)).as_strided((3,), (1,)),
}


def _strided_grads(lib, which, create_graph):
    """First derivatives (recorded or not) of a view's cube and, recorded, the second through them."""
    a = lib.tensor(np.linspace(-0.8, 1.3, 6), dtype=lib.float64, requires_grad=True)
    y = STRIDED[which](a * 1.5)
    w = lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), dtype=lib.float64)
    (g,) = lib.autograd.grad((y**3 * w).sum(), [a], create_graph=create_graph)
    if create_graph:
        (g * g).sum().backward()
    return [_read(y), _read(g), _read(a.grad)]


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@pytest.mark.parametrize("which", sorted(STRIDED))
def test_as_strided_of_an_overlapping_base_shares_the_gradient(torch, which, create_graph):
    _same(_strided_grads(gg, which, create_graph), _strided_grads(torch, which, create_graph))


# -- what reciprocal and erfinv save: an in-place change raises where PyTorch's does ---------------


def _changed_in_place(lib, op, which):
    """``op`` of h = 1.0 * x, then ``which`` (the op's input h or its result) changed in place."""
    x = lib.tensor(np.linspace(0.15, 0.85, 6).reshape(2, 3), dtype=lib.float64, requires_grad=True)
    h = x * 1.0
    y = {"Tensor.reciprocal": lambda t: t.reciprocal(), "torch.reciprocal": lib.reciprocal}.get(
        op, lambda t: t.erfinv()
    )(h)
    with lib.no_grad():
        (h if which == "input" else y).mul_(1.5)
    try:
        (g,) = lib.autograd.grad((y * y).sum(), [x])
    except RuntimeError:
        return ["raised", _read(y)]
    return ["computed", _read(y), _read(g)]


@pytest.mark.parametrize("which", ["input", "result"])
@pytest.mark.parametrize("op", ["Tensor.reciprocal", "torch.reciprocal", "erfinv"])
def test_in_place_change_after_reciprocal_and_erfinv(torch, op, which):
    ours, theirs = _changed_in_place(gg, op, which), _changed_in_place(torch, op, which)
    # PyTorch's reciprocal saves its result, erfinv its input
    assert theirs[0] == ("raised" if (which == "result") == (op != "erfinv") else "computed")
    _same(ours, theirs)


def test_reciprocal_method_is_the_reciprocal_op(torch):
    for lib in (gg, torch):
        x = lib.tensor([0.5, -2.0], dtype=lib.float64, requires_grad=True)
        assert type((x * 1).reciprocal().grad_fn).__name__ == "ReciprocalBackward0"


def _erfinv_second_order(lib, dtype):
    x = lib.tensor([0.3, -0.6, 0.9, 0.0], dtype=dtype, requires_grad=True)
    (g,) = lib.autograd.grad((x.erfinv() ** 3).sum(), [x], create_graph=True)
    (g2,) = lib.autograd.grad((g * g).sum(), [x])
    return [_read(g), _read(g2)]


def test_erfinv_first_and_second_derivatives(torch):
    _same(_erfinv_second_order(gg, gg.float64), _erfinv_second_order(torch, torch.float64))
    ours, theirs = _erfinv_second_order(gg, gg.float32), _erfinv_second_order(torch, torch.float32)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-6)


# -- renorm's input checks ------------------------------------------------------------------------


@pytest.mark.parametrize("shape, dim", [((4,), 0), ((), 0), ((3, 4), 2), ((3, 4), -3)])
def test_renorm_refuses_what_pytorch_refuses(torch, shape, dim):
    """A 1-D or 0-d input computed (each element its own slice) and dim 2 of a 2-D one wrapped to 0."""
    x = np.linspace(-1.0, 2.0, int(np.prod(shape))).reshape(shape)
    err = IndexError if len(shape) == 2 else RuntimeError
    with pytest.raises(err):
        torch.tensor(x).renorm(2, dim, 1.0)
    with pytest.raises(err, match="renorm"):
        gg.tensor(x).renorm(2, dim, 1.0)


def _renormed(lib, dim):
    x = lib.tensor(np.linspace(-1.0, 2.0, 24).reshape(2, 3, 4), dtype=lib.float64, requires_grad=True)
    y = x.renorm(2, dim, 1.5)
    (y * lib.tensor(np.cos(np.arange(24.0)).reshape(2, 3, 4))).sum().backward()
    return [_read(y), _read(x.grad)]


@pytest.mark.parametrize("dim", [0, 1, -1, 2, -3])
def test_renorm_values_and_gradients(torch, dim):
    _same(_renormed(gg, dim), _renormed(torch, dim))
