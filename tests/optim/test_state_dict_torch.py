"""Optimizer state moves between glassgrad and PyTorch both ways: load the other library's
state_dict midway and the two trajectories continue together (float64, rtol 1e-10)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import optim
from tests.optim.problem import grads, initial_values

CONFIGS = [
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
]
IDS = [n for n, _ in CONFIGS]


def _groups(ps):
    return [{"params": [ps[0]], "lr": 0.02}, {"params": [ps[1], ps[2]]}]


def _step_ours(opt, ps):
    for p, g in zip(ps, grads([p._data for p in ps])):
        p.grad = gg.tensor(g)
    opt.step()


def _step_torch(opt, ps):
    torch = pytest.importorskip("torch")
    for p, g in zip(ps, grads([p.detach().numpy() for p in ps])):
        p.grad = torch.from_numpy(g)
    opt.step()


def _state_to_torch(sd):
    torch = pytest.importorskip("torch")
    state = {
        i: {k: torch.from_numpy(v._data.copy()) for k, v in s.items()}  # step too: a 0-d tensor in both
        for i, s in sd["state"].items()
    }
    return {"state": state, "param_groups": sd["param_groups"]}


def _state_from_torch(sd):
    state = {i: {k: v.numpy().copy() for k, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": sd["param_groups"]}


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_torch_state_dict_loads_into_glassgrad(torch, name, kwargs):
    values = initial_values()
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    topt = getattr(torch.optim, name)(_groups(theirs), **kwargs)
    for _ in range(5):
        _step_torch(topt, theirs)
    ours = [gg.tensor(p.detach().numpy(), requires_grad=True) for p in theirs]
    opt = getattr(optim, name)(_groups(ours), **kwargs)
    opt.load_state_dict(_state_from_torch(topt.state_dict()))
    assert opt.param_groups[0]["lr"] == 0.02
    for _ in range(5):
        _step_torch(topt, theirs)
        _step_ours(opt, ours)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_glassgrad_state_dict_loads_into_torch(torch, name, kwargs):
    values = initial_values()
    ours = [gg.tensor(v, requires_grad=True) for v in values]
    opt = getattr(optim, name)(_groups(ours), **kwargs)
    for _ in range(5):
        _step_ours(opt, ours)
    theirs = [torch.tensor(p._data, requires_grad=True) for p in ours]
    topt = getattr(torch.optim, name)(_groups(theirs), **kwargs)
    topt.load_state_dict(_state_to_torch(opt.state_dict()))
    for _ in range(5):
        _step_torch(topt, theirs)
        _step_ours(opt, ours)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
