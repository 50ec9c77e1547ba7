"""Round 58's differential hunt on the lr schedulers: the findings, each pinned against PyTorch.

- With a tensor lr, ``get_last_lr()``, ``base_lrs`` and the per-group lists of ``CyclicLR`` /
  ``OneCycleLR`` / ``SWALR`` held the group's own tensor, which the next step changes in place:
  a history of ``get_last_lr()[0]`` read all one value (the latest rate). PyTorch copies them.
- An ``optimizer.step`` replaced after the scheduler wrapped it drew the "scheduler before
  optimizer" warning; PyTorch warns that the step was overridden.
- ``OneCycleLR`` stepped past its end, and ``step(epoch)``'s deprecation warning, said other words
  than PyTorch's ("Tried to step N times", "The epoch parameter in `scheduler.step()` ...").
- ``zero_grad(set_to_none=False)`` (optimizer's and module's) left a ``backward(create_graph=True)``
  gradient on its graph: the next create_graph backward added to it and a second-order gradient
  went through the old loss too (silently wrong). PyTorch detaches it first.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg


def _schedules(lib, opt, name):
    L = lib.optim.lr_scheduler
    return {
        "StepLR": lambda: L.StepLR(opt, 2, 0.5),
        "MultiStepLR": lambda: L.MultiStepLR(opt, [1, 3, 3], 0.5),
        "ExponentialLR": lambda: L.ExponentialLR(opt, 0.9),
        "CosineAnnealingLR": lambda: L.CosineAnnealingLR(opt, 3, eta_min=0.01),
        "LinearLR": lambda: L.LinearLR(opt, 0.25, total_iters=3),
        "LambdaLR": lambda: L.LambdaLR(opt, lambda e: 1 / (e + 1)),
        "CosineAnnealingWarmRestarts": lambda: L.CosineAnnealingWarmRestarts(opt, 2, 2),
        "ReduceLROnPlateau": lambda: L.ReduceLROnPlateau(opt, patience=0, factor=0.5),
        "CyclicLR": lambda: L.CyclicLR(
            opt, lib.tensor(0.01, dtype=lib.float64), 0.5, 2, cycle_momentum=False
        ),
        "OneCycleLR": lambda: L.OneCycleLR(opt, lib.tensor(0.5, dtype=lib.float64), total_steps=8),
        "SequentialLR": lambda: L.SequentialLR(
            opt, [L.ConstantLR(opt, 0.5, total_iters=2), L.ExponentialLR(opt, 0.8)], [2]
        ),
        "SWALR": lambda: lib.optim.swa_utils.SWALR(opt, lib.tensor(0.05, dtype=lib.float64), 3),
    }[name]()


NAMES = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "LambdaLR",
         "CosineAnnealingWarmRestarts", "ReduceLROnPlateau", "CyclicLR", "OneCycleLR", "SequentialLR",
         "SWALR"]  # fmt: skip


def _history(lib, name):
    """A tensor lr stepped 6 times: the kept ``get_last_lr()`` lists and ``base_lrs``, as floats."""
    p = lib.zeros(2, dtype=lib.float64, requires_grad=True)
    lr = lib.tensor(0.2, dtype=lib.float64)
    opt = lib.optim.Adam([p], lr=lr)
    sched = _schedules(lib, opt, name)
    kept = [sched.get_last_lr()]
    base = getattr(sched, "base_lrs", None)
    for _ in range(6):
        p.grad = lib.ones(2, dtype=lib.float64)
        opt.step()
        sched.step(1.0) if name == "ReduceLROnPlateau" else sched.step()
        kept.append(sched.get_last_lr())
        assert opt.param_groups[0]["lr"] is lr  # the schedule writes into the user's tensor
    assert all(last[0] is not lr for last in kept)
    return [[float(v) for v in last] for last in kept], None if base is None else [float(b) for b in base]


@pytest.mark.parametrize("name", NAMES)
def test_get_last_lr_of_a_tensor_lr_is_a_copy_as_pytorch(torch, name):
    ours, theirs = _history(gg, name), _history(torch, name)
    assert ours == theirs


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_base_lrs_do_not_follow_the_tensor_lr(torch, lib_name):
    lib = gg if lib_name == "glassgrad" else torch
    p = lib.zeros(2, requires_grad=True)
    opt = lib.optim.SGD([p], lr=lib.tensor(1.0))
    sched = lib.optim.lr_scheduler.StepLR(opt, 1, 0.5)
    assert sched.base_lrs[0] is not opt.param_groups[0]["initial_lr"]
    sched.base_lrs[0].fill_(7.0)  # a copy: the group's initial_lr stays
    assert float(opt.param_groups[0]["initial_lr"]) == 1.0
    lr = lib.tensor(0.3)
    opt2 = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    cyc = lib.optim.lr_scheduler.CyclicLR(opt2, lr, 1.0, 2)
    assert cyc.base_lrs[0] is not lr


def _overridden(lib, replace):
    p = lib.zeros(2, requires_grad=True)
    opt = lib.optim.SGD([p], lr=1.0)
    sched = lib.optim.lr_scheduler.StepLR(opt, 1, 0.5)
    if replace:
        step = opt.step
        opt.step = lambda *a, **k: step(*a, **k)  # e.g. a wrapper installed after the scheduler
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt.step()
        sched.step()
        sched.step()
    return [str(w.message)[:60] for w in caught], [float(v) for v in sched.get_last_lr()]


@pytest.mark.parametrize("replace", [False, True])
def test_a_step_replaced_after_the_scheduler_warns_as_pytorch(torch, replace):
    ours, theirs = _overridden(gg, replace), _overridden(torch, replace)
    assert ours == theirs
    assert len(ours[0]) == int(replace)


def test_onecycle_past_its_end_says_pytorch_words(torch):
    for lib in (gg, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, 1.0, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        with pytest.raises(
            ValueError, match=r"Tried to step 4 times\. The specified number of total steps is 3"
        ):
            sched.step()


def test_a_tensor_lr_in_a_float32_group_keeps_its_dtype(torch):
    """``get_last_lr()`` copies keep the lr's own dtype (float32 here), as PyTorch's clones."""
    out = []
    for lib in (gg, torch):
        p = lib.zeros(3, requires_grad=True)
        opt = lib.optim.SGD([p], lr=lib.tensor(0.1, dtype=lib.float32))
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, 4)
        rng = np.random.default_rng(0)
        kept = []
        for _ in range(5):
            p.grad = lib.tensor(rng.standard_normal(3), dtype=lib.float32)
            opt.step()
            sched.step()
            kept.append(sched.get_last_lr()[0])
        out.append(
            ([str(v.dtype).split(".")[-1] for v in kept], [float(v) for v in kept], p.detach().numpy())
        )
    assert out[0][0] == out[1][0] == ["float32"] * 5
    assert out[0][1] == out[1][1]
    np.testing.assert_allclose(out[0][2], out[1][2], rtol=1e-6)


def _epoch_warnings(lib, name):
    opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
    L = lib.optim.lr_scheduler
    sched = {
        "StepLR": lambda: L.StepLR(opt, 2),
        "ReduceLROnPlateau": lambda: L.ReduceLROnPlateau(opt),
        "SWALR": lambda: lib.optim.swa_utils.SWALR(opt, 0.05, 3),
    }[name]()
    opt.step()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched.step(1.0, 3) if name == "ReduceLROnPlateau" else sched.step(3)
    return [str(w.message) for w in caught], sched.last_epoch, [float(v) for v in sched.get_last_lr()]


@pytest.mark.parametrize("name", ["StepLR", "ReduceLROnPlateau", "SWALR"])
def test_step_with_an_epoch_warns_pytorch_words(torch, name):
    """Programs silence it by its words (``filterwarnings(message="The epoch parameter")``)."""
    ours, theirs = _epoch_warnings(gg, name), _epoch_warnings(torch, name)
    assert ours == theirs
    assert ours[0][0].startswith("The epoch parameter in `scheduler.step()` was not necessary")


def _second_order_after_zero_grad(lib, via):
    """Two create_graph backwards with ``zero_grad(set_to_none=False)`` between them, then the
    gradient of ``|grad|²``: it must see only the second loss's graph."""
    m = lib.nn.Linear(2, 1, bias=False).double()
    with lib.no_grad():
        m.weight.copy_(lib.tensor([[0.5, -1.0]], dtype=lib.float64))
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    x = lib.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=lib.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn that create_graph=True makes a reference cycle
        (m(x) ** 3).sum().backward(create_graph=True)
        grad = m.weight.grad
        (m if via == "module" else opt).zero_grad(set_to_none=False)
        flags = [m.weight.grad is grad, grad.requires_grad, grad.grad_fn is None, grad.tolist()]
        (m(x) ** 2).sum().backward(create_graph=True)
    g = m.weight.grad
    (hv,) = lib.autograd.grad((g**2).sum(), m.weight)
    return flags, g.tolist(), hv.tolist()


@pytest.mark.parametrize("via", ["optimizer", "module"])
def test_zero_grad_keeping_tensors_cuts_a_create_graph_gradient_from_its_graph(torch, via):
    ours, theirs = _second_order_after_zero_grad(gg, via), _second_order_after_zero_grad(torch, via)
    assert ours == theirs
    assert ours[0] == [True, False, True, [[0.0, 0.0]]]
