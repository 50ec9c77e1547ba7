"""Round 64, a differential battery over ``torch.utils.checkpoint`` (both variants, nesting,
hooks, RNG replay, BatchNorm, ``torch.func``, selective checkpointing). Pinned here, each against
PyTorch at float64 rounding: hooks a checkpointed function registers on its inputs (PyTorch's
rerun sees the very input tensors of the forward, so such a hook runs twice: glassgrad ran it
once, a gradient a third of PyTorch's); saved-tensor hooks around a non-reentrant checkpoint pack
its inputs once and unpack them at the rerun; the rerun's ``context_fn`` context sees the early
stop pass through it; selective checkpointing's names and ``GraphExecGroup``.
"""

from __future__ import annotations

import contextlib
import functools
import warnings

import numpy as np
import pytest

import glassgrad as gg

from .helpers import assert_same

TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def _x(lib, *shape, seed=1, grad=True):
    return lib.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=grad)


def _mlp(lib, seed=0):
    net = lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.Tanh(), lib.nn.Linear(6, 4)).double()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)) * 0.3))
    return net


def _both(torch, program, *args):
    return [program(lib, *args) for lib in (torch, gg)]


# ---- hooks on the inputs, seen by the forward and by the rerun ---------------------------------


def _input_hook(lib, reentrant, nested):
    x, calls = _x(lib, 3, 4), []

    def block(t):
        if t.requires_grad:
            t.register_hook(lambda g: calls.append(1) or g * 3)
        return t.sin() * t

    def run(f, t):
        return lib.utils.checkpoint.checkpoint(f, t, use_reentrant=reentrant)

    y = run(lambda a: run(block, a.cos()) * a, x) if nested else run(block, x)
    y.sum().backward()
    return [x.grad, len(calls)]


@pytest.mark.parametrize("reentrant", [True, False], ids=["reentrant", "non_reentrant"])
def test_hook_registered_on_an_input_inside_runs_at_forward_and_rerun(torch, reentrant):
    ref, ours = _both(torch, _input_hook, reentrant, False)
    assert ref[1] == ours[1] == 2
    assert_same(ours, ref, **TIGHT)


def test_reentrant_input_hook_runs_at_rerun_while_a_post_accumulate_hook_exists(torch):
    # any post-accumulate hook anywhere makes the nested pass store hooked leaves early: the
    # rerun's detached input then lost its gradient, and its hook did not run (order-dependent)
    other = gg.ones(2, requires_grad=True)
    handle = other.register_post_accumulate_grad_hook(lambda t: None)
    try:
        ref, ours = _both(torch, _input_hook, True, False)
    finally:
        handle.remove()
    assert ref[1] == ours[1] == 2
    assert_same(ours, ref, **TIGHT)


def test_hook_on_an_input_of_a_nested_reentrant_checkpoint(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the inner checkpoint runs under the outer's no_grad: it warns
        ref, ours = _both(torch, _input_hook, True, True)
    assert ref[1] == ours[1]
    assert_same(ours, ref, **TIGHT)


def _what_the_rerun_sees(lib, reentrant):
    w, seen = _x(lib, 3, 4), []
    x = w * 2

    def block(a):
        seen.append([a.is_leaf, a.grad_fn is None, a.requires_grad])
        return a.sin() * a

    y = lib.utils.checkpoint.checkpoint(block, x, use_reentrant=reentrant)
    y.sum().backward()
    return [seen, w.grad]


@pytest.mark.parametrize("reentrant", [True, False], ids=["reentrant", "non_reentrant"])
def test_the_rerun_gets_the_forward_input_or_a_detached_one_as_pytorch(torch, reentrant):
    ref, ours = _both(torch, _what_the_rerun_sees, reentrant)
    assert ours[0] == ref[0]
    assert_same(ours[1], ref[1], **TIGHT)


# ---- saved-tensor hooks around a checkpoint -----------------------------------------------------


def _hooks_around(lib, reentrant, leaf):
    w = _x(lib, 3, 4)
    x = w if leaf else w * 2
    net, counts = _mlp(lib), [0, 0]

    def pack(t):
        counts[0] += 1
        return t.clone()

    def unpack(t):
        counts[1] += 1
        return t

    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = lib.utils.checkpoint.checkpoint(lambda a: net(a).sin() * a, x, use_reentrant=reentrant)
    (y * y).sum().backward()
    return [counts, w.grad, [p.grad for p in net.parameters()]]


@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "non_leaf"])
@pytest.mark.parametrize("reentrant", [True, False], ids=["reentrant", "non_reentrant"])
def test_saved_tensor_hooks_around_a_checkpoint_see_its_inputs(torch, reentrant, leaf):
    ref, ours = _both(torch, _hooks_around, reentrant, leaf)
    assert ours[0] == ref[0] == [1, 1]
    assert_same(ours[1:], ref[1:], **TIGHT)


