"""Module-wide hooks (torch.nn.modules.module's register_module_*): backward and registration
hooks against PyTorch's calls, order and replacements; and the deprecated nn.Container."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.modules.module as gm


def _net(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))


def _backward_log(lib, mm):
    net = _net(lib)
    w = [np.arange(12.0).reshape(4, 3) / 10, np.ones(4) / 3, np.arange(8.0).reshape(2, 4) / 7, np.ones(2) / 5]
    with lib.no_grad():
        for p, v in zip(net.parameters(), w):
            p.copy_(lib.tensor(v, dtype=p.dtype))
    log = []

    def pre(module, grad_output):
        log.append(("pre", type(module).__name__, [g.numpy().copy() for g in grad_output]))

    def full(module, grad_input, grad_output):
        log.append(
            (
                "full",
                type(module).__name__,
                [None if g is None else np.round(g.numpy(), 6).tolist() for g in grad_input],
            )
        )

    def own(module, grad_input, grad_output):
        log.append(("own", type(module).__name__, []))

    handles = [mm.register_module_full_backward_pre_hook(pre), mm.register_module_full_backward_hook(full)]
    net[2].register_full_backward_hook(own)
    x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=lib.float32, requires_grad=True)
    net(x).sum().backward()
    for h in handles:
        h.remove()
    net(x).sum().backward()  # removed: nothing more is logged
    return log


def test_full_backward_hooks_run_for_every_module_before_its_own(torch):
    ours = _backward_log(gg, gm)
    theirs = _backward_log(torch, torch.nn.modules.module)
    assert [e[:2] for e in ours] == [e[:2] for e in theirs]
    for a, b in zip(ours, theirs):
        assert [g is None for g in a[2]] == [g is None for g in b[2]]
        for u, v in zip(a[2], b[2]):
            if u is not None:
                np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    assert [e[:2] for e in ours[:3]] == [("pre", "Sequential"), ("pre", "Linear"), ("full", "Linear")]


def test_deprecated_module_backward_hook_warns_and_acts_as_full():
    seen = []
    with pytest.warns(FutureWarning, match="register_module_backward_hook is deprecated"):
        handle = gm.register_module_backward_hook(lambda m, gi, go: seen.append(type(m).__name__))
    try:
        nn.Linear(2, 2)(gg.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        handle.remove()
    assert seen == ["Linear"]


def _registration_log(lib, mm):
    log = []

    def on_param(module, name, value):
        log.append(("param", type(module).__name__, name, None if value is None else tuple(value.shape)))

    def on_buffer(module, name, value):
        log.append(("buffer", type(module).__name__, name, None if value is None else tuple(value.shape)))
        if name == "scale":  # replaced by the hook's answer
            return value * 2

    def on_module(module, name, value):
        log.append(("module", type(module).__name__, name, type(value).__name__))

    handles = [
        mm.register_module_parameter_registration_hook(on_param),
        mm.register_module_buffer_registration_hook(on_buffer),
        mm.register_module_module_registration_hook(on_module),
    ]
    try:
        outer = lib.nn.Module()
        outer.inner = lib.nn.Linear(2, 3)
        outer.register_buffer("scale", lib.ones(2))
        outer.scale = lib.ones(3)
        outer.w = lib.nn.Parameter(lib.zeros(4))
        outer.w = None
        outer.add_module("act", lib.nn.ReLU())
        outer.act = None
        scale = outer.scale.tolist()
    finally:
        for h in handles:
            h.remove()
    lib.nn.Linear(1, 1)  # removed: nothing more is logged
    return log, scale


def test_registration_hooks_see_and_may_replace_what_is_registered(torch):
    ours, our_scale = _registration_log(gg, gm)
    theirs, their_scale = _registration_log(torch, torch.nn.modules.module)
    assert ours == theirs
    assert our_scale == their_scale == [2.0, 2.0, 2.0]


def test_container_is_deprecated_and_registers_its_keywords(torch):
    with pytest.warns(FutureWarning, match="Container` is deprecated"):
        ours = nn.Container(first=nn.Linear(2, 3), second=nn.ReLU())
    with pytest.warns(FutureWarning):
        theirs = torch.nn.Container(first=torch.nn.Linear(2, 3), second=torch.nn.ReLU())
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["first.weight", "first.bias"]
