"""PointNet's ``utils/train_classification.py`` (round 26) calls ``scheduler.step()`` at the top of
each epoch, before any ``optimizer.step()``: PyTorch warns once that the schedule's first value
is skipped, and glassgrad now gives the same warning (and none in the right order)."""

from __future__ import annotations

import warnings

import pytest

import glassgrad


def _order_warnings(lib, scheduler_first: bool) -> list[str]:
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.Adam([p], lr=0.1)
    sched = lib.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            if scheduler_first:
                sched.step()
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
            if not scheduler_first:
                sched.step()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)], opt.param_groups[0]["lr"]


@pytest.mark.parametrize("scheduler_first", [True, False])
def test_scheduler_before_optimizer_warns_as_torch(torch, scheduler_first):
    t_msgs, t_lr = _order_warnings(torch, scheduler_first)
    g_msgs, g_lr = _order_warnings(glassgrad, scheduler_first)
    assert g_msgs == t_msgs
    assert len(g_msgs) == (1 if scheduler_first else 0)
    assert g_lr == pytest.approx(t_lr)


def test_step_still_runs_after_the_wrap():
    p = glassgrad.nn.Parameter(glassgrad.ones(2))
    opt = glassgrad.optim.SGD([p], lr=0.5)
    glassgrad.optim.lr_scheduler.StepLR(opt, step_size=1)
    glassgrad.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)  # a second scheduler wraps nothing more
    assert opt.step.__name__ == "step" and opt.step._wrapped_by_lr_sched
    (p * p).sum().backward()
    opt.step()
    assert opt._opt_called and p.detach().numpy().tolist() == [0.0, 0.0]
