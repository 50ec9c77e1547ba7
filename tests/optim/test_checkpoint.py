"""Optimizer and scheduler state survive ``glassgrad.save`` / ``load`` (safetensors + JSON):
resuming from the file continues exactly the uninterrupted run."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from glassgrad.optim import lr_scheduler as S
from glassgrad.serialization import load, save
from tests.optim.problem import grads, initial_values


@pytest.fixture(autouse=True)
def _needs_safetensors():
    """save/load need safetensors (a dev dependency): without it each test skips on its own."""
    pytest.importorskip("safetensors")


RUNS = [
    (lambda ps: SGD(ps, lr=0.01, momentum=0.9), lambda o: S.MultiStepLR(o, milestones=[3, 7, 7], gamma=0.5)),
    (lambda ps: Adam(ps, lr=0.05, amsgrad=True), lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=20)),
    (lambda ps: AdamW(ps, lr=0.05), lambda o: S.NoamLR(o, d_model=16, warmup_steps=4)),
    (
        lambda ps: RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
        lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.5, total_iters=3), S.CosineAnnealingLR(o, 10)], [3]),
    ),
    (lambda ps: Adagrad(ps, lr=0.1), lambda o: S.ReduceLROnPlateau(o, patience=1)),
    (  # the restart at the milestone, after the resume, uses MultiStepLR's closed form
        lambda ps: SGD(ps, lr=0.01),
        lambda o: S.SequentialLR(o, [S.ConstantLR(o, 0.5, 2), S.MultiStepLR(o, [1, 4], 0.5)], [7]),
    ),
]


def _train(opt, sched, ps, steps):
    for _ in range(steps):
        for p, g in zip(ps, grads([p._data for p in ps])):
            p.grad = gg.tensor(g)
        opt.step()
        if isinstance(sched, S.ReduceLROnPlateau):
            sched.step(1.0)  # a flat metric: the rate gets cut
        else:
            sched.step()


@pytest.mark.parametrize("run", range(len(RUNS)))
def test_resume_from_a_file(run, tmp_path):
    make_opt, make_sched = RUNS[run]
    ps = [gg.tensor(v, requires_grad=True) for v in initial_values()]
    opt = make_opt(ps)
    sched = make_sched(opt)
    _train(opt, sched, ps, 5)
    save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ckpt.safetensors")
    ckpt = load(tmp_path / "ckpt.safetensors")
    resumed_ps = [gg.tensor(p._data, requires_grad=True) for p in ps]
    resumed_opt = make_opt(resumed_ps)
    resumed_sched = make_sched(resumed_opt)
    resumed_opt.load_state_dict(ckpt["optimizer"])
    resumed_sched.load_state_dict(ckpt["scheduler"])
    _train(opt, sched, ps, 8)
    _train(resumed_opt, resumed_sched, resumed_ps, 8)
    for a, b in zip(ps, resumed_ps):
        np.testing.assert_array_equal(a._data, b._data)
    assert resumed_sched.get_last_lr() == sched.get_last_lr()
