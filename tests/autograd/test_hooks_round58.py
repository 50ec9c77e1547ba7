"""Tensor hooks against PyTorch (round 58's differential hunt on hooks):

* a hook that returns a gradient of another dtype (``g.float()`` for a float64 tensor) is refused,
  as PyTorch's "hook has changed the type of value" (it was cast back silently, so the program
  went on with float32-rounded gradients where PyTorch's stops);
* the hooks that run for a tensor are those registered when the backward pass reaches it: one
  removed (or added) by an earlier hook of the same tensor still runs (or does not) in that pass,
  as PyTorch's engine iterates a copy of the hooks (a removed hook was skipped at once).

Each ``script_*`` runs on glassgrad and on PyTorch, written the way PyTorch code writes it."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
from glassgrad.errors import DTypeError

from ..porting.helpers import assert_same


def _t(lib, values, dtype="float64"):
    return lib.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


WHERE = {
    "non-leaf": lambda x: x * 2,
    "leaf": lambda x: x,
}


@pytest.mark.parametrize("where", sorted(WHERE))
@pytest.mark.parametrize("cast", ["float", "half", "double"])
def test_a_hook_that_changes_the_float_dtype_is_refused(torch, where, cast):
    for lib in (glassgrad, torch):
        x = _t(lib, [1.0, 2.0], "float32" if cast == "double" else "float64")
        y = WHERE[where](x)
        y.register_hook(lambda g: getattr(g, cast)())
        with pytest.raises(RuntimeError, match="has changed the type of value"):
            (y * 3).sum().backward()


def test_the_refusal_is_a_dtype_error_naming_the_hook_and_both_dtypes():
    x = _t(glassgrad, [1.0, 2.0])
    y = x * 2

    def to_float32(g):
        return g.float()

    y.register_hook(to_float32)
    with pytest.raises(
        DTypeError, match=r"hook '.*to_float32' has changed the type of value \(was float64, got float32\)"
    ):
        y.sum().backward()


def test_a_create_graph_pass_refuses_it_too(torch):
    for lib in (glassgrad, torch):
        x = _t(lib, [1.0, 2.0])
        y = x * x
        y.register_hook(lambda g: g.float())
        with pytest.raises(RuntimeError, match="has changed the type of value"):
            lib.autograd.grad(y.sum(), x, create_graph=True)


def test_a_hook_that_keeps_the_dtype_still_replaces_the_gradient(torch):
    def script(lib):
        x = _t(lib, [1.0, 2.0])
        y = x.tanh()
        y.register_hook(lambda g: g * lib.tensor(0.5, dtype=lib.float32))  # 0-dim: stays float64
        y.sum().backward()
        return x.grad

    assert_same(script(glassgrad), script(torch), rtol=1e-12, atol=0)


def _logged(log, name, factor=None):
    def hook(g):
        log.append((name, g.clone()))
        return None if factor is None else g * factor

    return hook


def script_remove_a_later_hook_from_a_hook(lib, where):
    """The hook removed by the first still runs in this pass (it doubles the gradient), not after."""
    log, handles = [], {}
    x = _t(lib, [1.0, 2.0])
    y = WHERE[where](x)

    def first(g):
        log.append(("first", g.clone()))
        handles["second"].remove()

    y.register_hook(first)
    handles["second"] = y.register_hook(_logged(log, "second", 2.0))
    (y * 3).sum().backward(retain_graph=True)
    grads = [x.grad.clone()]
    (y * 3).sum().backward()
    return log, grads + [x.grad]


@pytest.mark.parametrize("where", sorted(WHERE))
def test_a_hook_removed_by_an_earlier_hook_still_runs_in_that_pass(torch, where):
    ours = script_remove_a_later_hook_from_a_hook(glassgrad, where)
    assert [name for name, _ in ours[0]] == ["first", "second", "first"]
    assert_same(ours, script_remove_a_later_hook_from_a_hook(torch, where), rtol=1e-12, atol=0)


def script_register_a_hook_from_a_hook(lib):
    """A hook added to the same tensor by its hook runs from the next pass on."""
    log = []
    x = _t(lib, [1.0, 2.0])
    y = x * 3

    def first(g):
        log.append(("first", g.clone()))
        y.register_hook(_logged(log, "added", 10.0))

    y.register_hook(first)
    y.sum().backward(retain_graph=True)
    grads = [x.grad.clone()]
    y.sum().backward()
    return log, grads + [x.grad]


def test_a_hook_added_by_a_hook_of_the_same_tensor_runs_from_the_next_pass(torch):
    ours = script_register_a_hook_from_a_hook(glassgrad)
    assert [name for name, _ in ours[0]] == ["first", "first", "added"]
    assert_same(ours, script_register_a_hook_from_a_hook(torch), rtol=1e-12, atol=0)


def script_remove_under_create_graph(lib):
    log, handles = [], {}
    x = _t(lib, [1.0, 2.0])
    y = x * x

    def first(g):
        log.append(("first", g.detach().clone()))
        handles["second"].remove()

    y.register_hook(first)
    handles["second"] = y.register_hook(lambda g: g * x)  # recorded: the second derivative sees it
    (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = lib.autograd.grad(g.sum(), x)
    return log, g, h


def test_a_removed_hook_still_runs_in_a_create_graph_pass(torch):
    assert_same(
        script_remove_under_create_graph(glassgrad),
        script_remove_under_create_graph(torch),
        rtol=1e-12,
        atol=0,
    )


# --- grad mode inside a backward pass: PyTorch's engine runs it in grad mode ``create_graph``


def script_grad_mode_seen_by_hooks(lib, create_graph):
    """Every kind of hook records ``is_grad_enabled()`` and whether what it computes from a
    parameter records a graph."""
    log = []
    m = lib.nn.Linear(2, 2).double()
    with lib.no_grad():
        m.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64))
        m.bias.zero_()

    def note(name, g):
        log.append((name, lib.is_grad_enabled(), (g * m.weight.sum()).requires_grad))

    x = _t(lib, [[1.0, -2.0]])
    m.register_full_backward_pre_hook(lambda mod, go: note("module pre", go[0]))
    m.register_full_backward_hook(lambda mod, gi, go: note("module", gi[0]))
    m.weight.register_post_accumulate_grad_hook(lambda p: note("post accumulate", p.grad))
    m.bias.register_hook(lambda g: note("leaf", g))
    x.register_hook(lambda g: note("input", g))
    y = m(x).tanh()
    y.register_hook(lambda g: note("non-leaf", g))
    y.grad_fn.register_prehook(lambda go: note("node pre", go[0]))
    y.grad_fn.register_hook(lambda gi, go: note("node", gi[0]))
    y.sum().backward(create_graph=create_graph)
    return log, lib.is_grad_enabled()


@pytest.mark.parametrize("create_graph", [False, True])
def test_hooks_run_in_the_pass_grad_mode(torch, create_graph):
    ours = script_grad_mode_seen_by_hooks(glassgrad, create_graph)
    assert {enabled for _, enabled, _ in ours[0]} == {create_graph} and ours[1] is True
    theirs = script_grad_mode_seen_by_hooks(torch, create_graph)
    assert sorted(ours[0]) == sorted(theirs[0]) and ours[1] == theirs[1]


def test_autograd_grad_hooks_run_without_grad_mode_and_restore_it(torch):
    for lib in (glassgrad, torch):
        seen = []
        x = _t(lib, [1.0, 2.0])
        y = x * x
        y.register_hook(lambda g: seen.append(lib.is_grad_enabled()))
        with lib.no_grad():
            z = y * 1  # (no graph: not used)
        lib.autograd.grad(y.sum(), x, retain_graph=True)
        with lib.enable_grad():
            lib.autograd.grad(y.sum() + z.sum(), x, create_graph=True)
        assert seen == [False, True] and lib.is_grad_enabled() and z.grad_fn is None


def script_optimizer_in_backward(lib):
    """A post-accumulate hook updates its parameter in place without no_grad() (the
    optimizer-in-backward pattern): refused before, as an in-place change of a leaf."""
    m = lib.nn.Linear(2, 2).double()
    with lib.no_grad():
        m.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64))
        m.bias.copy_(lib.tensor([0.5, -0.5], dtype=lib.float64))

    def step(p):
        p.sub_(0.1 * p.grad)
        p.grad = None

    for p in m.parameters():
        p.register_post_accumulate_grad_hook(step)
    for _ in range(2):
        m(_t(lib, [[1.0, 2.0]])).pow(2).sum().backward()
    return m.weight, m.bias, m.weight.grad, m.bias.grad


def test_a_post_accumulate_hook_may_step_its_parameter_in_place(torch):
    assert_same(
        script_optimizer_in_backward(glassgrad), script_optimizer_in_backward(torch), rtol=1e-12, atol=0
    )


def test_an_error_in_a_hook_restores_grad_mode():
    x = _t(glassgrad, [1.0, 2.0])
    y = x * 2
    y.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        y.sum().backward()
    assert glassgrad.is_grad_enabled()
