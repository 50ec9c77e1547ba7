"""Schedulers without PyTorch: NoamLR (which PyTorch lacks), state_dict round trips, errors."""

from __future__ import annotations

import copy
import math

import pytest

import glassgrad as gg
from glassgrad.optim import SGD, Adam
from glassgrad.optim import lr_scheduler as S
from glassgrad.optim.lr_scheduler.noam import noam_lr


def _opt(lr=1.0, cls=SGD, groups=1):
    return cls([{"params": [gg.tensor([float(i)], requires_grad=True)]} for i in range(groups)], lr=lr)


def _lrs(sched, opt, n):
    out = [sched.get_last_lr()[0]]
    for _ in range(n):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


def test_noam_rises_linearly_peaks_at_warmup_then_decays_as_inverse_sqrt():
    d_model, warmup = 64, 10
    opt = _opt()
    lrs = _lrs(S.NoamLR(opt, d_model=d_model, warmup_steps=warmup), opt, 40)  # lrs[k] is for step s = k + 1
    assert lrs[0] > 0
    assert max(range(len(lrs)), key=lrs.__getitem__) == warmup - 1  # the peak: s == warmup_steps
    for k in range(warmup):  # linear: lr(s) = s * lr(1)
        assert lrs[k] == pytest.approx((k + 1) * lrs[0], rel=1e-12)
    for k in range(warmup - 1, len(lrs)):  # inverse square root: lr(s) * sqrt(s) is constant
        assert lrs[k] * math.sqrt(k + 1) == pytest.approx(d_model**-0.5, rel=1e-12)
    assert opt.param_groups[0]["lr"] == lrs[-1]


def test_noam_equals_lambdalr_written_from_the_formula_and_ignores_the_optimizer_lr():
    d_model, warmup, factor = 512, 4000, 2.0
    a, b = _opt(lr=1.0, cls=Adam, groups=2), _opt(lr=123.0, cls=Adam, groups=2)
    c = _opt(lr=1.0, cls=Adam, groups=2)

    def formula(e):
        s = e + 1
        return factor * d_model**-0.5 * min(s**-0.5, s * warmup**-1.5)

    lambda_lrs = _lrs(S.LambdaLR(a, formula), a, 30)
    noam_lrs = _lrs(S.NoamLR(b, d_model=d_model, warmup_steps=warmup, factor=factor), b, 30)
    assert noam_lrs == lambda_lrs
    assert noam_lrs == _lrs(S.NoamLR(c, d_model, warmup, factor), c, 30)
    assert [g["lr"] for g in b.param_groups] == [noam_lrs[-1]] * 2
    assert noam_lr(4000, 512, 4000) == pytest.approx(512**-0.5 * 4000**-0.5, rel=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(d_model=0, warmup_steps=10), "NoamLR: expected a positive integer d_model, got 0"),
        (dict(d_model=64, warmup_steps=2.5), "NoamLR: expected a positive integer warmup_steps, got 2.5"),
        (dict(d_model=64, warmup_steps=10, factor=0), "NoamLR: expected factor > 0, got 0"),
    ],
)
def test_noam_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        S.NoamLR(_opt(), **kwargs)


MAKERS = {
    "StepLR": lambda o: S.StepLR(o, step_size=3, gamma=0.5),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "NoamLR": lambda o: S.NoamLR(o, d_model=16, warmup_steps=5),
    "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=2.0, total_steps=30),
    "SequentialLR": lambda o: S.SequentialLR(
        o, [S.LinearLR(o, 0.2, total_iters=4), S.ExponentialLR(o, 0.9)], [4]
    ),
    "LambdaLR": lambda o: S.LambdaLR(o, lambda e: 1 / (e + 1)),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_scheduler_state_dict_round_trip(name):
    opt = _opt(lr=0.5, groups=2)
    sched = MAKERS[name](opt)
    _lrs(sched, opt, 10)
    opt_state, sched_state = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    assert "optimizer" not in sched_state and sched_state["last_epoch"] == 10
    resumed_opt = _opt(lr=0.5, groups=2)
    resumed = MAKERS[name](resumed_opt)
    resumed_opt.load_state_dict(opt_state)
    resumed.load_state_dict(sched_state)
    assert _lrs(resumed, resumed_opt, 15) == _lrs(sched, opt, 15)


def test_scheduler_errors():
    opt = _opt()
    with pytest.raises(TypeError, match="StepLR: expected an Optimizer, got list"):
        S.StepLR([], step_size=2)
    with pytest.raises(ValueError, match="LambdaLR: expected 1 lr_lambdas, got 2"):
        S.LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0])
    with pytest.raises(TypeError, match="expected lr_lambda to be callable, got float"):
        S.MultiplicativeLR(opt, 0.9)
    with pytest.raises(ValueError, match="LinearLR: expected 0 < start_factor <= 1, got 0"):
        S.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="ConstantLR: expected 0 <= factor <= 1, got 2"):
        S.ConstantLR(opt, factor=2)
    with pytest.raises(ValueError, match="SequentialLR: expected 1 milestones for 2 schedulers, got 0"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="expected all schedulers on the same optimizer"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(_opt(), 3)], milestones=[3])
    with pytest.raises(ValueError, match="cannot hold ReduceLROnPlateau"):
        S.ChainedScheduler([S.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="OneCycleLR: expected total_steps, or epochs and steps_per_epoch"):
        S.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match=r"OneCycleLR: expected one max_lr per param group \(1\), got 2"):
        S.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=10)
    with pytest.raises(ValueError, match="expected anneal_strategy 'cos' or 'linear', got 'exp'"):
        S.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="ReduceLROnPlateau: expected factor < 1, got 1.5"):
        S.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="expected mode 'min' or 'max', got 'up'"):
        S.ReduceLROnPlateau(opt, mode="up")


def test_onecycle_needs_momentum_to_cycle_it():
    from glassgrad.optim import Adagrad

    opt = Adagrad([gg.tensor([1.0], requires_grad=True)])
    with pytest.raises(
        ValueError, match="cycle_momentum=True needs an optimizer with momentum or betas, got Adagrad"
    ):
        S.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    S.OneCycleLR(opt, max_lr=1.0, total_steps=10, cycle_momentum=False)
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0 / 25)


def test_step_with_epoch_warns_and_uses_the_closed_form():
    opt = _opt()
    sched = S.StepLR(opt, step_size=2, gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    assert sched.get_last_lr() == [0.25] and sched.last_epoch == 5
