"""CosineAnnealingWarmRestarts and CyclicLR against ``torch.optim.lr_scheduler``: each group's lr
(and momentum / β₁ where cycled) after every step must be the same float; state_dict round trips."""

from __future__ import annotations

import copy

import pytest

import glassgrad as gg
from glassgrad import optim
from glassgrad.optim import lr_scheduler

CONFIGS = {
    "CAWR": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=5),
    "CAWR-mult": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
    "Cyclic-triangular": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "Cyclic-triangular2": lambda S, o: S.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=3, step_size_down=5, mode="triangular2"
    ),
    "Cyclic-exp_range": lambda S, o: S.CyclicLR(o, 0.001, 0.1, step_size_up=5, mode="exp_range", gamma=0.9),
    "Cyclic-scale_fn-iterations": lambda S, o: S.CyclicLR(
        o, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations"
    ),
    "Cyclic-no-momentum": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, cycle_momentum=False),
    "Cyclic-momentum-range": lambda S, o: S.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, base_momentum=0.5, max_momentum=[0.95, 0.7]
    ),
}
OPTIMIZERS = {"SGD": dict(momentum=0.9), "Adam": {}, "RMSprop": dict(momentum=0.5)}


def _optimizers(torch, name="SGD"):
    ours = [gg.tensor([1.0, 2.0], requires_grad=True), gg.tensor([3.0], requires_grad=True)]
    theirs = [torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0], requires_grad=True)]

    def groups(ps):
        return [{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.05}]

    kwargs = OPTIMIZERS[name]
    return getattr(optim, name)(groups(ours), **kwargs), getattr(torch.optim, name)(groups(theirs), **kwargs)


def _run(sched, opt, steps=25, epochs=None):
    def snapshot():
        return [
            sched.get_last_lr(),
            [[g.get(k) for k in ("lr", "momentum", "betas")] for g in opt.param_groups],
        ]

    seen = [snapshot()]
    for i in range(steps if epochs is None else len(epochs)):
        opt.step()
        sched.step() if epochs is None else sched.step(epochs[i])
        seen.append(snapshot())
    return seen


CASES = [(c, "SGD") for c in CONFIGS] + [("Cyclic-triangular", "Adam"), ("Cyclic-exp_range", "RMSprop")]


@pytest.mark.parametrize(("config", "opt_name"), CASES)
def test_schedule_matches_torch(torch, config, opt_name):
    opt, topt = _optimizers(torch, opt_name)
    ours = _run(CONFIGS[config](lr_scheduler, opt), opt)
    theirs = _run(CONFIGS[config](torch.optim.lr_scheduler, topt), topt)
    assert ours == theirs
    assert len({tuple(lrs) for lrs, _ in ours}) > 3  # the schedule did move


@pytest.mark.parametrize("config", ["CAWR", "CAWR-mult"])
def test_warm_restarts_with_fractional_epochs_match_torch(torch, config):
    """The documented per-batch use, ``scheduler.step(epoch + i / iters)``, and a jump back."""
    epochs = [e + i / 4 for e in range(8) for i in range(4)] + [26, 3.5, 0]
    opt, topt = _optimizers(torch)
    ours = _run(CONFIGS[config](lr_scheduler, opt), opt, epochs=epochs)
    theirs = _run(CONFIGS[config](torch.optim.lr_scheduler, topt), topt, epochs=epochs)
    assert ours == theirs


@pytest.mark.parametrize(("t_mult", "last_epoch"), [(1, 5), (2, 9), (1, 25), (3, 40)])
def test_warm_restarts_resumed_with_last_epoch_match_torch(torch, t_mult, last_epoch):
    """Built with ``last_epoch=k`` (each group has its ``initial_lr``), the schedule goes on from
    step k + 1; T_cur can be several periods past T_i there, so a restart keeps the remainder."""
    opt, topt = _optimizers(torch)
    for o in (opt, topt):
        for g in o.param_groups:
            g["initial_lr"] = g["lr"]
    kwargs = dict(T_0=3, T_mult=t_mult, eta_min=0.01, last_epoch=last_epoch)
    ours = _run(lr_scheduler.CosineAnnealingWarmRestarts(opt, **kwargs), opt, 12)
    theirs = _run(torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, **kwargs), topt, 12)
    assert ours == theirs


@pytest.mark.parametrize("config", [c for c in CONFIGS if "scale_fn" not in c])  # a lambda is not saved
def test_torch_scheduler_state_loads_into_glassgrad(torch, config):
    opt, topt = _optimizers(torch)
    tsched = CONFIGS[config](torch.optim.lr_scheduler, topt)
    for _ in range(7):
        topt.step()
        tsched.step()
    sched = CONFIGS[config](lr_scheduler, opt)
    opt.load_state_dict({"state": {}, "param_groups": copy.deepcopy(topt.state_dict()["param_groups"])})
    sched.load_state_dict(copy.deepcopy(tsched.state_dict()))
    assert _run(sched, opt, 12) == _run(tsched, topt, 12)


def test_state_dict_round_trip_keeps_the_schedule(torch):
    opt, _ = _optimizers(torch)
    sched = CONFIGS["CAWR-mult"](lr_scheduler, opt)
    for _ in range(6):
        sched.step()
    saved = copy.deepcopy(sched.state_dict())
    opt2, _ = _optimizers(torch)
    sched2 = CONFIGS["CAWR-mult"](lr_scheduler, opt2)  # as a resumed script does: build, then load
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    sched2.load_state_dict(saved)
    assert _run(sched2, opt2, 10) == _run(sched, opt, 10)


def test_errors_name_the_scheduler(torch):
    opt, _ = _optimizers(torch)
    with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts: expected a positive int T_0, got 0"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="T_mult >= 1, got 1.5"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=1.5)
    with pytest.raises(ValueError, match="CyclicLR: expected mode"):
        lr_scheduler.CyclicLR(opt, 0.1, 1.0, mode="sawtooth")
    with pytest.raises(ValueError, match="CyclicLR: cycle_momentum=True needs an optimizer with momentum"):
        lr_scheduler.CyclicLR(optim.Adagrad([gg.zeros(1, requires_grad=True)]), 0.1, 1.0)
    with pytest.raises(ValueError, match=r"CyclicLR: expected one base_lr per param group \(2\), got 3"):
        lr_scheduler.CyclicLR(opt, [0.1] * 3, 1.0)
