"""Round 67 (PyTorch's test_lrscheduler.py): the schedulers' private hooks that programs and
subclasses use, against ``torch.optim.lr_scheduler``.

- ``CyclicLR`` picks its mode's amplitude function once (``_init_scale_fn``, ``_scale_fn_ref``),
  so ``exp_range`` keeps the ``gamma`` it was built with until ``load_state_dict`` rebuilds it;
- ``OneCycleLR`` anneals through ``_anneal_func`` and the static ``_annealing_cos`` /
  ``_annealing_linear`` (a subclass may replace them; a scheduler without ``_anneal_func_type``
  uses its ``anneal_func``);
- ``SequentialLR.recursive_undo`` takes back nested schedulers' first steps.
"""

from __future__ import annotations

import math
import pickle
import types

import pytest

import glassgrad as gg
from glassgrad import optim
from glassgrad.optim import lr_scheduler


def _sgd_pair(torch, momentum=0.9):
    """The same two-group SGD in glassgrad and PyTorch (the second group's lr a 0-d tensor)."""

    def groups(lib):
        first, second = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(1))
        return [{"params": [first]}, {"params": [second], "lr": lib.tensor(0.5)}]

    return optim.SGD(groups(gg), lr=0.05, momentum=momentum), torch.optim.SGD(
        groups(torch), lr=0.05, momentum=momentum
    )


def _trace(sched, opt, steps):
    """Each group's lr and momentum (as floats) after every step."""
    seen = []
    for _ in range(steps):
        opt.step()
        sched.step()
        seen.append([(float(g["lr"]), g.get("momentum")) for g in opt.param_groups])
    return seen


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_scale_fn_ref_is_the_modes_function(mode):
    opt = optim.SGD([gg.nn.Parameter(gg.ones(1))], lr=0.1, momentum=0.9)
    sched = lr_scheduler.CyclicLR(opt, 0.1, 1.0, step_size_up=2, mode=mode, gamma=0.5)
    expected = {"triangular": [1.0, 1.0], "triangular2": [1.0, 0.5], "exp_range": [0.5, 0.25]}[mode]
    assert [sched._scale_fn_ref(x) for x in (1, 2)] == expected
    assert sched.scale_mode == ("iterations" if mode == "exp_range" else "cycle")
    if mode != "exp_range":
        assert isinstance(sched._scale_fn_ref, types.FunctionType)
    state = sched.state_dict()
    assert "_scale_fn_ref" not in state and state["_scale_fn_custom"] is None
    pickle.dumps(state)


def test_cyclic_custom_scale_fn_leaves_no_mode_function():
    opt = optim.SGD([gg.nn.Parameter(gg.ones(1))], lr=0.1, momentum=0.9)
    sched = lr_scheduler.CyclicLR(opt, 0.1, 1.0, scale_fn=lambda x: 0.25, scale_mode="iterations")
    assert not hasattr(sched, "_scale_fn_ref")
    assert sched.scale_fn(7) == 0.25 and sched.scale_mode == "iterations"


@pytest.mark.parametrize("mode", ["triangular2", "exp_range"])
def test_cyclic_gamma_is_bound_when_built_and_rebuilt_on_load(torch, mode):
    ours_opt, theirs_opt = _sgd_pair(torch)

    def build(S, opt):
        sched = S.CyclicLR(opt, 0.1, 1.0, step_size_up=2, mode=mode, gamma=0.9)
        sched.gamma = 0.5  # too late for the amplitude function; the loaded copy takes it
        return sched

    ours, theirs = build(lr_scheduler, ours_opt), build(torch.optim.lr_scheduler, theirs_opt)
    assert _trace(ours, ours_opt, 7) == _trace(theirs, theirs_opt, 7)
    # a scheduler built for another mode adopts the loaded mode, scale_mode and gamma
    ours2 = lr_scheduler.CyclicLR(ours_opt, 0.1, 1.0, step_size_up=2)
    theirs2 = torch.optim.lr_scheduler.CyclicLR(theirs_opt, 0.1, 1.0, step_size_up=2)
    ours2.load_state_dict(ours.state_dict())
    theirs2.load_state_dict(theirs.state_dict())
    assert (ours2.mode, ours2.scale_mode) == (theirs2.mode, theirs2.scale_mode) == (mode, ours.scale_mode)
    assert _trace(ours2, ours_opt, 7) == _trace(theirs2, theirs_opt, 7)


