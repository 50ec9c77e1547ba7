"""Every optimizer and option against ``torch.optim``: parameters after every one of 10 steps on a
Rosenbrock chain, in float64 (rtol 1e-10) and float32 (rtol 1e-6); signatures and defaults."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import optim
from tests.optim.problem import grads, initial_values, loss

CONFIGS = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.01, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, maximize=True)),
    ("SGD", dict(lr=0.005, momentum=0.8, dampening=0.1, weight_decay=0.05, maximize=True)),
    ("SGD", dict(lr=0.005, momentum=0.8, weight_decay=0.05, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.1, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3)),
    ("AdamW", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4)),
    ("RMSprop", dict(lr=0.005, alpha=0.8, momentum=0.5, centered=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, eps=1e-3)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.2, weight_decay=0.1, initial_accumulator_value=0.5, maximize=True)),
]

# Two groups with different options: the matrix alone, the vector and scalar together.
GROUPS = {
    "SGD": ({"lr": 0.02}, {"momentum": 0.5, "nesterov": True}),
    "Adam": ({"lr": 0.01, "betas": (0.8, 0.9)}, {"amsgrad": True, "weight_decay": 0.2}),
    "AdamW": ({"lr": 0.01}, {"weight_decay": 0.5, "amsgrad": True}),
    "RMSprop": ({"lr": 0.002, "centered": True}, {"momentum": 0.9, "alpha": 0.9}),
    "Adagrad": ({"lr": 0.3, "lr_decay": 0.5}, {"eps": 1e-2, "weight_decay": 0.2}),
}
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-6, atol=1e-7)}


def _pair(dtype, seed=0):
    torch = pytest.importorskip("torch")
    values = initial_values(dtype, seed)
    ours = [gg.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    return ours, theirs


def _set_grads(ours, theirs, sign, step):
    torch = pytest.importorskip("torch")
    for p, g in zip(ours, grads([p._data for p in ours], sign)):
        p.grad = gg.tensor(g)
    for p, g in zip(theirs, grads([p.detach().numpy() for p in theirs], sign)):
        p.grad = torch.from_numpy(g)
    if step % 3 == 1:  # now and then a parameter has no gradient: it must be skipped entirely
        ours[2].grad = None
        theirs[2].grad = None


def _compare(ours, theirs, dtype, step):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a._data.dtype == dtype
        np.testing.assert_allclose(
            a._data, b.detach().numpy(), **TOL[dtype], err_msg=f"param {i}, step {step}"
        )


def _run(name, ours, theirs, params_of, kwargs, dtype, sign, steps=10):
    """``steps`` steps of ``name`` in both libraries; ``params_of(ps)`` builds the params argument."""
    torch = pytest.importorskip("torch")
    opt = getattr(optim, name)(params_of(ours), **kwargs)
    topt = getattr(torch.optim, name)(params_of(theirs), **kwargs)
    for step in range(steps):
        _set_grads(ours, theirs, sign, step)
        opt.step()
        topt.step()
        _compare(ours, theirs, dtype, step)
    return opt, topt


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_trajectory_matches_torch(name, kwargs, dtype):
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize -f: the same descent, stays bounded
    ours, theirs = _pair(dtype)
    start = loss([p._data for p in ours])
    _run(name, ours, theirs, list, kwargs, dtype, sign)
    assert loss([p._data for p in ours]) < start  # the run did descend: the comparison is not vacuous


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(GROUPS))
def test_param_groups_match_torch(name, dtype):
    first, second = GROUPS[name]
    ours, theirs = _pair(dtype, seed=1)

    def groups(ps):
        return [{"params": [ps[0]], **first}, {"params": [ps[1], ps[2]], **second}]

    opt, topt = _run(name, ours, theirs, groups, {}, dtype, 1.0)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_signature_and_defaults_match_torch(torch, name):
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    assert list(ours) == list(theirs)
    for key in theirs:
        assert ours[key].kind == theirs[key].kind, key
        assert ours[key].default == theirs[key].default, key
