"""A one-element tensor lr, as PyTorch's optimizers take it: the group holds the user's tensor, a step
reads its value then, and a scheduler writes its rates into it in place (``fill_``), so a program
that changes the tensor itself, or reads it, sees the rate that is used."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
              "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]  # fmt: skip
SCHEDULES = [None, "step", "cosine", "plateau"]


def _run(lib, name, schedule):
    w = lib.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), requires_grad=True)
    lr = lib.tensor(0.1)
    opt = getattr(lib.optim, name)([w], lr=lr)
    sched = {
        None: lambda: None,
        "step": lambda: lib.optim.lr_scheduler.StepLR(opt, 2, 0.5),
        "cosine": lambda: lib.optim.lr_scheduler.CosineAnnealingLR(opt, 5),
        "plateau": lambda: lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0),
    }[schedule]()
    rates = []
    for _ in range(6):
        opt.zero_grad()
        loss = (w**2).sum() + w.sum()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step(loss.item()) if schedule == "plateau" else sched.step()
        rates.append(float(opt.param_groups[0]["lr"]))
        assert opt.param_groups[0]["lr"] is lr  # written in place, never replaced
    lr.fill_(0.01)  # the user's own tensor is the group's rate
    opt.zero_grad()
    (w**2).sum().backward()
    opt.step()
    return w.detach().numpy().copy(), rates


@pytest.mark.parametrize("schedule", SCHEDULES, ids=str)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_tensor_lr_steps_and_schedules_as_pytorch(torch, name, schedule):
    got_w, got_rates = _run(gg, name, schedule)
    want_w, want_rates = _run(torch, name, schedule)
    np.testing.assert_allclose(got_rates, want_rates, rtol=1e-6)
    np.testing.assert_allclose(got_w, want_w, rtol=1e-5, atol=1e-6)


def test_a_tensor_lr_is_the_rate_a_step_uses():
    w = gg.zeros(1, requires_grad=True)
    lr = gg.tensor(0.5, dtype=gg.float64)
    opt = gg.optim.SGD([w], lr=lr)
    w.sum().backward()
    opt.step()
    lr.fill_(0.25)
    opt.step()
    assert w.item() == -0.75


def test_a_tensor_lr_of_several_elements_is_refused(torch):
    for lib in (torch, gg):
        w = lib.zeros(2, requires_grad=True)
        with pytest.raises(ValueError, match="1-element"):
            lib.optim.SGD([w], lr=lib.tensor([0.1, 0.2]))


def test_adam_refuses_a_tensor_lr_with_foreach_as_pytorch(torch):
    for lib in (torch, gg):
        w = lib.zeros(2, requires_grad=True)
        with pytest.raises(ValueError, match="lr as a Tensor is not supported"):
            lib.optim.Adam([w], lr=lib.tensor(0.1), foreach=True)
        lib.optim.Adam([w], lr=lib.tensor(0.1), foreach=True, capturable=True)


def test_a_tensor_lr_survives_a_state_dict_round_trip(tmp_path):
    w = gg.zeros(2, requires_grad=True)
    opt = gg.optim.Adam([w], lr=gg.tensor(0.1))
    w.sum().backward()
    opt.step()
    gg.save(opt.state_dict(), tmp_path / "opt.pt")
    again = gg.optim.Adam([w], lr=gg.tensor(0.5))
    again.load_state_dict(gg.load(tmp_path / "opt.pt"))
    assert float(again.param_groups[0]["lr"]) == pytest.approx(0.1)