@pytest.mark.parametrize("pct", [0.0, 0.3, 0.5, 1.0])
def test_onecycle_annealing_functions(pct):
    start, end = 25.0, 0.5
    cos = lr_scheduler.OneCycleLR._annealing_cos(start, end, pct)
    assert cos == pytest.approx(end + (start - end) * (1 + math.cos(math.pi * pct)) / 2, rel=1e-15)
    assert lr_scheduler.OneCycleLR._annealing_linear(start, end, pct) == pytest.approx(
        start + (end - start) * pct, rel=1e-15
    )


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_onecycle_subclass_replacing_an_annealing_function(torch, strategy):
    def squared(start, end, pct):
        return (end - start) * pct**2 + start

    ours_opt, theirs_opt = _sgd_pair(torch)
    scheds = []
    for S, opt in ((lr_scheduler, ours_opt), (torch.optim.lr_scheduler, theirs_opt)):
        name = "_annealing_cos" if strategy == "cos" else "_annealing_linear"
        Squared = type("Squared", (S.OneCycleLR,), {name: staticmethod(squared)})
        scheds.append(Squared(opt, max_lr=2.0, total_steps=10, anneal_strategy=strategy))
    assert _trace(scheds[0], ours_opt, 9) == _trace(scheds[1], theirs_opt, 9)
    # the last step ends the annealing phase at min_lr = max_lr / div_factor / final_div_factor
    assert ours_opt.param_groups[0]["lr"] == pytest.approx(2.0 / 25 / 1e4, rel=1e-12)


def test_onecycle_without_anneal_func_type_uses_anneal_func(torch):
    ours_opt, theirs_opt = _sgd_pair(torch)
    traces = []
    for S, opt in ((lr_scheduler, ours_opt), (torch.optim.lr_scheduler, theirs_opt)):
        sched = S.OneCycleLR(opt, max_lr=3.0, total_steps=8, anneal_strategy="cos")
        del sched._anneal_func_type  # as a scheduler saved before the attribute existed
        state = sched.state_dict()
        state["anneal_func"] = S.OneCycleLR._annealing_linear
        sched.load_state_dict(state)
        traces.append(_trace(sched, opt, 7))
    assert traces[0] == traces[1]


@pytest.mark.filterwarnings("ignore:Detected call of")  # both libraries warn at the nested construction
def test_sequential_recursive_undo_of_nested_schedulers(torch):
    ours_opt, theirs_opt = _sgd_pair(torch, momentum=0.0)
    built = []
    for S, opt in ((lr_scheduler, ours_opt), (torch.optim.lr_scheduler, theirs_opt)):
        inner = S.SequentialLR(opt, [S.ConstantLR(opt, 0.5, 2), S.ExponentialLR(opt, 0.9)], milestones=[2])
        outer = S.SequentialLR(opt, [inner, S.StepLR(opt, 2, 0.1)], milestones=[3])
        built.append((inner, outer))
    for (inner, outer), (t_inner, t_outer) in [built]:
        assert [s.last_epoch for s in inner._schedulers] == [s.last_epoch for s in t_inner._schedulers]
        assert outer._schedulers[1].last_epoch == t_outer._schedulers[1].last_epoch
        # one more undo, asked for by hand, takes each held scheduler one step further back
        outer.recursive_undo()
        t_outer.recursive_undo()
        assert [s.last_epoch for s in inner._schedulers] == [s.last_epoch for s in t_inner._schedulers]
        assert outer._schedulers[1].last_epoch == t_outer._schedulers[1].last_epoch
