"""Round 65, a differential fuzz of optimizers and schedulers over long runs broken by a
``state_dict`` reload (also a PyTorch state dict carried into glassgrad through NumPy, and back).
Pinned here, each against PyTorch at float64 rounding: SGD checks ``nesterov`` against momentum
and dampening for its constructor's arguments only, as PyTorch, so a param group of its own
``momentum: 0`` (or dampening) under ``nesterov=True`` steps instead of being refused, and the
functional ``sgd`` takes the same options as PyTorch's.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import glassgrad as gg

from .helpers import assert_same

TIGHT = {"rtol": 1e-12, "atol": 1e-14}


def _params(lib, *shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [lib.nn.Parameter(lib.tensor(rng.standard_normal(s))) for s in shapes]


def _grads(lib, params, step):
    rng = np.random.default_rng(100 + step)
    for p in params:
        x = p.detach().numpy()
        p.grad = lib.tensor(np.sin(x) * rng.standard_normal(x.shape) + 0.3 * x)


def _both(torch, program, *args):
    return [program(lib, *args) for lib in (torch, gg)]


# ---- SGD: nesterov is checked for the constructor's arguments, not for each group -----------------


def _nesterov_groups(lib, reload):
    w, b, e = _params(lib, (3, 2), (2,), (4,))
    groups = [{"params": [w]}, {"params": [b], "momentum": 0.0}]
    opt = lib.optim.SGD(groups, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    opt.add_param_group({"params": [e], "dampening": 0.5})  # nesterov with dampening, as there
    out = []
    for step in range(6):
        if reload and step == 3:
            state = opt.state_dict()
            opt = lib.optim.SGD(groups, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
            opt.add_param_group({"params": [e], "dampening": 0.5})
            opt.load_state_dict(state)
        _grads(lib, [w, b, e], step)
        opt.step()
        out.append([p.detach().clone() for p in (w, b, e)])
    buffers = {i: s.get("momentum_buffer") for i, s in opt.state_dict()["state"].items()}
    return out, buffers, [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


@pytest.mark.parametrize("reload", [False, True], ids=["unbroken", "reloaded"])
def test_sgd_group_momentum_zero_under_nesterov_steps(torch, reload):
    ours, theirs = _both(torch, _nesterov_groups, reload)[::-1]
    assert_same(ours, theirs, **TIGHT)


@pytest.mark.parametrize(
    "kwargs",
    [dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1)],
    ids=["no-momentum", "dampening"],
)
def test_sgd_constructor_still_refuses_bad_nesterov(torch, kwargs):
    for lib in (torch, gg):
        with pytest.raises(ValueError, match="momentum"):
            lib.optim.SGD(_params(lib, (2,)), lr=0.1, **kwargs)


def _functional_sgd(lib, momentum, dampening):
    F = importlib.import_module(f"{lib.__name__}.optim._functional")
    params = [lib.tensor([1.0, 2.0], dtype=lib.float64), lib.tensor([3.0], dtype=lib.float64)]
    grads = [lib.tensor([0.5, -1.0], dtype=lib.float64), lib.tensor([2.0], dtype=lib.float64)]
    buffers = [None, None]
    options = dict(weight_decay=0.1, momentum=momentum, lr=0.1, dampening=dampening, maximize=False)
    with lib.no_grad():
        for _ in range(3):
            F.sgd(params, grads, buffers, nesterov=True, **options)
    return params, buffers


@pytest.mark.parametrize(
    ("momentum", "dampening"), [(0.0, 0.0), (0.9, 0.3)], ids=["no-momentum", "dampening"]
)
def test_functional_sgd_takes_nesterov_as_pytorch(torch, momentum, dampening):
    ours, theirs = _both(torch, _functional_sgd, momentum, dampening)[::-1]
    assert_same(ours, theirs, **TIGHT)
