"""The built-in optimizers step on a huge gradient without NumPy's overflow warnings, to
PyTorch's values (its steps never warn)."""

from __future__ import annotations

import warnings

import pytest

import glassgrad as gg

CASES = [("SGD", {"momentum": 0.9}), ("Adam", {}), ("AdamW", {}), ("RMSprop", {}), ("Adagrad", {}),
         ("NAdam", {}), ("RAdam", {}), ("Adamax", {}), ("Adadelta", {})]  # fmt: skip


@pytest.mark.parametrize(("name", "kw"), CASES)
def test_huge_gradient_steps_quietly_as_torch(torch, name, kw):
    out = []
    for lib in (gg, torch):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
        opt = getattr(lib.optim, name)([p], lr=0.1, **kw)
        for _ in range(2):
            p.grad = lib.tensor([3e38, -1.0])
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                opt.step()
        out.append(p.detach().tolist())
    assert out[0] == pytest.approx(out[1], nan_ok=True)


def test_a_users_step_is_not_wrapped():
    class Mine(gg.optim.Optimizer):
        def step(self, closure=None):
            return None

    assert not getattr(Mine.step, "__quiet__", False)
    assert getattr(gg.optim.Adam.step, "__quiet__", False)
