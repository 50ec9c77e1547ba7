"""Optimizer state_dict: PyTorch's layout, and a round trip — save midway, load into a fresh
optimizer, continue — gives exactly the uninterrupted trajectory, also through JSON + arrays."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError
from glassgrad.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from tests.optim.problem import grads, initial_values

CONFIGS = [
    (SGD, dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Adam, dict(lr=0.05, amsgrad=True)),
    (AdamW, dict(lr=0.05, weight_decay=0.1)),
    (RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
]
IDS = [c.__name__ for c, _ in CONFIGS]


def _params(values):
    return [gg.tensor(v, requires_grad=True) for v in values]


def _groups(ps):
    return [{"params": [ps[0]], "lr": 0.02}, {"params": [ps[1], ps[2]]}]


def _steps(opt, ps, n):
    for _ in range(n):
        for p, g in zip(ps, grads([p._data for p in ps])):
            p.grad = gg.tensor(g)
        opt.step()


def _to_json_and_arrays(sd):
    """What a safetensors + JSON checkpoint keeps: arrays apart, everything else as JSON."""
    arrays, state = {}, {}
    for index, entries in sd["state"].items():
        state[index] = {}
        for key, value in entries.items():
            if isinstance(value, gg.Tensor):
                arrays[f"{index}.{key}"] = value._data.copy()
                state[index][key] = f"<array {index}.{key}>"
            else:
                state[index][key] = value
    meta = json.loads(json.dumps({"state": state, "param_groups": sd["param_groups"]}))
    for entries in meta["state"].values():
        for key, value in entries.items():
            if isinstance(value, str) and value.startswith("<array "):
                entries[key] = arrays[value[7:-1]]
    return meta


@pytest.mark.parametrize("via_json", [False, True])
@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_round_trip_continues_the_same_trajectory(cls, kwargs, via_json):
    values = initial_values()
    ps = _params(values)
    opt = cls(_groups(ps), **kwargs)
    _steps(opt, ps, 5)
    saved = _to_json_and_arrays(opt.state_dict()) if via_json else copy.deepcopy(opt.state_dict())
    resumed_ps = _params([p._data for p in ps])
    resumed = cls(_groups(resumed_ps), **kwargs)
    resumed.load_state_dict(saved)
    _steps(opt, ps, 5)
    _steps(resumed, resumed_ps, 5)
    for a, b in zip(ps, resumed_ps):
        np.testing.assert_array_equal(a._data, b._data)
    assert resumed.param_groups[0]["lr"] == 0.02


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_layout_is_pytorchs(cls, kwargs):
    ps = _params(initial_values())
    opt = cls(_groups(ps), **kwargs)
    ps[1].grad = None
    _steps(opt, [ps[0]], 1)  # only the first param has a gradient: only it has state
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    # ... except Adagrad's, which PyTorch's constructor gives every parameter (at step 0)
    assert list(sd["state"]) == ([0, 1, 2] if cls is Adagrad else [0])
    names = {
        SGD: {"momentum_buffer"},
        Adam: {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
        AdamW: {"step", "exp_avg", "exp_avg_sq"},
        RMSprop: {"step", "square_avg", "momentum_buffer", "grad_avg"},
        Adagrad: {"step", "sum"},
    }[cls]
    assert set(sd["state"][0]) == names
    for key, value in sd["state"][0].items():
        if key == "step":
            # A 0-d tensor of the default dtype, as PyTorch keeps it (state["step"].item() works).
            assert isinstance(value, gg.Tensor) and value.shape == () and value.dtype == gg.float32
            assert value.item() == 1.0
        else:
            assert isinstance(value, gg.Tensor) and value.shape == ps[0].shape
    for key, value in kwargs.items():
        assert sd["param_groups"][1][key] == value


def test_load_casts_state_to_the_param_dtype_and_copies():
    w64 = gg.tensor(np.ones(3), requires_grad=True)
    opt = Adam([w64])
    _steps(opt, [w64], 2)
    sd = opt.state_dict()
    w32 = gg.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt32 = Adam([w32])
    opt32.load_state_dict(sd)
    m = opt32.state[w32]["exp_avg"]
    assert m._data.dtype == np.float32
    np.testing.assert_allclose(m._data, sd["state"][0]["exp_avg"]._data, rtol=1e-7)
    before = sd["state"][0]["exp_avg"]._data.copy()
    _steps(opt32, [w32], 1)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"]._data, before)  # the loaded dict is not aliased


def test_load_validates():
    a, b = gg.tensor(np.ones(3), requires_grad=True), gg.tensor(np.ones(2), requires_grad=True)
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    _steps(opt, [a, b], 1)
    sd = opt.state_dict()
    two_groups = SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="SGD.load_state_dict: expected 2 param groups, got 1"):
        two_groups.load_state_dict(sd)
    one_param = SGD([a], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="SGD.load_state_dict: expected param group 0 with 1 params, got 2"):
        one_param.load_state_dict(sd)
    swapped = SGD([b, a], lr=0.1, momentum=0.9)
    with pytest.raises(
        ShapeError, match=r"expected state 'momentum_buffer' of param 0 with shape \(2,\), got \(3,\)"
    ):
        swapped.load_state_dict(sd)
    with pytest.raises(ValueError, match="expected a dict with keys 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    scheduled = copy.deepcopy(sd)  # options are not range-checked on load, as in PyTorch
    scheduled["param_groups"][0]["lr"] = -1.0
    opt.load_state_dict(scheduled)
    assert opt.param_groups[0]["lr"] == -1.0
    extra = copy.deepcopy(sd)
    extra["state"][7] = {}
    with pytest.raises(ValueError, match="got state for param 7, which no group lists"):
        opt.load_state_dict(extra)


def test_load_fills_options_missing_from_an_older_dict():
    w = gg.tensor(np.ones(2), requires_grad=True)
    opt = AdamW([w], lr=0.01)
    sd = copy.deepcopy(opt.state_dict())
    del sd["param_groups"][0]["decoupled_weight_decay"], sd["param_groups"][0]["maximize"]
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True and opt.param_groups[0]["maximize"] is False
