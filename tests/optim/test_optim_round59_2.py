"""``differentiable=True`` for Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD and Rprop, against PyTorch 2.13.

Each records its step of non-leaf parameters with Tensor ops in the order of PyTorch's
``_single_tensor_*`` under ``differentiable``, so a MAML-style meta-gradient reaches the tensor the
parameters were cloned from; the stepped parameters, every state tensor and the meta-gradient are
pinned after three inner steps, with the options each optimizer has.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

CASES = {
    "Adagrad": {
        "plain": dict(lr=0.1),
        "decay_lr_decay": dict(lr=0.1, weight_decay=0.1, lr_decay=0.3, initial_accumulator_value=0.5),
        "maximize": dict(lr=0.05, maximize=True, eps=1e-3),
    },
    "Adadelta": {
        "plain": dict(lr=1.0),
        "decay_rho": dict(lr=0.5, rho=0.8, eps=1e-3, weight_decay=0.1),
        "maximize": dict(lr=0.5, maximize=True),
    },
    "Adamax": {
        "plain": dict(lr=0.1),
        "decay_betas": dict(lr=0.1, betas=(0.5, 0.8), weight_decay=0.1, eps=1e-3),
        "maximize": dict(lr=0.05, maximize=True),
    },
    "NAdam": {
        "plain": dict(lr=0.1),
        "decay": dict(lr=0.1, weight_decay=0.1, momentum_decay=0.3),
        "decoupled_maximize": dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
    },
    "RAdam": {
        "plain": dict(lr=0.1),
        # β₂ = 0.5: ρₜ > 5 from the second step, so the rectified (adaptive) branch is taken too
        "rectified_decay": dict(lr=0.1, betas=(0.8, 0.5), weight_decay=0.1, eps=1e-3),
        "decoupled_maximize": dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
    },
    "ASGD": {
        "plain": dict(lr=0.1),
        # t₀ = 1: the average moves by μ < 1 from the third step
        "averaging_decay": dict(lr=0.1, lambd=0.1, alpha=0.5, t0=1, weight_decay=0.1),
        "maximize": dict(lr=0.05, maximize=True, t0=0),
    },
    "Rprop": {
        "plain": dict(lr=0.1),
        "etas_sizes": dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(0.05, 0.2)),
        "maximize": dict(lr=0.05, maximize=True),
    },
}
# Adamax's step saves ``exp_inf`` (the divisor) and Rprop's ``step_size`` (a factor), which the next step
# changes in place: a meta-gradient through two steps raises in both libraries (test_..._second_step_...)
ONE_STEP_META = {"Adamax", "Rprop"}
TOL = {"float64": dict(rtol=1e-12, atol=1e-15), "float32": dict(rtol=2e-6, atol=2e-6)}


def _inner_loop(lib, name, kwargs, dtype, steps=3, meta_grad=True):
    """A MAML-style inner loop: ``p = w.clone()`` stepped on a least-squares loss whose gradient is
    taken with ``create_graph``, then the meta-gradient of a loss at the stepped ``p`` w.r.t. ``w``.
    Returns (p, meta-gradient or None, state) as float64 arrays."""
    dt = getattr(lib, dtype)
    rng = np.random.default_rng(1)
    X = lib.tensor(rng.standard_normal((5, 3)), dtype=dt)
    y = lib.tensor(rng.standard_normal(5), dtype=dt)
    w = lib.tensor(rng.standard_normal(3), dtype=dt, requires_grad=True)
    p = w.clone()
    opt = getattr(lib.optim, name)([p], differentiable=True, **kwargs)
    for _ in range(steps):
        (p.grad,) = lib.autograd.grad(((X @ p - y) ** 2).mean(), p, create_graph=True)
        opt.step()
    meta = lib.autograd.grad(((X @ p) ** 2).sum(), w)[0].double().numpy() if meta_grad else None
    state = {k: v.detach().double().numpy() for k, v in opt.state[p].items()}
    return p.detach().double().numpy(), meta, state


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, case", [(n, c) for n, cases in CASES.items() for c in cases])
def test_differentiable_step_gives_pytorchs_meta_gradient(torch, name, case, dtype):
    kwargs = CASES[name][case]
    one_step = name in ONE_STEP_META
    p, meta, state = _inner_loop(gg, name, kwargs, dtype, meta_grad=not one_step)
    tp, tmeta, tstate = _inner_loop(torch, name, kwargs, dtype, meta_grad=not one_step)
    if one_step:  # three recorded steps for the values, one for the meta-gradient
        _, meta, _ = _inner_loop(gg, name, kwargs, dtype, steps=1)
        _, tmeta, _ = _inner_loop(torch, name, kwargs, dtype, steps=1)
    np.testing.assert_allclose(p, tp, **TOL[dtype])
    np.testing.assert_allclose(meta, tmeta, **TOL[dtype])
    assert list(state) == list(tstate)
    for key in state:
        np.testing.assert_allclose(state[key], tstate[key], **TOL[dtype], err_msg=key)


def _problem(lib, dtype="float64"):
    dt = getattr(lib, dtype)
    X = lib.tensor([[1.0, 0.5, -1.0], [0.2, -0.3, 2.0], [0.7, 1.1, 0.4]], dtype=dt)
    w = lib.tensor([1.0, -2.0, 0.5], dtype=dt, requires_grad=True)
    return X, w


@pytest.mark.parametrize("name", sorted(ONE_STEP_META))
def test_differentiable_step_raises_on_a_second_step_as_pytorch(torch, name):
    """The second step changes in place what the first one's update saved (Adamax's ``exp_inf``,
    Rprop's ``step_size``): the meta-gradient raises in both (glassgrad's GraphError is a RuntimeError)."""
    for lib in (torch, gg):
        X, w = _problem(lib)
        p = w.clone()
        opt = getattr(lib.optim, name)([p], lr=0.1, differentiable=True)
        for _ in range(2):
            (p.grad,) = lib.autograd.grad(((X @ p - 1) ** 2).sum(), p, create_graph=True)
            opt.step()
        with pytest.raises(RuntimeError, match="modified"):
            lib.autograd.grad(p.sum(), w)


NAMES = sorted(CASES)


@pytest.mark.parametrize("name", [*NAMES, "Adam", "AdamW", "RMSprop", "SGD"])
def test_differentiable_with_foreach_raises_at_a_step_with_a_grad_as_pytorch(torch, name):
    """PyTorch's list kernels refuse autograd (SGD's recorded step takes foreach as it is)."""
    for lib in (torch, gg):
        p = lib.ones(2, dtype=lib.float64, requires_grad=True) * 1
        opt = getattr(lib.optim, name)([p], lr=0.1, foreach=True, differentiable=True)
        p.grad = lib.ones(2, dtype=lib.float64)
        if name == "SGD":
            opt.step()
            np.testing.assert_allclose(p.detach().numpy(), [0.9, 0.9], rtol=1e-15)
            continue
        with pytest.raises(AssertionError, match="_foreach ops don't support autograd"):
            opt.step()


@pytest.mark.parametrize("name", [n for n in NAMES if n != "Adagrad"])
def test_differentiable_with_capturable_raises_at_a_step_with_a_grad_as_pytorch(torch, name):
    for lib in (torch, gg):
        p = lib.ones(2, dtype=lib.float64, requires_grad=True) * 1
        opt = getattr(lib.optim, name)([p], lr=0.1, capturable=True, differentiable=True)
        with pytest.warns(UserWarning, match="not a leaf"):  # both read the non-leaf's .grad
            opt.step()  # no gradient yet: nothing is checked
        p.grad = lib.ones(2, dtype=lib.float64)
        with pytest.raises(AssertionError, match="If capturable=True, params"):
            opt.step()


def test_adagrad_differentiable_with_fused_is_refused_as_pytorch(torch):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
            lib.optim.Adagrad([lib.ones(2, requires_grad=True)], lr=0.1, differentiable=True, fused=True)


def _learned_lr_loop(lib, name, dtype, steps=3):
    X, w = _problem(lib, dtype)
    lr = lib.tensor(0.1, dtype=getattr(lib, dtype), requires_grad=True)
    p = w.clone()
    opt = getattr(lib.optim, name)([p], lr=lr, differentiable=True)
    for _ in range(steps):
        (p.grad,) = lib.autograd.grad(((X @ p - 1) ** 2).sum(), p, create_graph=True)
        opt.step()
    return [g.double().numpy() for g in lib.autograd.grad(((X @ p) ** 2).sum(), [w, lr])]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["NAdam", "RAdam"])
def test_a_learned_lr_gets_pytorchs_meta_gradient(torch, name, dtype):
    """NAdam's and RAdam's step sizes are Tensor expressions in lr: the meta-gradient reaches it.
    NAdam's then saves ``exp_avg`` (for lr's gradient), which its next step changes in place: a
    meta-gradient through two steps raises in both libraries."""
    steps = 1 if name == "NAdam" else 3
    ours, theirs = _learned_lr_loop(gg, name, dtype, steps), _learned_lr_loop(torch, name, dtype, steps)
    for g, tg in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(g, tg, **TOL[dtype])
    if name == "NAdam":
        for lib in (torch, gg):
            with pytest.raises(RuntimeError, match="modified"):
                _learned_lr_loop(lib, name, dtype, steps=2)


@pytest.mark.parametrize(
    "name, message",
    [
        pytest.param("Adagrad", "addcdiv_(): argument 'value' must be Number, not Tensor", id="Adagrad"),
        pytest.param("Adadelta", "add_(): argument 'alpha' must be Number, not Tensor", id="Adadelta"),
        pytest.param("Adamax", "addcdiv_(): argument 'value' must be Number, not Tensor", id="Adamax"),
        pytest.param(
            "Rprop", "full_like(): argument 'fill_value' (position 2) must be Number, not Tensor", id="Rprop"
        ),
    ],
)
def test_a_learned_lr_is_refused_where_pytorch_takes_a_number(torch, name, message):
    for lib in (torch, gg):
        with pytest.raises(TypeError) as info:
            _learned_lr_loop(lib, name, "float64")
        assert str(info.value) == message
