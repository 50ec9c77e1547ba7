"""Review round 11 of the optimizers' 0-d step tensors, against PyTorch 2.13: a loaded step tensor
keeps its dtype, integer included, while a number becomes one of the default dtype;
Adagrad makes its state in the constructor from the constructor's ``initial_accumulator_value``
(a group's own value is ignored), as PyTorch's does."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad


def _loaded_step(lib, step, default):
    lib.set_default_dtype(default(lib))
    try:
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0], dtype=lib.float32))
        opt = lib.optim.Adam([p], lr=0.1)
        group = {k: v for k, v in opt.state_dict()["param_groups"][0].items()}
        zeros = np.zeros(2, dtype=np.float32)
        state = {"step": step(lib), "exp_avg": lib.tensor(zeros), "exp_avg_sq": lib.tensor(zeros)}
        opt.load_state_dict({"state": {0: state}, "param_groups": [group]})
        before = opt.state[p]["step"]
        p.grad = lib.tensor([0.5, -0.25], dtype=lib.float32)
        opt.step()
        after = opt.state[p]["step"]
        return [
            str(before.dtype).split(".")[-1],
            before.item(),
            str(after.dtype).split(".")[-1],
            after.item(),
        ]
    finally:
        lib.set_default_dtype(lib.float32)


_STEPS = {
    "int tensor": lambda lib: lib.tensor(3),
    "int32 tensor": lambda lib: lib.tensor(3, dtype=lib.int32),
    "float64 tensor": lambda lib: lib.tensor(3.0, dtype=lib.float64),
    "python float": lambda lib: 3.0,
    "python int": lambda lib: 3,
}
_DEFAULTS = {"float32": lambda lib: lib.float32, "float64": lambda lib: lib.float64}


@pytest.mark.parametrize("default", sorted(_DEFAULTS))
@pytest.mark.parametrize("kind", sorted(_STEPS))
def test_a_loaded_step_keeps_pytorchs_dtype(torch, kind, default):
    ours = _loaded_step(glassgrad, _STEPS[kind], _DEFAULTS[default])
    theirs = _loaded_step(torch, _STEPS[kind], _DEFAULTS[default])
    assert ours == theirs


def _adagrad(lib, groups):
    a = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
    b = lib.nn.Parameter(lib.tensor([0.5]))
    params = [{"params": [a], "initial_accumulator_value": 2.0}, {"params": [b]}] if groups else [a, b]
    opt = lib.optim.Adagrad(params, lr=0.5, initial_accumulator_value=0.25)
    fresh = {i: {k: v.tolist() for k, v in s.items()} for i, s in opt.state_dict()["state"].items()}
    c = lib.nn.Parameter(lib.tensor([3.0]))
    opt.add_param_group({"params": [c], "initial_accumulator_value": 4.0})
    for _ in range(3):
        opt.zero_grad()
        ((a * a).sum() + (b * b * b).sum() + (c * c).sum()).backward()
        opt.step()
    trained = {i: {k: v.tolist() for k, v in s.items()} for i, s in opt.state_dict()["state"].items()}
    return fresh, trained, [p.tolist() for p in (a, b, c)]


@pytest.mark.parametrize("groups", [False, True])
def test_adagrad_state_is_made_in_the_constructor_as_pytorch(torch, groups):
    ours, theirs = _adagrad(glassgrad, groups), _adagrad(torch, groups)
    assert ours[0] == theirs[0]  # the state before any step: step 0, sum at the constructor's value
    assert ours[0][0]["step"] == 0.0 and ours[0][0]["sum"] == [0.25, 0.25]
    assert ours[1].keys() == theirs[1].keys()
    for i in ours[1]:
        assert ours[1][i].keys() == theirs[1][i].keys()
        for key in ours[1][i]:
            np.testing.assert_allclose(ours[1][i][key], theirs[1][i][key], rtol=1e-6)
    for x, y in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(x, y, rtol=1e-6)
