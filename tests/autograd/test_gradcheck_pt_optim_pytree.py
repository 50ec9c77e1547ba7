"""gradcheck evaluates ``fn`` for its finite differences in the caller's grad mode, as PyTorch's does
(round 67, PyTorch's test/optim/test_optim.py): a function whose outputs depend on grad mode (one that
returns only the tensors that require grad, or that calls ``backward`` inside) gives the same outputs
at x +- eps as at x. Before, those evaluations ran under ``no_grad`` and such a function lost outputs
(IndexError) or could not call ``backward`` (GraphError)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _filtering(lib):
    """x -> (x * 2, x.clone() * y) keeping only the outputs that require grad (PyTorch's optimizer
    tests return a step's state tensors so)."""

    def fn(x, y):
        outs = (x * 2, (x * 3).detach(), x * y)
        return tuple(o for o in outs if o.requires_grad)

    return fn


def _backward_inside(lib):
    """The gradient of an inner loss taken inside fn (create_graph), then used: a meta-gradient."""

    def fn(w, lr):
        p = w.clone()
        inner = (p**2 * lr).sum()
        (g,) = lib.autograd.grad(inner, p, create_graph=True)
        q = p - lr * g
        loss = (q**3).sum()
        loss.backward(inputs=(lr,), create_graph=True)
        return loss

    return fn


@pytest.mark.parametrize("make", [_filtering, _backward_inside])
def test_gradcheck_runs_fn_in_grad_mode_as_pytorch(torch, make):
    rng = np.random.default_rng(0)
    a = rng.random(4)
    b = rng.random(4) if make is _filtering else np.array(0.3)
    ours = gg.autograd.gradcheck(
        make(gg), (gg.tensor(a, requires_grad=True), gg.tensor(b, requires_grad=True))
    )
    theirs = torch.autograd.gradcheck(
        make(torch),
        (torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)),
    )
    assert ours is True and theirs is True


def test_gradcheck_still_catches_a_wrong_backward_of_a_filtering_fn():
    class Wrong(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3  # wrong: the derivative is 2

    def fn(x):
        outs = (Wrong.apply(x), x.detach())
        return tuple(o for o in outs if o.requires_grad)

    x = gg.tensor(np.arange(3.0), requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):  # GradcheckError, as PyTorch's
        gg.autograd.gradcheck(fn, (x,))


def test_gradgradcheck_finite_differences_take_the_first_order_vjp():
    x = gg.tensor(np.array([0.3, -0.7, 1.1]), requires_grad=True)
    assert gg.autograd.gradgradcheck(lambda t: (t.sin() * t).sum(), (x,))
