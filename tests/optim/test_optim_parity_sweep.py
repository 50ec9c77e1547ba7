"""A compact seeded randomized parity sweep of ``glassgrad.optim`` and its schedulers against PyTorch.

Random options per group, parameters of shapes ``()``, ``(0,)``, ``(3,)``, ``(2, 3)`` in float64,
gradients that are random, zero, sparse or missing, ``zero_grad`` both ways, a learning rate
changed mid-run, ``add_param_group``, and one optimizer's ``state_dict`` loaded into the other
library mid-run; parameters and state are compared after every step. Schedulers: random options,
the lrs and momenta compared exactly for 20 steps, with a ``state_dict`` round trip midway.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import optim
from glassgrad.optim import lr_scheduler

SHAPES = [(), (0,), (3,), (2, 3)]


def _options(name, rng):
    """Random options for ``name``, every one PyTorch accepts."""
    pick = lambda *values: values[int(rng.integers(len(values)))]  # noqa: E731
    flag = lambda: bool(rng.random() < 0.5)  # noqa: E731
    beta = lambda: (pick(0.9, 0.3, 0.0), pick(0.999, 0.5))  # noqa: E731
    table = {
        "SGD": lambda: dict(momentum=pick(0.0, 0.9), dampening=pick(0.0, 0.1), weight_decay=pick(0.0, 0.1)),
        "Adam": lambda: dict(betas=beta(), eps=pick(1e-8, 1e-3), weight_decay=pick(0.0, 0.1), amsgrad=flag()),
        "AdamW": lambda: dict(betas=beta(), weight_decay=pick(0.0, 0.1), amsgrad=flag()),
        "RMSprop": lambda: dict(alpha=pick(0.99, 0.3), momentum=pick(0.0, 0.5), centered=flag()),
        "Adagrad": lambda: dict(lr_decay=pick(0.0, 0.1), weight_decay=pick(0.0, 0.1), eps=pick(1e-10, 1e-3)),
        "Adadelta": lambda: dict(rho=pick(0.9, 0.3, 1.0), eps=pick(1e-6, 1e-3), weight_decay=pick(0.0, 0.1)),
        "Adamax": lambda: dict(betas=beta(), eps=pick(1e-8, 1e-3), weight_decay=pick(0.0, 0.1)),
        "NAdam": lambda: dict(betas=beta(), momentum_decay=pick(4e-3, 0.1), decoupled_weight_decay=flag()),
        "RAdam": lambda: dict(betas=(0.9, pick(0.999, 0.5)), weight_decay=pick(0.0, 0.1)),
        "Rprop": lambda: dict(
            etas=(pick(0.5, 0.3), pick(1.2, 1.5)), step_sizes=(pick(1e-6, 0.0), pick(50.0, 0.05))
        ),
        "ASGD": lambda: dict(
            lambd=pick(1e-4, 0.05), alpha=pick(0.75, 1.0), t0=pick(1e6, 2.0), weight_decay=0.1
        ),
    }
    opts = {k: v for k, v in table[name]().items() if rng.random() < 0.7}
    if rng.random() < 0.7:
        opts["lr"] = pick(0.01, 0.1)
    if rng.random() < 0.3:
        opts["maximize"] = True
    if name == "SGD" and opts.get("momentum") and not opts.get("dampening") and flag():
        opts["nesterov"] = True
    return opts


def _value(v):
    if isinstance(v, gg.Tensor):
        return v._data
    return v.detach().numpy() if hasattr(v, "detach") else v


def _compare(ours, theirs, opt, topt, where):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(
            a._data, b.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=f"{where} p{i}"
        )
    sd, tsd = opt.state_dict(), topt.state_dict()
    for i, entries in sd["state"].items():
        assert list(entries) == list(tsd["state"][i]), where
        for key, value in entries.items():
            np.testing.assert_allclose(
                np.asarray(_value(value), float), np.asarray(_value(tsd["state"][i][key]), float),
                rtol=1e-12, atol=1e-14, err_msg=f"{where} state[{i}][{key}]",
            )  # fmt: skip
    for group, tgroup in zip(sd["param_groups"], tsd["param_groups"]):
        assert {k: v for k, v in tgroup.items() if k in group} == group, where


def _to_glassgrad(sd):
    state = {i: {k: _value(v).copy() for k, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(sd["param_groups"])}


def _to_torch(torch, sd):
    def convert(key, v):
        return torch.tensor(float(v)) if key == "step" else torch.from_numpy(_value(v).copy())

    state = {i: {k: convert(k, v) for k, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(sd["param_groups"])}


OPTIMIZERS = [
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "NAdam",
    "RAdam",
    "Rprop",
    "ASGD",
]


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("seed", range(3))
def test_optimizer_sweep(torch, name, seed):
    rng = np.random.default_rng([seed, OPTIMIZERS.index(name)])
    values = [rng.standard_normal(SHAPES[int(rng.integers(len(SHAPES)))]) for _ in range(4)]
    ours = [gg.tensor(v.copy(), requires_grad=True) for v in values]
    theirs = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    defaults = _options(name, rng)
    # Adagrad's state comes from the constructor's initial_accumulator_value in PyTorch (see docs/optim.md)
    extras = [{} if name == "Adagrad" else _options(name, rng) for _ in range(3)]
    # a group whose own options break nesterov's rule is refused here (docs/optim.md), not by PyTorch
    drop = ("nesterov", "momentum", "dampening") if defaults.get("nesterov") else ("nesterov",)
    extras = [{k: v for k, v in e.items() if k not in drop} for e in extras]
    late = name != "Adagrad"  # PyTorch's Adagrad has no state for a group added later

    def build(lib, params):
        first, second = copy.deepcopy(extras[:2])
        groups = [{"params": params[:1], **first}, {"params": params[1 : 3 if late else 4], **second}]
        return getattr(lib, name)(groups, **defaults)

    opt, topt = build(optim, ours), build(torch.optim, theirs)
    switch = int(rng.integers(2, 7))
    for step in range(8):
        if late and step == 1:
            opt.add_param_group({"params": [ours[3]], **extras[2]})
            topt.add_param_group({"params": [theirs[3]], **extras[2]})
        if rng.random() < 0.2:
            set_to_none = bool(rng.random() < 0.5)
            opt.zero_grad(set_to_none=set_to_none)
            topt.zero_grad(set_to_none=set_to_none)
        else:
            for a, b in zip(ours, theirs):
                kind = rng.random()
                g = (
                    None
                    if kind < 0.15
                    else rng.standard_normal(a.shape) * (kind > 0.25) * (rng.random(a.shape) < 0.7)
                )
                a.grad = None if g is None else gg.tensor(g)
                b.grad = None if g is None else torch.tensor(g)
        if rng.random() < 0.2:
            for group, tgroup in zip(opt.param_groups, topt.param_groups):
                group["lr"] = tgroup["lr"] = tgroup["lr"] * 0.5
        opt.step()
        topt.step()
        _compare(ours, theirs, opt, topt, f"step {step}")
        if step == switch:  # continue from the other library's state_dict
            fresh = build(optim if seed % 2 else torch.optim, ours if seed % 2 else theirs)
            if late:
                fresh.add_param_group({"params": [(ours if seed % 2 else theirs)[3]]})
            # (loading casts scalar state such as mu_product to the parameter's dtype: reload both)
            if seed % 2:
                fresh.load_state_dict(_to_glassgrad(topt.state_dict()))
                opt = fresh
                topt.load_state_dict(copy.deepcopy(topt.state_dict()))
            else:
                fresh.load_state_dict(_to_torch(torch, opt.state_dict()))
                topt = fresh
                opt.load_state_dict(opt.state_dict())
            _compare(ours, theirs, opt, topt, f"after loading at step {step}")


@pytest.mark.parametrize("seed", range(4))
def test_lbfgs_sweep(torch, seed):
    rng = np.random.default_rng([seed, 99])
    m = rng.standard_normal((5, 5))
    a, b = m @ m.T + np.eye(5), rng.standard_normal(5)
    start = rng.standard_normal(5)
    kw = dict(history_size=int(rng.choice([2, 100])), max_iter=int(rng.choice([3, 10])))
    kw.update(lr=float(rng.choice([0.3, 1.0])), tolerance_change=float(rng.choice([1e-9, 1e-3])))
    if seed % 2:
        kw["line_search_fn"] = "strong_wolfe"
    x, tx = gg.tensor(start.copy(), requires_grad=True), torch.tensor(start.copy(), requires_grad=True)
    opt, topt = optim.LBFGS([x], **kw), torch.optim.LBFGS([tx], **kw)

    def make_closure(lib, o, v):
        mat, vec = lib.tensor(a), lib.tensor(b)

        def closure():
            o.zero_grad()
            loss = 0.5 * (v @ (mat @ v)) - vec @ v + (v**4).sum() * 0.1
            loss.backward()
            return loss

        return closure

    for _ in range(3):
        opt.step(make_closure(gg, opt, x))
        topt.step(make_closure(torch, topt, tx))
        np.testing.assert_allclose(x._data, tx.detach().numpy(), rtol=1e-9, atol=1e-11)
        ours, theirs = opt.state_dict()["state"][0], topt.state_dict()["state"][0]
        assert (ours["func_evals"], ours["n_iter"]) == (theirs["func_evals"], theirs["n_iter"])


def _lambda(epoch):
    return 0.9**epoch


SCHEDULES = {
    "StepLR": lambda p: dict(step_size=p(1, 3), gamma=p(0.5, 0.9)),
    "MultiStepLR": lambda p: dict(milestones=p([2, 5], [3, 3, 7]), gamma=p(0.1, 0.5)),
    "ExponentialLR": lambda p: dict(gamma=p(0.9, 1.1)),
    "CosineAnnealingLR": lambda p: dict(T_max=p(1, 3, 10), eta_min=p(0.0, 0.01)),
    "CosineAnnealingWarmRestarts": lambda p: dict(T_0=p(1, 3), T_mult=p(1, 2), eta_min=p(0.0, 0.01)),
    "LinearLR": lambda p: dict(start_factor=p(0.1, 1.0), end_factor=p(1.0, 0.0), total_iters=p(1, 7)),
    "ConstantLR": lambda p: dict(factor=p(1 / 3, 0.5), total_iters=p(1, 7)),
    "PolynomialLR": lambda p: dict(total_iters=p(1, 10), power=p(1.0, 0.5)),
    "LambdaLR": lambda p: dict(lr_lambda=_lambda),
    "MultiplicativeLR": lambda p: dict(lr_lambda=_lambda),
    "CyclicLR": lambda p: dict(
        base_lr=0.01,
        max_lr=p(0.1, 1.0),
        step_size_up=p(1, 4),
        step_size_down=p(None, 3),
        mode=p("triangular", "triangular2", "exp_range"),
        gamma=0.9,
        cycle_momentum=p(True, False),
    ),
    "OneCycleLR": lambda p: dict(
        max_lr=p(0.1, 1.0),
        total_steps=21,
        pct_start=p(0.3, 0.1),
        anneal_strategy=p("cos", "linear"),
        three_phase=p(False, True),
        cycle_momentum=p(True, False),
    ),
    "ReduceLROnPlateau": lambda p: dict(
        mode=p("min", "max"),
        patience=p(0, 2),
        threshold_mode=p("rel", "abs"),
        cooldown=p(0, 2),
        min_lr=p(0.0, 0.02),
    ),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("seed", range(3))
def test_scheduler_sweep(torch, name, seed):
    rng = np.random.default_rng([seed, len(name)])
    kw = SCHEDULES[name](lambda *values: values[int(rng.integers(len(values)))])
    lrs = [0.1, float(rng.choice([0.05, 1.0]))]
    adam = bool(seed == 2)

    def build(lib, cls_lib, params):
        groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs)]
        opt = cls_lib.Adam(groups) if adam else cls_lib.SGD(groups, momentum=0.9)
        return opt, getattr(lib, name)(opt, **kw)

    opt, sched = build(lr_scheduler, optim, [gg.zeros(2, requires_grad=True) for _ in lrs])
    topt, tsched = build(
        torch.optim.lr_scheduler, torch.optim, [torch.zeros(2, requires_grad=True) for _ in lrs]
    )
    key = "betas" if adam else "momentum"
    for step in range(20):
        assert sched.get_last_lr() == tsched.get_last_lr(), step
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups], step
        assert [g[key] for g in opt.param_groups] == [g[key] for g in topt.param_groups], step
        opt.step()
        topt.step()
        metric = float(rng.choice([1.0, 0.5, 2.0]))
        args = (metric,) if name == "ReduceLROnPlateau" else ()
        sched.step(*args)
        tsched.step(*args)
        if step == 9:  # a fresh scheduler takes PyTorch's state_dict and the schedule goes on
            saved = copy.deepcopy(tsched.state_dict())
            current = [dict(g) for g in opt.param_groups]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sched = getattr(lr_scheduler, name)(opt, **kw)
            for group, before in zip(opt.param_groups, current):
                group.update({k: v for k, v in before.items() if k != "params"})
            sched.load_state_dict(saved)
