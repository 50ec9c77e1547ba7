"""``get_lr()`` called by hand, outside ``step()``: PyTorch's built-in schedules warn (being
chainable, it answers the next rate), a user's own ``_LRScheduler`` subclass does not (the LR-finder
of bentrevett/pytorch-image-classification calls it after ``step()``), and ``state_dict()`` carries
``_get_lr_called_within_step`` as PyTorch's does."""

from __future__ import annotations

import warnings

import pytest

import glassgrad as gg
from glassgrad.optim import swa_utils

BUILT_IN = {
    "LambdaLR": lambda S, o: S.LambdaLR(o, lambda e: 0.5**e),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.9),
    "StepLR": lambda S, o: S.StepLR(o, 2),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, [1, 3]),
    "ConstantLR": lambda S, o: S.ConstantLR(o),
    "LinearLR": lambda S, o: S.LinearLR(o),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, 0.9),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, 4),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, 5),
    "CyclicLR": lambda S, o: S.CyclicLR(o, 0.01, 0.1),
    "CosineAnnealingWarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, 3),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=10),
}


def _run(lib, make):
    """(warning messages from steps, from a hand call of get_lr(), its value, state_dict keys)."""
    p = lib.nn.Parameter(lib.zeros(2))
    opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
    with warnings.catch_warnings(record=True) as in_steps:
        warnings.simplefilter("always")
        sched = make(lib.optim.lr_scheduler, opt)
        for _ in range(2):
            opt.step()
            sched.step()
    with warnings.catch_warnings(record=True) as by_hand:
        warnings.simplefilter("always")
        value = sched.get_lr()
    return (
        [str(w.message) for w in in_steps],
        [str(w.message) for w in by_hand],
        value,
        sorted(sched.state_dict()),
    )


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_built_in_warns_like_pytorch(torch, name):
    ours, theirs = _run(gg, BUILT_IN[name]), _run(torch, BUILT_IN[name])
    assert ours[0] == theirs[0] == []
    assert (
        ours[1]
        == theirs[1]
        == ["To get the last learning rate computed by the scheduler, please use `get_last_lr()`."]
    )
    assert ours[2] == pytest.approx(theirs[2], rel=1e-12)
    assert ours[3] == theirs[3]


def test_user_subclass_and_swalr(torch):
    def exp_finder(S, o):
        class ExponentialLR(S._LRScheduler):  # the LR finder's, as published
            def __init__(self, optimizer, end_lr, num_iter, last_epoch=-1):
                self.end_lr, self.num_iter = end_lr, num_iter
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                r = self.last_epoch / self.num_iter
                return [base * (self.end_lr / base) ** r for base in self.base_lrs]

        return ExponentialLR(o, 10, 100)

    ours, theirs = _run(gg, exp_finder), _run(torch, exp_finder)
    assert ours[:2] == theirs[:2] == ([], [])
    assert ours[2] == pytest.approx(theirs[2], rel=1e-12) and ours[3] == theirs[3]
    p = gg.nn.Parameter(gg.zeros(2))
    swa = swa_utils.SWALR(gg.optim.SGD([p], lr=0.1), swa_lr=0.05)
    with pytest.warns(UserWarning, match="get_last_lr"):
        swa.get_lr()
