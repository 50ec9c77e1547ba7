"""Round 59's differential hunt on the APIs around optimizer steps, against PyTorch 2.13.

``differentiable=True`` SGD, Adam, AdamW and RMSprop record their update, so a meta-gradient reaches the
tensors the (non-leaf) parameters came from, as in learn2learn/higher-style inner loops; PyTorch's
constructor takes parameters of any dtype (a frozen integer ``nn.Parameter`` counter) and a non-leaf
that retains its grad; ``capturable=True`` is refused at the first step with a gradient, as
PyTorch's steps refuse it for CPU tensors.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import optim

SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.1, momentum=0.9),
    "nesterov": dict(lr=0.1, momentum=0.9, nesterov=True),
    "dampening_decay": dict(lr=0.1, momentum=0.5, dampening=0.3, weight_decay=0.1),
    "maximize": dict(lr=0.01, maximize=True, momentum=0.5, weight_decay=0.2),
    "learned_lr": dict(lr="learned"),
}
ADAM_CASES = {
    "plain": dict(lr=0.1),
    "amsgrad": dict(lr=0.1, amsgrad=True),
    "decay": dict(lr=0.1, weight_decay=0.1),
    "maximize": dict(lr=0.1, maximize=True, weight_decay=0.05),
    # β₂ = 0.9: PyTorch's float32 sqrt of 1 − β₂ᵗ (the step count is a float32 tensor) is 1 ulp from the
    # correctly rounded one at some t (β₂ = 0.7, t = 3; 0.999, t = 4), a kernel quirk not matched here
    "betas_eps": dict(lr=0.1, betas=(0.5, 0.9), eps=1e-3),
    "learned_lr": dict(lr="learned"),
}
# float32: a few roundings of values of order 1 (a meta-gradient entry near 0 keeps their absolute size)
RMSPROP_CASES = {
    "plain": dict(lr=0.01),
    "momentum_decay": dict(lr=0.01, momentum=0.9, weight_decay=0.1),
    "centered": dict(lr=0.01, centered=True, alpha=0.9),
    "centered_momentum_maximize": dict(lr=0.01, centered=True, momentum=0.5, maximize=True, eps=1e-3),
}
CASES = {"SGD": SGD_CASES, "Adam": ADAM_CASES, "AdamW": ADAM_CASES, "RMSprop": RMSPROP_CASES}
TOL = {"float64": dict(rtol=1e-12, atol=1e-15), "float32": dict(rtol=2e-6, atol=2e-6)}


def _inner_loop(lib, name, kwargs, dtype):
    """A MAML-style inner loop: ``p = w.clone()`` stepped on a least-squares loss whose gradient is
    taken with ``create_graph``, then the meta-gradient of a loss at the stepped ``p`` w.r.t. ``w``
    (and a learned lr). Returns (p, meta-gradients, state) as float64 arrays."""
    dt = getattr(lib, dtype)
    rng = np.random.default_rng(0)
    X = lib.tensor(rng.standard_normal((5, 3)), dtype=dt)
    y = lib.tensor(rng.standard_normal(5), dtype=dt)
    w = lib.tensor(rng.standard_normal(3), dtype=dt, requires_grad=True)
    kwargs = dict(kwargs)
    learned = kwargs["lr"] == "learned"
    if learned:
        kwargs["lr"] = lib.tensor(0.1, dtype=dt, requires_grad=True)
    p = w.clone()
    opt = getattr(lib.optim, name)([p], differentiable=True, **kwargs)
    # amsgrad, centered: one step (a second one raises in both libraries: test_..._second_step_...)
    for _ in range(1 if kwargs.get("amsgrad") or kwargs.get("centered") else 3):
        (g,) = lib.autograd.grad(((X @ p - y) ** 2).mean(), p, create_graph=True)
        p.grad = g
        opt.step()
    grads = lib.autograd.grad(((X @ p) ** 2).sum(), [w, kwargs["lr"]] if learned else [w])
    state = {k: v.detach().double().numpy() for k, v in opt.state[p].items()}
    return p.detach().double().numpy(), [g.double().numpy() for g in grads], state


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, case", [(n, c) for n, cases in CASES.items() for c in cases])
def test_differentiable_step_gives_pytorchs_meta_gradient(torch, name, case, dtype):
    kwargs = CASES[name][case]
    p, grads, state = _inner_loop(gg, name, kwargs, dtype)
    tp, tgrads, tstate = _inner_loop(torch, name, kwargs, dtype)
    np.testing.assert_allclose(p, tp, **TOL[dtype])
    assert len(grads) == len(tgrads)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(g, tg, **TOL[dtype])
    assert list(state) == list(tstate)
    for key in state:
        np.testing.assert_allclose(state[key], tstate[key], **TOL[dtype], err_msg=key)


@pytest.mark.parametrize("name, option", [("Adam", "amsgrad"), ("AdamW", "amsgrad"), ("RMSprop", "centered")])
def test_differentiable_step_raises_on_a_second_step_as_pytorch(torch, name, option):
    """PyTorch's differentiable amsgrad saves ``exp_avg_sq`` for ``maximum``'s backward (centered
    RMSprop saves ``grad_avg`` for its square), then the next step changes it in place: the
    meta-gradient raises there, and does here (glassgrad's GraphError is a RuntimeError)."""
    for lib in (torch, gg):
        w = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        p = w.clone()
        opt = getattr(lib.optim, name)([p], lr=0.1, differentiable=True, **{option: True})
        X = lib.tensor([[1.0, 0.5, -1.0], [0.2, -0.3, 2.0]], dtype=lib.float64)
        for _ in range(2):  # the loss saves X and X @ p, never p itself
            (p.grad,) = lib.autograd.grad(((X @ p) ** 2).sum(), p, create_graph=True)
            opt.step()
        with pytest.raises(RuntimeError, match="modified"):
            lib.autograd.grad(p.sum(), w)


@pytest.mark.parametrize(  # every optimizer with differentiable=True (test_optim_round59_2.py: the other seven)
    "name",
    ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"],
)
def test_differentiable_step_of_a_leaf_that_requires_grad_raises_as_pytorch(torch, name):
    for lib in (torch, gg):
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        opt = getattr(lib.optim, name)([w], lr=0.1, differentiable=True)
        w.grad = lib.ones(3, dtype=lib.float64)
        with pytest.raises(RuntimeError, match="leaf"):
            opt.step()


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_differentiable_with_fused_is_refused_as_pytorch(torch, name):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
            getattr(lib.optim, name)(
                [lib.ones(2, requires_grad=True)], lr=0.1, differentiable=True, fused=True
            )


def test_differentiable_step_records_even_under_no_grad(torch):
    """PyTorch's step sets grad mode to the optimizer's ``differentiable`` option, whatever the caller's."""
    for lib in (torch, gg):
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        p = w * 1
        opt = lib.optim.SGD([p], lr=0.1, differentiable=True)
        p.grad = lib.full((3,), 2.0, dtype=lib.float64)
        with lib.no_grad():
            opt.step()
        assert p.grad_fn is not None and lib.is_grad_enabled()


def test_a_frozen_integer_parameter_is_accepted_as_pytorch(torch):
    """A model keeping a step counter as ``nn.Parameter(tensor(0), requires_grad=False)``: PyTorch's
    optimizers take ``model.parameters()`` with it and never step it (it has no gradient)."""
    results = []
    for lib in (torch, gg):
        m = lib.nn.Linear(2, 2).double()
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=lib.float64))
            m.bias.zero_()
        m.counter = lib.nn.Parameter(lib.tensor(0), requires_grad=False)
        opt = lib.optim.Adam(m.parameters(), lr=0.1)
        m(lib.ones(1, 2, dtype=lib.float64)).pow(2).sum().backward()
        opt.step()
        assert m.counter.item() == 0 and len(opt.state) == 2
        results.append(m.weight.detach().numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)


def test_a_non_leaf_that_retains_its_grad_is_stepped_as_pytorch(torch):
    results = []
    for lib in (torch, gg):
        w = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        p = w * 2
        p.retain_grad()
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
        for _ in range(2):
            (p**2).sum().backward(retain_graph=True)
            opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([gg.ones(2, requires_grad=True) * 2], lr=0.1)  # without retain_grad: refused


@pytest.mark.parametrize(
    "name", ["Adam", "AdamW", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]
)
def test_capturable_on_cpu_raises_at_the_first_gradient_as_pytorch(torch, name):
    for lib in (torch, gg):
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        opt = getattr(lib.optim, name)([w], capturable=True)
        opt.step()  # no gradient yet: nothing to check
        w.grad = lib.ones(3, dtype=lib.float64)
        with pytest.raises(AssertionError, match="If capturable=True, params.* must be on supported devices"):
            opt.step()