def _nested_under_save_on_cpu(lib):
    net, x = _mlp(lib), _x(lib, 3, 4)

    def run(f, t):
        return lib.utils.checkpoint.checkpoint(f, t, use_reentrant=False)

    with lib.autograd.graph.save_on_cpu():
        y = run(lambda a: run(net, a).tanh() * a, x)
    (y * y).sum().backward()
    return [y, x.grad, [p.grad for p in net.parameters()]]


def test_nested_non_reentrant_checkpoints_under_save_on_cpu(torch):
    ref, ours = _both(torch, _nested_under_save_on_cpu)
    assert_same(ours, ref, **TIGHT)


# ---- context_fn and early stop -------------------------------------------------------------------


def _contexts(lib, early_stop):
    log = []

    @contextlib.contextmanager
    def tagged(tag):
        log.append(tag + "+")
        yield  # no try/finally: an exception passing through skips the exit entry
        log.append(tag + "-")

    def block(a):
        log.append("fn")
        b = a.sin()
        log.append("after")
        return b * 2

    x = _x(lib, 3)
    y = lib.utils.checkpoint.checkpoint(
        block,
        x,
        use_reentrant=False,
        early_stop=early_stop,
        context_fn=lambda: (tagged("F"), tagged("R")),
    )
    y.sum().backward()
    return [log, x.grad]


@pytest.mark.parametrize("early_stop", [True, False])
def test_early_stop_passes_through_the_rerun_context(torch, early_stop):
    ref, ours = _both(torch, _contexts, early_stop)
    assert ours[0] == ref[0]
    assert_same(ours[1], ref[1], **TIGHT)


# ---- selective checkpointing -----------------------------------------------------------------------


def _selective(lib, policy):
    ckpt = lib.utils.checkpoint
    if policy == "list":
        arg = [lib.ops.aten.mm.default, lib.ops.aten.addmm.default]
    else:
        answer = getattr(ckpt.CheckpointPolicy, policy)
        arg = lambda ctx, op, *args, **kwargs: answer  # noqa: E731
    net, x = _mlp(lib), _x(lib, 5, 4)
    context_fn = functools.partial(ckpt.create_selective_checkpoint_contexts, arg)
    y = ckpt.checkpoint(lambda a: net(a).tanh() * a, x, use_reentrant=False, context_fn=context_fn)
    (y * y).sum().backward()
    return [y, x.grad, [p.grad for p in net.parameters()]]


@pytest.mark.parametrize("policy", ["list", "PREFER_RECOMPUTE", "PREFER_SAVE"])
def test_selective_checkpoint_gives_pytorch_values(torch, policy):
    ref, ours = _both(torch, _selective, policy)
    assert_same(ours, ref, **TIGHT)


def test_selective_checkpoint_names_match_pytorch(torch):
    theirs, ours = torch.utils.checkpoint, gg.utils.checkpoint
    assert [(p.name, p.value) for p in ours.CheckpointPolicy] == [
        (p.name, p.value) for p in theirs.CheckpointPolicy
    ]
    assert set(theirs.__all__) <= set(ours.__all__)
    ctx = ours.SelectiveCheckpointContext(is_recompute=False)
    assert ctx.is_recompute is False and ctx.op_output is None
    assert ours.DefaultDeviceType.get_device_type() == theirs.DefaultDeviceType.get_device_type()


