"""Module hooks against PyTorch (round 58's differential hunt on hooks):

* ``register_full_backward_pre_hook`` / ``register_full_backward_hook``: an output that no
  gradient reached in a pass has None in ``grad_output`` (it had zeros); an input the module did
  not use still has zeros in ``grad_input``, as PyTorch;
* ``register_forward_hook(always_call=True)``: such a hook also runs when a forward pre-hook or
  an earlier forward hook raises (only a raising ``forward`` ran it), with the output so far, and
  a hook that raises then is reported with a warning, the first error propagating.

Each ``script_*`` runs on glassgrad and on PyTorch, written the way PyTorch code writes it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad

from ..porting.helpers import assert_same


def _t(lib, values):
    return lib.tensor(np.asarray(values, dtype="float64"), requires_grad=True)


def _three_outputs(lib):
    class Three(lib.nn.Module):
        def forward(self, a, b, c):
            return a * 2, b * 3, a + 1  # c unused

    return Three()


def _clone(grads):
    return tuple(None if g is None else g.clone() for g in grads)


def script_unused_outputs(lib):
    log = []
    m = _three_outputs(lib)
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", _clone(go))))
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("post", _clone(gi), _clone(go))))
    a, b, c = (_t(lib, [1.0, 2.0]) for _ in range(3))
    y1, y2, y3 = m(a, b, c)
    y1.sum().backward(retain_graph=True)  # only the first output: the others' entries are None
    grads = [(a.grad.clone(), b.grad.clone(), c.grad.clone())]
    (y2 * 5).sum().backward(retain_graph=True)  # the second only: the first's entry is None again
    (y2.sum() + (y3 * 7).sum()).backward()
    return log, grads + [(a.grad, b.grad, c.grad)]


def test_an_output_no_gradient_reached_has_none_in_grad_output(torch):
    ours = script_unused_outputs(glassgrad)
    assert ours[0][0][1][1] is None and ours[0][0][1][2] is None
    assert_same(ours, script_unused_outputs(torch), rtol=1e-12, atol=0)


def script_pre_hook_fills_a_none_entry(lib):
    """A pre-hook may answer a gradient for an output that received none: it flows on."""
    log = []
    m = _three_outputs(lib)
    m.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0] * 4, None))
    m.register_full_backward_hook(lambda mod, gi, go: log.append((_clone(gi), _clone(go))))
    a, b, c = (_t(lib, [1.0, 2.0]) for _ in range(3))
    y1, _, _ = m(a, b, c)
    y1.sum().backward()
    return log, a.grad, b.grad, c.grad


def test_a_pre_hook_may_fill_the_none_entry(torch):
    assert_same(
        script_pre_hook_fills_a_none_entry(glassgrad),
        script_pre_hook_fills_a_none_entry(torch),
        rtol=1e-12,
        atol=0,
    )


def script_unused_output_create_graph(lib):
    log = []
    m = _three_outputs(lib)
    m.register_full_backward_pre_hook(lambda mod, go: log.append(tuple(g is None for g in go)))
    a, b, c = (_t(lib, [1.0, 2.0]) for _ in range(3))
    y1, _, _ = m(a, b, c)
    (ga,) = lib.autograd.grad((y1 * y1).sum(), a, create_graph=True)
    (gga,) = lib.autograd.grad(ga.sum(), a)
    return log, ga, gga


def test_none_entries_in_a_create_graph_pass(torch):
    ours = script_unused_output_create_graph(glassgrad)
    assert ours[0] == [(False, True, True)] * 2  # the second pass runs back through the hooks
    assert_same(ours, script_unused_output_create_graph(torch), rtol=1e-12, atol=0)


def script_linear_one_output(lib):
    """A one-output module (every pass reaches its output): unchanged."""
    log = []
    m = lib.nn.Linear(3, 2).double()
    with lib.no_grad():
        m.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) / 10))
        m.bias.copy_(lib.tensor([1.0, -1.0]))
    m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    m.register_full_backward_hook(lambda mod, gi, go: log.append((_clone(gi), _clone(go))))
    x = _t(lib, [[1.0, 2.0, 3.0]])
    m(x).tanh().sum().backward()
    return log, x.grad, m.weight.grad, m.bias.grad


def test_a_one_output_module_is_unchanged(torch):
    assert_same(script_linear_one_output(glassgrad), script_linear_one_output(torch), rtol=1e-12, atol=0)


def _linear(lib):
    m = lib.nn.Linear(3, 2).double()
    with lib.no_grad():
        m.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) / 10))
        m.bias.zero_()
    return m


def _raise(error):
    def hook(*args):
        raise error

    return hook


def script_always_call(lib, failing):
    """Which hooks run, with what, when ``failing`` (a pre-hook, forward, a forward hook) raises."""
    log = []
    m = _linear(lib)
    if failing == "pre-hook":
        m.register_forward_pre_hook(_raise(KeyError("pre")))
    else:
        m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    if failing == "forward":
        m.forward = _raise(ValueError("forward"))
    m.register_forward_hook(lambda mod, args, out: log.append(("always 1", args, out)), always_call=True)
    if failing == "hook":
        m.register_forward_hook(_raise(IndexError("hook")))
    m.register_forward_hook(lambda mod, args, out: log.append(("plain", out)))
    m.register_forward_hook(
        lambda mod, args, kwargs, out: log.append(("always 2", args, kwargs, out)),
        always_call=True,
        with_kwargs=True,
    )
    with pytest.raises((KeyError, ValueError, IndexError)) as info:
        m(_t(lib, [[1.0, 2.0, 3.0]]))
    return log, type(info.value).__name__


@pytest.mark.parametrize("failing", ["pre-hook", "forward", "hook"])
def test_always_call_hooks_run_whatever_raised(torch, failing):
    ours = script_always_call(glassgrad, failing)
    assert ours[0] and ours[0][-1][0] == "always 2"
    assert_same(ours, script_always_call(torch, failing), rtol=1e-12, atol=0)


def script_always_call_hook_raises(lib):
    log = []
    m = lib.nn.Identity()
    m.forward = _raise(ValueError("forward"))
    m.register_forward_hook(_raise(KeyError("in the always hook")), always_call=True)
    m.register_forward_hook(lambda mod, args, out: log.append(("next", args, out)), always_call=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="forward"):
            m(_t(lib, [1.0]))
    said = [str(w.message) for w in caught if "always_call" in str(w.message)]
    return log, len(said), "in the always hook" in said[0]


def test_an_always_call_hook_that_raises_is_reported_and_the_next_runs(torch):
    assert_same(script_always_call_hook_raises(glassgrad), script_always_call_hook_raises(torch))


def script_global_always_call(lib):
    log = []
    handle = lib.nn.modules.module.register_module_forward_hook(
        lambda mod, args, out: log.append((type(mod).__name__, out)), always_call=True
    )
    try:
        m = _linear(lib)
        m.register_forward_pre_hook(_raise(KeyError("pre")))
        with pytest.raises(KeyError):
            m(_t(lib, [[1.0, 2.0, 3.0]]))
    finally:
        handle.remove()
    return log


def test_a_global_always_call_hook_runs_when_a_pre_hook_raises(torch):
    assert_same(script_global_always_call(glassgrad), script_global_always_call(torch))


def script_tensor_arguments(lib):
    """Every tensor argument has an entry in grad_input: zeros of its dtype where it does not
    require grad (an integer index, a mask), None for a non-tensor (integer tensors had None)."""
    log = []

    class Pick(lib.nn.Module):
        def forward(self, x, index, mask, scale):
            return x[index] * scale * mask.to(x.dtype).sum()

    m = Pick()
    m.register_full_backward_hook(lambda mod, gi, go: log.append((_clone(gi), _clone(go))))
    x = _t(lib, [1.0, 2.0, 3.0])
    m(x, lib.tensor([0, 2]), lib.tensor([True, False, True]), 3.0).sum().backward()
    return log, x.grad


def test_grad_input_has_zeros_for_integer_and_bool_tensor_arguments(torch):
    ours = script_tensor_arguments(glassgrad)
    assert ours[0][0][0][3] is None
    assert_same(ours, script_tensor_arguments(torch), rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind", ["hook", "pre hook"])
def test_a_wrong_number_of_gradients_is_refused_in_pytorchs_words(torch, kind):
    for lib in (glassgrad, torch):
        m = lib.nn.Linear(2, 2).double()
        if kind == "hook":
            m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
            words = "Backward hook returned an invalid number of grad_input, got 2, but expected 1"
        else:
            m.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
            words = "Backward pre hook returned an invalid number of grad_output, got 2, but expected 1"
        with pytest.raises(RuntimeError, match=words):
            m(_t(lib, [[1.0, 2.0]])).sum().backward()
