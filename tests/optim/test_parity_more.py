"""The optimizers added for porting (Adadelta, Adamax, NAdam, RAdam, Rprop, ASGD, LBFGS) against
``torch.optim``: parameters after each of 12 steps on the Rosenbrock chain of ``problem.py`` in
float64 (rtol 1e-10) and float32 (rtol 1e-6), every option; param groups; signatures and
defaults; state_dict round trips both ways; PyTorch's keywords on every optimizer."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import optim
from tests.optim.problem import grads, initial_values, loss

CONFIGS = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, momentum_decay=0.1, betas=(0.8, 0.99))),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, betas=(0.5, 0.8), eps=1e-4)),  # rho_t > 5 from step 1 on
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.08))),
    ("Rprop", dict(lr=0.02, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.02, lambd=0.05, alpha=0.5, t0=3)),  # averaging starts within the run
    ("ASGD", dict(lr=0.02, t0=0, weight_decay=0.1, maximize=True)),
]
LBFGS_CONFIGS = [
    dict(lr=0.1, max_iter=5),
    dict(lr=0.5, max_iter=8, history_size=3),
    dict(max_iter=6, line_search_fn="strong_wolfe"),
    dict(max_iter=10, history_size=2, line_search_fn="strong_wolfe", tolerance_change=1e-5),
    dict(lr=0.2, max_iter=3, max_eval=2),
    dict(max_iter=20, tolerance_grad=1e-3, line_search_fn="strong_wolfe"),
]
GROUPS = {
    "Adadelta": ({"lr": 0.5}, {"rho": 0.5, "weight_decay": 0.1}),
    "Adamax": ({"lr": 0.01}, {"betas": (0.5, 0.9)}),
    "NAdam": ({"lr": 0.01}, {"momentum_decay": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.1}),
    "RAdam": ({"lr": 0.01}, {"betas": (0.5, 0.8)}),
    "Rprop": ({"lr": 0.05}, {"etas": (0.4, 1.1)}),
    "ASGD": ({"lr": 0.05, "t0": 2}, {"lambd": 0.01}),
}
NAMES = [*GROUPS, "LBFGS"]
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-6, atol=1e-7)}


def _pair(torch, dtype, seed=0):
    values = initial_values(dtype, seed)
    return [gg.tensor(v, requires_grad=True) for v in values], [
        torch.tensor(v, requires_grad=True) for v in values
    ]


def _set_grads(torch, ours, theirs, sign, step):
    for p, g in zip(ours, grads([p._data for p in ours], sign)):
        p.grad = gg.tensor(g)
    for p, g in zip(theirs, grads([p.detach().numpy() for p in theirs], sign)):
        p.grad = torch.from_numpy(g)
    if step % 3 == 1:  # now and then a parameter has no gradient: it must be skipped entirely
        ours[2].grad = theirs[2].grad = None


def _compare(ours, theirs, dtype, step, tol=None):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a._data.dtype == dtype
        np.testing.assert_allclose(
            a._data, b.detach().numpy(), **(tol or TOL[dtype]), err_msg=f"param {i}, step {step}"
        )


def _run(torch, opt, topt, ours, theirs, dtype, sign=1.0, steps=12):
    for step in range(steps):
        _set_grads(torch, ours, theirs, sign, step)
        opt.step()
        topt.step()
        _compare(ours, theirs, dtype, step)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_trajectory_matches_torch(torch, name, kwargs, dtype):
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize -f: the same descent, stays bounded
    ours, theirs = _pair(torch, dtype)
    start = loss([p._data for p in ours])
    opt, topt = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    _run(torch, opt, topt, ours, theirs, dtype, sign)
    assert loss([p._data for p in ours]) < start  # the run did descend: the comparison is not vacuous
    if name == "ASGD":  # the running average, which the user reads from the state
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(opt.state[p]["ax"]._data, topt.state[tp]["ax"].numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(GROUPS))
def test_param_groups_match_torch(torch, name, dtype):
    first, second = GROUPS[name]
    ours, theirs = _pair(torch, dtype, seed=1)

    def groups(ps):
        return [{"params": [ps[0]], **first}, {"params": [ps[1], ps[2]], **second}]

    opt, topt = getattr(optim, name)(groups(ours)), getattr(torch.optim, name)(groups(theirs))
    _run(torch, opt, topt, ours, theirs, dtype)


def _closure(lib, opt, ps, numpy_of, counter):
    def closure():
        counter[0] += 1
        opt.zero_grad()
        arrays = [numpy_of(p) for p in ps]
        for p, g in zip(ps, grads(arrays)):
            p.grad = lib.tensor(g)
        return loss(arrays)

    return closure


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", LBFGS_CONFIGS, ids=[str(k) for k in LBFGS_CONFIGS])
def test_lbfgs_matches_torch(torch, kwargs, dtype):
    ours, theirs = _pair(torch, dtype)
    opt, topt = optim.LBFGS(ours, **kwargs), torch.optim.LBFGS(theirs, **kwargs)
    ours_calls, their_calls = [0], [0]
    closure = _closure(gg, opt, ours, lambda p: p._data, ours_calls)
    tclosure = _closure(torch, topt, theirs, lambda p: p.detach().numpy(), their_calls)
    start = loss([p._data for p in ours])
    # float32: L-BFGS divides by differences of float32 gradients (y·s, y·y), and its dot
    # products are summed in a different order, so agreement is to a few float32 ulps per step.
    # The loss is then compared with an absolute floor: near the minimum it is a small difference
    # of float32 numbers.
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else None
    loss_tol = dict(rel=1e-5, abs=1e-6) if dtype == np.float32 else dict(rel=1e-10, abs=1e-14)
    for step in range(4):
        assert opt.step(closure) == pytest.approx(topt.step(tclosure), **loss_tol)
        _compare(ours, theirs, dtype, step, tol)
        assert ours_calls == their_calls  # the same number of closure evaluations
        state, tstate = opt.state[ours[0]], topt.state[theirs[0]]
        assert state["n_iter"] == tstate["n_iter"] and state["func_evals"] == tstate["func_evals"]
        assert len(state["old_dirs"]) == len(tstate["old_dirs"])
    assert loss([p._data for p in ours]) < start


def test_lbfgs_solves_a_quadratic_with_a_real_model():
    model = gg.nn.Linear(3, 1)
    x = gg.randn(64, 3)
    y = x @ gg.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    opt = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        err = ((model(x) - y) ** 2).mean()
        err.backward()
        return err

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(model.weight._data, [[1.0, -2.0, 0.5]], atol=1e-4)
    np.testing.assert_allclose(model.bias._data, [0.3], atol=1e-4)


def test_lbfgs_refuses_groups_and_unknown_line_search():
    a, b = gg.zeros(2, requires_grad=True), gg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="one parameter group"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([a], line_search_fn="armijo")
    with pytest.raises(TypeError, match="closure"):
        optim.LBFGS([a]).step()


@pytest.mark.parametrize("name", NAMES)
def test_signature_and_defaults_match_torch(torch, name):
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    assert list(ours) == list(theirs)
    for key in theirs:
        assert ours[key].kind == theirs[key].kind, key
        assert ours[key].default == theirs[key].default, key


def _to_torch(torch, value):
    if isinstance(value, gg.Tensor):
        return torch.from_numpy(value._data.copy())
    if isinstance(value, float | int):
        return torch.tensor(value)
    return value


def _from_torch(value):
    return value.numpy().copy() if hasattr(value, "numpy") else value


@pytest.mark.parametrize(
    ("name", "kwargs"), [c for c in CONFIGS if c[1]], ids=[c[0] for c in CONFIGS if c[1]]
)
def test_state_dict_moves_both_ways(torch, name, kwargs):
    """Five steps in both libraries; then each state_dict loads into a fresh optimizer of the other
    library, on copies of the parameters, and the four optimizers take five more steps: the two
    loaded ones together, the two originals together. (Loading casts scalar state such as NAdam's
    ``mu_product`` from float32 to the parameter's dtype in both libraries, so a loaded optimizer
    is compared with a loaded one.)"""
    sign = -1.0 if kwargs.get("maximize") else 1.0
    ours, theirs = _pair(torch, np.float64)
    opt, topt = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    _run(torch, opt, topt, ours, theirs, np.float64, sign, steps=5)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i in sd["state"]:
        assert set(sd["state"][i]) == set(tsd["state"][i])  # PyTorch's state names

    ours2 = [gg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    opt2 = getattr(optim, name)(ours2, **kwargs)
    state = {i: {k: _from_torch(v) for k, v in entries.items()} for i, entries in tsd["state"].items()}
    opt2.load_state_dict({"state": state, "param_groups": tsd["param_groups"]})

    theirs2 = [torch.tensor(p._data.copy(), requires_grad=True) for p in ours]
    topt2 = getattr(torch.optim, name)(theirs2, **kwargs)
    state = {i: {k: _to_torch(torch, v) for k, v in entries.items()} for i, entries in sd["state"].items()}
    topt2.load_state_dict({"state": state, "param_groups": sd["param_groups"]})

    for step in range(5):
        for a, b, sa, sb in ((opt, topt, ours, theirs), (opt2, topt2, ours2, theirs2)):
            _set_grads(torch, sa, sb, sign, step)
            a.step()
            b.step()
            _compare(sa, sb, np.float64, step)


def test_lbfgs_state_dict_round_trip(torch):
    """Our LBFGS's history survives state_dict -> load_state_dict: the copy continues exactly."""
    kwargs = dict(max_iter=4, line_search_fn="strong_wolfe")
    ours, theirs = _pair(torch, np.float64)
    opt, topt = optim.LBFGS(ours, **kwargs), torch.optim.LBFGS(theirs, **kwargs)
    opt.step(_closure(gg, opt, ours, lambda p: p._data, [0]))
    topt.step(_closure(torch, topt, theirs, lambda p: p.detach().numpy(), [0]))
    ours2 = [gg.tensor(p._data.copy(), requires_grad=True) for p in ours]
    opt2 = optim.LBFGS(ours2, **kwargs)
    opt2.load_state_dict(opt.state_dict())
    for step in range(2):
        opt.step(_closure(gg, opt, ours, lambda p: p._data, [0]))
        opt2.step(_closure(gg, opt2, ours2, lambda p: p._data, [0]))
        topt.step(_closure(torch, topt, theirs, lambda p: p.detach().numpy(), [0]))
        _compare(ours2, ours, np.float64, step, dict(rtol=0, atol=0))
        _compare(ours, theirs, np.float64, step)


ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", *GROUPS]