def test_selective_checkpoint_refusals_match_pytorch(torch):
    for lib in (torch, gg):
        with pytest.raises(TypeError, match="either a function or a list of ops"):
            lib.utils.checkpoint.create_selective_checkpoint_contexts(3)
        with pytest.raises(ValueError, match="Expected op in `op_list` to be an OpOverload"):
            lib.utils.checkpoint.create_selective_checkpoint_contexts([3])


def test_set_checkpoint_debug_enabled_keeps_values(torch):
    def program(lib):
        x = _x(lib, 3, 4)
        with lib.utils.checkpoint.set_checkpoint_debug_enabled(False):
            y = lib.utils.checkpoint.checkpoint(lambda a: a.sin(), x, use_reentrant=False)
        y.sum().backward()
        return x.grad

    ref, ours = _both(torch, program)
    assert_same(ours, ref, **TIGHT)


# ---- GraphExecGroup ----------------------------------------------------------------------------------


def _group(lib, grouped):
    x, reruns = _x(lib, 3, 4), [0]

    def block(a):
        reruns[0] += 1
        return a.sin(), a.exp()

    y, z = lib.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
    with lib.utils.checkpoint.GraphExecGroup() if grouped else contextlib.nullcontext():
        y.sum().backward(retain_graph=True)
        z.sum().backward(retain_graph=True)
    return [reruns[0], x.grad]


@pytest.mark.parametrize("grouped", [True, False])
def test_graph_exec_group_reruns_once_for_its_backward_calls(torch, grouped):
    ref, ours = _both(torch, _group, grouped)
    assert ours[0] == ref[0] == (2 if grouped else 3)
    assert_same(ours[1], ref[1], **TIGHT)


def test_graph_exec_group_refusals():
    x = _x(gg, 3)
    y = gg.utils.checkpoint.checkpoint(lambda a: a.sin(), x, use_reentrant=False)
    with gg.utils.checkpoint.GraphExecGroup():
        y.sum().backward(retain_graph=True)
        with pytest.raises(gg.utils.checkpoint.CheckpointError, match="already unpacked once"):
            y.sum().backward(retain_graph=True)
        with pytest.raises(RuntimeError, match="cannot be nested"), gg.utils.checkpoint.GraphExecGroup():
            pass


# ---- torch.func, BatchNorm --------------------------------------------------------------------------


def test_vmap_over_a_non_reentrant_checkpoint(torch):
    def program(lib):
        def f(a):
            return lib.utils.checkpoint.checkpoint(lambda t: (t.sin() * t).sum(), a, use_reentrant=False)

        return lib.func.vmap(f)(_x(lib, 3, 4, grad=False))

    ref, ours = _both(torch, program)
    assert_same(ours, ref, **TIGHT)


def _batchnorm(lib, reentrant, early_stop):
    bn = lib.nn.BatchNorm1d(4).double()
    lin = _mlp(lib)[0]
    x = _x(lib, 5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kwargs = {} if reentrant else {"early_stop": early_stop}
        y = lib.utils.checkpoint.checkpoint(lambda t: lin(bn(t).tanh()), x, use_reentrant=reentrant, **kwargs)
    (y**2).sum().backward()
    return [y, x.grad, bn.weight.grad, bn.running_mean, bn.running_var, bn.num_batches_tracked]


@pytest.mark.parametrize(
    ("reentrant", "early_stop"),
    [(True, True), (False, True), (False, False)],
    ids=["reentrant", "stop", "full"],
)
def test_batchnorm_inside_updates_running_stats_as_pytorch(torch, reentrant, early_stop):
    ref, ours = _both(torch, _batchnorm, reentrant, early_stop)
    assert int(ours[-1]) == int(ref[-1]) == 2  # the rerun updates them a second time
    assert_same(ours, ref, **TIGHT)
