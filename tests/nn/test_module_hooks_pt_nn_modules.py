"""Module hooks against PyTorch (round 67, PyTorch's ``test/nn/test_module_hooks.py`` run on glassgrad):

* the global hook tables of ``torch.nn.modules.module`` reset by assigning the module's names,
  as PyTorch's own hook tests do in ``tearDown``: the assignment reached only that module's name,
  so the old hooks kept running on every module (silently, for a forward hook's replaced output);
* ``RemovableHandle.hooks_dict_ref``, PyTorch's weak reference to the hook's table;
* PyTorch's words for a backward hook that returns gradients where no input requires grad.

Each ``script_*`` runs on glassgrad and on PyTorch, written the way PyTorch code writes it."""

from __future__ import annotations

import contextlib
from collections import OrderedDict

import numpy as np
import pytest

import glassgrad

# PyTorch's global tables, each an OrderedDict there (the two id tables are sets here)
_TABLES = (
    "_global_forward_pre_hooks",
    "_global_forward_hooks",
    "_global_backward_hooks",
    "_global_backward_pre_hooks",
    "_global_parameter_registration_hooks",
    "_global_buffer_registration_hooks",
    "_global_module_registration_hooks",
)


_ALL = (*_TABLES, "_global_forward_hooks_with_kwargs", "_global_forward_hooks_always_called")


def _reset(lib):
    mm = lib.nn.modules.module
    for name in _ALL:
        setattr(mm, name, OrderedDict())


@contextlib.contextmanager
def _own_tables(*libs):
    """Each test registers into fresh tables and puts the process's own ones back after, so that
    modules which imported a table by name (``explain``'s tests) see it untouched."""
    saved = [(lib, {name: getattr(lib.nn.modules.module, name) for name in _ALL}) for lib in libs]
    for lib in libs:
        _reset(lib)
    try:
        yield
    finally:
        for lib, tables in saved:
            for name, table in tables.items():
                setattr(lib.nn.modules.module, name, table)


def script_reset_by_assignment(lib):
    """Register every kind of global hook, reset the tables as PyTorch's tearDown does, count."""
    mm = lib.nn.modules.module
    calls = []
    mm.register_module_forward_pre_hook(lambda m, i: calls.append("pre"))
    mm.register_module_forward_hook(lambda m, i, o: -o)  # replaces every module's output
    mm.register_module_forward_hook(lambda m, i, o: calls.append("always"), always_call=True)
    mm.register_module_full_backward_hook(lambda m, gi, go: calls.append("bw"))
    mm.register_module_full_backward_pre_hook(lambda m, go: calls.append("bw_pre"))
    mm.register_module_parameter_registration_hook(lambda m, n, p: calls.append("param"))
    x = lib.ones(2, 3, requires_grad=True)
    before = lib.nn.Sigmoid()(x)
    before.sum().backward()
    hooked = list(calls)
    _reset(lib)
    calls.clear()
    after = lib.nn.Sigmoid()(x)  # no hook may run: the output is sigmoid's own
    after.sum().backward()
    lib.nn.Linear(2, 2)
    return hooked, list(calls), after, x.grad


def script_save_and_restore(lib):
    """``saved = module._global_forward_hooks; module._global_forward_hooks = OrderedDict(); ...;
    module._global_forward_hooks = saved``: the saved hooks run again after the restore."""
    mm = lib.nn.modules.module
    calls = []
    handle = mm.register_module_forward_hook(lambda m, i, o: calls.append(type(m).__name__))
    saved = mm._global_forward_hooks
    mm._global_forward_hooks = OrderedDict()
    lib.nn.ReLU()(lib.ones(2))
    during = list(calls)
    mm._global_forward_hooks = saved
    lib.nn.ReLU()(lib.ones(2))
    handle.remove()
    lib.nn.ReLU()(lib.ones(2))
    return during, list(calls)