@pytest.mark.parametrize("name", ALL)
def test_pytorch_keywords_are_accepted(name):
    p = gg.zeros(2, requires_grad=True)
    params = inspect.signature(getattr(optim, name)).parameters
    flags = {k: v.default for k, v in params.items() if k in ("foreach", "capturable", "fused", "maximize")}
    assert "maximize" in flags and "differentiable" in params
    getattr(optim, name)([p], lr=0.1, **flags)
    getattr(optim, name)([p], lr=0.1, foreach=True)  # a performance flag: accepted, same results
    # every one records its step of non-leaf params: test_optim_round59.py, test_optim_round59_2.py
    getattr(optim, name)([p * 1], lr=0.1, differentiable=True)


def test_lbfgs_continues_from_a_torch_state_dict(torch):
    """PyTorch's LBFGS history (tensors, lists of tensors, 0-d tensors) loads into ours."""
    kwargs = dict(max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    ours, theirs = _pair(torch, np.float64)
    topt = torch.optim.LBFGS(theirs, **kwargs)
    topt.step(_closure(torch, topt, theirs, lambda p: p.detach().numpy(), [0]))
    ours = [gg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    opt = optim.LBFGS(ours, **kwargs)
    opt.load_state_dict(topt.state_dict())
    for step in range(2):
        opt.step(_closure(gg, opt, ours, lambda p: p._data, [0]))
        topt.step(_closure(torch, topt, theirs, lambda p: p.detach().numpy(), [0]))
        _compare(ours, theirs, np.float64, step)
