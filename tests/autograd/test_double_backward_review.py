"""Review of double backward (create_graph=True): user Functions whose class name is a library
op's, user Functions with several outputs, leaves' .grad kept apart from the gradients a pass
hands around, and the functional API's checks of v and strict, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError

F = gg.autograd.functional
RNG = np.random.default_rng(3)
A = RNG.standard_normal(3)
B = RNG.standard_normal(3)


def _np(t):
    return t.detach().numpy()


def _one_output(lib, name):
    """x * exp(y), its own backward, under the class name ``name``."""

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y.exp()

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y.exp(), g * x * y.exp()

    body = {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    return type(name, (lib.autograd.Function,), body)


def _two_outputs(lib, name, materialize=True):
    """(x * exp(y), sin(x) + y), one backward for both."""

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        ctx.set_materialize_grads(materialize)
        return x * y.exp(), x.sin() + y

    def backward(ctx, g1, g2):
        x, y = ctx.saved_tensors
        gx = gy = 0
        if g1 is not None:
            gx, gy = gx + g1 * y.exp(), gy + g1 * x * y.exp()
        if g2 is not None:
            gx, gy = gx + g2 * x.cos(), gy + g2
        return gx, gy

    body = {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    return type(name, (lib.autograd.Function,), body)


def _second(lib, make, loss):
    x = lib.tensor(A, dtype=lib.float64, requires_grad=True)
    y = lib.tensor(B, dtype=lib.float64, requires_grad=True)
    gx, gy = lib.autograd.grad(loss(make(x, y)), (x, y), create_graph=True)
    return [gx, gy, *lib.autograd.grad((gx * gy).sum(), (x, y))]


def _same(mine, theirs):
    for m, t in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(_np(m), _np(t), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["Add", "Clone", "Neg", "Exp", "Mul", "Sum", "MyOp"])
def test_user_function_named_like_a_library_op_runs_its_own_backward(name, torch):
    def loss(z):
        return (z * z).sum()

    mine = _second(gg, lambda x, y: _one_output(gg, name).apply(x, y), loss)
    theirs = _second(torch, lambda x, y: _one_output(torch, name).apply(x, y), loss)
    _same(mine, theirs)


@pytest.mark.parametrize("name", ["Two", "Split"])
@pytest.mark.parametrize("used", ["both", "first", "second"])
@pytest.mark.parametrize("materialize", [True, False])
def test_user_function_with_several_outputs(name, used, materialize, torch):
    def loss(ab):
        a, b = ab
        return {"both": (a * b).sum(), "first": (a**2).sum(), "second": (b**3).sum()}[used]

    mine = _second(gg, lambda x, y: _two_outputs(gg, name, materialize).apply(x, y), loss)
    theirs = _second(torch, lambda x, y: _two_outputs(torch, name, materialize).apply(x, y), loss)
    _same(mine, theirs)


def test_leaf_grad_is_not_the_gradient_a_hook_or_retain_grad_holds():
    x = gg.tensor(A, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g))
    z = x.clone()
    z.retain_grad()
    with pytest.warns(UserWarning, match="reference cycle"):
        (z.sin() * z).sum().backward(create_graph=True)
    kept_hook, kept_z = _np(seen[0]).copy(), _np(z.grad).copy()
    with gg.no_grad():
        x.grad.zero_()  # zero_grad: the other gradients must not change
    np.testing.assert_array_equal(_np(seen[0]), kept_hook)
    np.testing.assert_array_equal(_np(z.grad), kept_z)
    assert np.abs(kept_z).sum() > 0


def test_jvp_create_graph_checks_v():
    xs = (gg.tensor(A, requires_grad=True), gg.tensor(B, requires_grad=True))
    with pytest.raises(ValueError, match="v is a tuple of invalid length"):
        F.jvp(lambda a, b: a * b, xs, (gg.tensor(A),), create_graph=True)
    with pytest.raises(gg.errors.ShapeError, match="v has invalid size"):
        F.jvp(lambda a, b: a * b, xs, (gg.tensor(A), gg.tensor(A[:2])), create_graph=True)


@pytest.mark.parametrize("create_graph", [False, True])
def test_strict_refuses_a_gradient_without_a_graph(create_graph):
    xs = (gg.tensor(A, requires_grad=True), gg.tensor(B, requires_grad=True))
    v = (gg.tensor(A), gg.tensor(B))

    def linear(a, b):
        return (a * 2).sum() + (b * b).sum()

    for call in (
        lambda: F.hessian(linear, xs, create_graph=create_graph, strict=True),
        lambda: F.hvp(linear, xs, v, create_graph=create_graph, strict=True),
        lambda: F.vhp(linear, xs, v, create_graph=create_graph, strict=True),
    ):
        with pytest.raises(GraphError, match="strict"):
            call()
    if create_graph:
        with pytest.raises(GraphError, match="strict"):
            F.jacobian(lambda a, b: a * 2 + b, xs, create_graph=True, strict=True)
        with pytest.raises(GraphError, match="strict"):
            F.jvp(lambda a, b: a * a, xs, v, create_graph=True, strict=True)


def test_once_differentiable_refuses_a_create_graph_pass_through_it_by_name():
    class Once(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        @gg.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

    x = gg.tensor(A, requires_grad=True)
    w = gg.tensor(A, requires_grad=True)
    # the incoming gradient (w) requires grad: the result hangs from the refusing node, as PyTorch's
    # (with a constant incoming gradient it is a constant: tests/autograd/test_trust_round58.py)
    (g,) = gg.autograd.grad((Once.apply(x) * w).sum(), x, create_graph=True)
    for create_graph in (False, True):
        with pytest.raises(GraphError, match="Once: trying to differentiate twice"):
            g.sum().backward(create_graph=create_graph, retain_graph=True)