@pytest.mark.parametrize("script", [script_reset_by_assignment, script_save_and_restore])
def test_global_hook_tables_follow_assignment(torch, script):
    with _own_tables(glassgrad, torch):
        ours, theirs = script(glassgrad), script(torch)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if hasattr(b, "detach"):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
        else:
            assert a == b


def test_reset_tables_are_the_ones_read(torch):
    """After the assignment, new registrations land in the new tables and run."""
    mm = glassgrad.nn.modules.module
    with _own_tables(glassgrad):
        mm._global_forward_hooks = OrderedDict()
        mm.register_module_forward_hook(lambda m, i, o: o * 2)
        assert len(mm._global_forward_hooks) == 1
        assert glassgrad.nn.Identity()(glassgrad.ones(2)).tolist() == [2.0, 2.0]
    assert glassgrad.nn.Identity()(glassgrad.ones(2)).tolist() == [1.0, 1.0]
    assert not glassgrad.nn.hooks._global_forward_hooks  # the process's own table, untouched


def script_hooks_dict_ref(lib):
    m = lib.nn.Sigmoid()
    h1 = m.register_forward_pre_hook(lambda mod, i: None)
    h2 = m.register_forward_hook(lambda mod, i, o: None)
    h3 = m.register_forward_pre_hook(lambda mod, i: None)
    counts = [len(h1.hooks_dict_ref()), len(h2.hooks_dict_ref()), h1.hooks_dict_ref() is m._forward_pre_hooks]
    h1.remove()
    counts += [len(h1.hooks_dict_ref()), h1.id in h1.hooks_dict_ref(), h3.id in h3.hooks_dict_ref()]
    h3.remove()
    counts.append(len(h3.hooks_dict_ref()))
    return counts


def test_removable_handle_hooks_dict_ref(torch):
    assert script_hooks_dict_ref(glassgrad) == script_hooks_dict_ref(torch)


def test_hooks_dict_ref_of_a_dead_table_is_none():
    m = glassgrad.nn.Sigmoid()
    handle = m.register_forward_hook(lambda mod, i, o: None)
    del m
    assert handle.hooks_dict_ref() is None


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_backward_hook_answer_without_input_grad_words(torch, lib_name):
    lib = glassgrad if lib_name == "glassgrad" else torch
    mod = lib.nn.Linear(2, 3)
    inp = lib.ones(1, 2)  # no input requires grad: the hook sees only None in grad_input
    mod.register_full_backward_hook(lambda m, gi, go: (lib.ones(1, 2),))
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="where no input requires gradient"):
        mod(inp).sum().backward()


def _inplace_program(lib, hooked):
    """A module that changes its input in place and an output changed in place afterwards."""

    class AddOneInPlace(lib.nn.Module):
        def forward(self, inp):
            inp += 1
            return inp * inp

    seen = []
    mod, relu = AddOneInPlace(), lib.nn.ReLU(inplace=True)
    if hooked:
        mod.register_full_backward_hook(lambda m, gi, go: seen.append(gi[0].detach().clone()))
        relu.register_full_backward_pre_hook(lambda m, go: seen.append(go[0].detach().clone()))
    x = lib.tensor([-3.0, -0.5, 0.25, 2.0], requires_grad=True)
    out = mod(x * 1.0)
    out += 1
    y = relu(out - 2.0)
    (y * lib.tensor([1.0, -2.0, 3.0, 0.5])).sum().backward()
    return x.grad, seen


def test_inplace_in_hooked_modules_deliberate(torch):
    """Deliberate difference (docs/design.md): PyTorch refuses in-place changes of a module's
    hooked inputs and outputs (its hook Function's outputs are views); glassgrad runs them and
    gives the gradients of the same program without hooks, which PyTorch computes."""
    ours, seen = _inplace_program(glassgrad, hooked=True)
    theirs, _ = _inplace_program(torch, hooked=False)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert len(seen) == 2  # each hook ran once; the module's grad_input is x's gradient
    np.testing.assert_allclose(seen[1].numpy(), theirs.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="BackwardHookFunction"):
        _inplace_program(torch, hooked=True)
