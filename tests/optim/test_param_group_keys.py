"""Optimizer state dicts carry PyTorch's param-group keys, in PyTorch's order, including the
implementation switches (foreach, capturable, differentiable, fused) that glassgrad keeps and ignores."""

from __future__ import annotations

import pytest

import glassgrad as gg
from tests.optim.test_optim_parity_sweep import OPTIMIZERS

NAMES = [*OPTIMIZERS, "LBFGS"]


@pytest.mark.parametrize("name", NAMES)
def test_param_group_keys_and_defaults_are_pytorchs(torch, name):
    theirs = getattr(torch.optim, name)(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    ours = getattr(gg.optim, name)(gg.nn.Linear(2, 2).parameters(), lr=0.1)
    t_group = theirs.state_dict()["param_groups"][0]
    g_group = ours.state_dict()["param_groups"][0]
    assert list(g_group) == list(t_group)
    assert {k: v for k, v in g_group.items() if k != "params"} == {
        k: v for k, v in t_group.items() if k != "params"
    }


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "ASGD"])
def test_switches_given_are_kept(torch, name):
    kwargs = {"foreach": True}
    theirs = getattr(torch.optim, name)(torch.nn.Linear(2, 2).parameters(), lr=0.1, **kwargs)
    ours = getattr(gg.optim, name)(gg.nn.Linear(2, 2).parameters(), lr=0.1, **kwargs)
    assert ours.param_groups[0]["foreach"] is theirs.param_groups[0]["foreach"] is True


def test_a_state_dict_without_the_switches_still_loads():
    """Checkpoints written before the switches were kept (and PyTorch's older ones) lack them."""
    opt = gg.optim.Adam(gg.nn.Linear(2, 2).parameters(), lr=0.1, foreach=False)
    saved = opt.state_dict()
    for key in ("foreach", "capturable", "differentiable", "fused"):
        del saved["param_groups"][0][key]
    fresh = gg.optim.Adam(gg.nn.Linear(2, 2).parameters(), lr=0.1)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["fused"] is None and fresh.param_groups[0]["capturable"] is False
