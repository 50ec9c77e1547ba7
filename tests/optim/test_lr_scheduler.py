"""Every learning-rate scheduler against ``torch.optim.lr_scheduler``: the lr (and momentum / beta1
where cycled) of each param group after each of ~30 steps must be the same float."""

from __future__ import annotations

import copy
import math

import pytest

import glassgrad as gg
from glassgrad import optim
from glassgrad.optim import lr_scheduler

STEPS = 30


def _warmup(e):
    return min(1.0, (e + 1) / 5)


def _decay(e):
    return 0.97**e


CONFIGS = {
    "LambdaLR": lambda S, o: S.LambdaLR(o, lr_lambda=_decay),
    "LambdaLR-per-group": lambda S, o: S.LambdaLR(o, lr_lambda=[_warmup, _decay]),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lr_lambda=lambda e: 0.9 if e % 2 else 0.95),
    "StepLR": lambda S, o: S.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, milestones=[3, 8, 8, 20], gamma=0.3),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "CosineAnnealingLR-odd": lambda S, o: S.CosineAnnealingLR(o, T_max=7),
    "LinearLR": lambda S, o: S.LinearLR(o),
    "LinearLR-down": lambda S, o: S.LinearLR(o, start_factor=0.5, end_factor=0.1, total_iters=8),
    "ConstantLR": lambda S, o: S.ConstantLR(o),
    "ConstantLR-custom": lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=12, power=2.0),
    "SequentialLR-warmup-cosine": lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=20)], milestones=[5]
    ),
    "SequentialLR-three": lambda S, o: S.SequentialLR(
        o,
        [S.ConstantLR(o, factor=0.2, total_iters=10), S.ExponentialLR(o, gamma=0.8), S.StepLR(o, 3, 0.5)],
        milestones=[4, 12],
    ),
    "ChainedScheduler": lambda S, o: S.ChainedScheduler(
        [S.ExponentialLR(o, gamma=0.95), S.StepLR(o, 5, 0.5)]
    ),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=STEPS),
    "OneCycleLR-per-group-linear": lambda S, o: S.OneCycleLR(
        o, max_lr=[1.0, 0.4], epochs=3, steps_per_epoch=10, anneal_strategy="linear", pct_start=0.25
    ),
    "OneCycleLR-three-phase": lambda S, o: S.OneCycleLR(
        o, max_lr=0.5, total_steps=STEPS, three_phase=True, base_momentum=0.8, max_momentum=0.9
    ),
    "OneCycleLR-no-momentum": lambda S, o: S.OneCycleLR(
        o, max_lr=0.5, total_steps=STEPS, cycle_momentum=False
    ),
}
OPTIMIZERS = {"SGD": dict(momentum=0.9), "Adam": dict(betas=(0.9, 0.999)), "RMSprop": dict(momentum=0.5)}


def _optimizers(name="SGD"):
    torch = pytest.importorskip("torch")
    ours = [gg.tensor([1.0, 2.0], requires_grad=True), gg.tensor([3.0], requires_grad=True)]
    theirs = [torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0], requires_grad=True)]

    def groups(ps):
        return [{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.05}]

    kwargs = OPTIMIZERS[name]
    return getattr(optim, name)(groups(ours), **kwargs), getattr(torch.optim, name)(groups(theirs), **kwargs)


def _snapshot(opt, sched):
    keys = ("lr", "momentum", "betas")
    return [sched.get_last_lr(), [[g.get(k) for k in keys] for g in opt.param_groups]]


def _run(sched, opt, steps=STEPS - 1, metrics=None):
    seen = [_snapshot(opt, sched)]
    for i in range(steps):
        opt.step()  # no gradients: a no-op, but in the documented order
        sched.step() if metrics is None else sched.step(metrics[i])
        seen.append(_snapshot(opt, sched))
    return seen


CASES = [(c, "SGD") for c in CONFIGS] + [
    (c, o) for c in CONFIGS if c.startswith("OneCycle") for o in ("Adam", "RMSprop")
]


@pytest.mark.parametrize(("config", "opt_name"), CASES)
def test_schedule_matches_torch(torch, config, opt_name):
    opt, topt = _optimizers(opt_name)
    ours = _run(CONFIGS[config](lr_scheduler, opt), opt)
    theirs = _run(CONFIGS[config](torch.optim.lr_scheduler, topt), topt)
    assert ours == theirs
    assert len({tuple(lrs) for lrs, _ in ours}) > 1  # the schedule did move


def test_onecycle_refuses_steps_past_the_end():
    opt, _ = _optimizers()
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        sched.step()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(patience=2),
        dict(mode="max", factor=0.5, patience=1, cooldown=2),
        dict(threshold=0.1, threshold_mode="abs", patience=0, min_lr=[0.02, 0.001]),
        dict(mode="max", threshold_mode="abs", threshold=0.5, patience=1, eps=0.01),
    ],
)
def test_reduce_on_plateau_matches_torch(torch, kwargs):
    metrics = [5.0, 4.0, 4.0, 3.99, 4.1, 4.2, 3.0, 3.0, 3.0, 3.0, 2.9, 5.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    metrics = metrics + [m + 0.5 * math.sin(i) for i, m in enumerate(metrics)]
    opt, topt = _optimizers()
    ours = _run(lr_scheduler.ReduceLROnPlateau(opt, **kwargs), opt, len(metrics), metrics)
    theirs = _run(torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs), topt, len(metrics), metrics)
    assert ours == theirs
    assert ours[-1][0] != ours[0][0]  # it did cut the rate


RESUME = {
    "StepLR": dict(step_size=7, gamma=0.5),
    "CosineAnnealingLR": dict(T_max=10, eta_min=0.001),
    "LinearLR": {},
    "ExponentialLR": dict(gamma=0.9),
    "MultiStepLR": dict(milestones=[3, 8, 8, 20], gamma=0.3),
}


@pytest.mark.parametrize("config", list(RESUME))
def test_resuming_with_last_epoch_matches_torch(torch, config):
    opt, topt = _optimizers()
    for o in (opt, topt):
        for g in o.param_groups:
            g["initial_lr"] = g["lr"] * 2  # resumed: the groups already know their starting rate

    def resumed(S, o):
        return getattr(S, config)(o, last_epoch=6, **RESUME[config])

    assert _run(resumed(lr_scheduler, opt), opt) == _run(resumed(torch.optim.lr_scheduler, topt), topt)


def test_resuming_without_initial_lr_raises():
    opt, _ = _optimizers()
    with pytest.raises(
        KeyError, match=r"StepLR: expected 'initial_lr' in param_groups\[0\] to resume at last_epoch=3"
    ):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)


@pytest.mark.parametrize(
    "config", ["StepLR", "CosineAnnealingLR", "OneCycleLR", "SequentialLR-warmup-cosine"]
)
def test_torch_scheduler_state_loads_into_glassgrad(torch, config):
    opt, topt = _optimizers()
    tsched = CONFIGS[config](torch.optim.lr_scheduler, topt)
    for _ in range(12):
        topt.step()
        tsched.step()
    sched = CONFIGS[config](lr_scheduler, opt)
    opt.load_state_dict({"state": {}, "param_groups": copy.deepcopy(topt.state_dict()["param_groups"])})
    sched.load_state_dict(copy.deepcopy(tsched.state_dict()))
    assert _run(sched, opt, 12) == _run(tsched, topt, 12)
