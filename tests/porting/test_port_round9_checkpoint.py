"""Activation checkpointing, ``torch.utils.checkpoint`` (glassgrad/utils/checkpoint.py): the tuning
guide's and the transformer trainers' ``from torch.utils.checkpoint import checkpoint``. Each
script runs on glassgrad and PyTorch with the same float64 weights; both variants
(``use_reentrant=True`` and ``False``) must give the gradients of the plain network."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad
import glassgrad.utils.checkpoint as gg_checkpoint
from glassgrad.autograd.function import Node

from .helpers import assert_same

TIGHT = {"rtol": 1e-10, "atol": 1e-10}


def _weights(seed, sizes):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((o, i)) / np.sqrt(i), rng.standard_normal(o) * 0.1) for i, o in sizes]


def _mlp(lib, seed, sizes=((5, 8), (8, 8), (8, 8), (8, 3))):
    layers = []
    for w, b in _weights(seed, sizes):
        lin = lib.nn.Linear(w.shape[1], w.shape[0]).double()
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w))
            lin.bias.copy_(lib.tensor(b))
        layers.append(lin)
    return layers


def _quiet_checkpoint(lib, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.utils.checkpoint.checkpoint(*args, **kwargs)


def script_mlp(lib, use_reentrant, checkpointed=True, seed=0):
    """An MLP whose two middle layers form one checkpointed block."""
    first, mid1, mid2, last = _mlp(lib, seed)
    x = lib.tensor(np.random.default_rng(seed + 1).standard_normal((4, 5)), requires_grad=True)

    def block(h):
        return mid2(mid1(h).tanh()).sigmoid() * h

    h = first(x).relu()
    h = _quiet_checkpoint(lib, block, h, use_reentrant=use_reentrant) if checkpointed else block(h)
    out = last(h)
    (out**2).sum().backward()
    grads = [p.grad for m in (first, mid1, mid2, last) for p in m.parameters()]
    return [out, x.grad, grads]


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_mlp_with_checkpointed_block_matches_pytorch(torch, use_reentrant):
    ours = script_mlp(glassgrad, use_reentrant)
    assert_same(ours, script_mlp(torch, use_reentrant), **TIGHT)
    assert_same(ours, script_mlp(glassgrad, use_reentrant, checkpointed=False), **TIGHT)
    assert all(g is not None for g in ours[2])


def script_dropout(lib, use_reentrant, checkpointed=True, preserve=True):
    lib.manual_seed(3)
    first, mid1, mid2, last = _mlp(lib, 7)
    x = lib.tensor(np.random.default_rng(2).standard_normal((16, 5)), requires_grad=True)

    def block(h):
        return lib.nn.functional.dropout(mid2(lib.nn.functional.dropout(mid1(h), 0.5)), 0.3)

    h = first(x)
    if checkpointed:
        h = _quiet_checkpoint(lib, block, h, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    else:
        h = block(h)
    lib.rand(7)  # the caller draws between forward and backward
    state = lib.get_rng_state()
    last(h).sum().backward()
    same_state = plain_state(lib.get_rng_state()) == plain_state(state)
    return [x.grad, [p.grad for m in (first, mid1, mid2, last) for p in m.parameters()], same_state]


def plain_state(state):
    return state.numpy().tolist() if hasattr(state, "numpy") else repr(state)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_dropout_inside_gets_the_forward_mask(torch, use_reentrant):
    ours = script_dropout(glassgrad, use_reentrant)
    assert_same(ours, script_dropout(glassgrad, use_reentrant, checkpointed=False), **TIGHT)
    assert ours[2] is True  # the caller's RNG state is given back after the rerun
    theirs = script_dropout(torch, use_reentrant)
    assert_same(theirs, script_dropout(torch, use_reentrant, checkpointed=False), **TIGHT)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_dropout_without_preserved_rng_draws_another_mask(use_reentrant):
    ours = script_dropout(glassgrad, use_reentrant, preserve=False)
    plain_run = script_dropout(glassgrad, use_reentrant, checkpointed=False)
    assert not np.allclose(ours[0].numpy(), plain_run[0].numpy())  # the rerun drew afresh


def script_tuple_and_plain_values(lib, use_reentrant):
    first, mid, _, _ = _mlp(lib, 4)
    a = lib.tensor(np.random.default_rng(5).standard_normal((3, 5)), requires_grad=True)
    b = lib.tensor(np.random.default_rng(6).standard_normal((3, 8)))  # wants no gradient

    def block(u, scale, v, name):
        h = first(u) * scale
        return mid(h).tanh() + v, h.exp(), name.upper(), 7

    y, z, label, seven = _quiet_checkpoint(lib, block, a, 0.5, b, "blk", use_reentrant=use_reentrant)
    ((y * z).sum() + y.sum()).backward()
    return [y, z, label, seven, a.grad, b.grad, [p.grad for m in (first, mid) for p in m.parameters()]]


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_tuple_outputs_and_non_tensor_args_match_pytorch(torch, use_reentrant):
    ours = script_tuple_and_plain_values(glassgrad, use_reentrant)
    assert_same(ours, script_tuple_and_plain_values(torch, use_reentrant), **TIGHT)
    assert ours[5] is None and ours[2] == "BLK"


def script_sequential(lib, use_reentrant, segments):
    lin = _mlp(lib, 9, sizes=((4, 6), (6, 6), (6, 6), (6, 6), (6, 2)))
    acts = [lib.nn.Tanh(), lib.nn.GELU(), lib.nn.Sigmoid(), lib.nn.SiLU()]
    model = lib.nn.Sequential(*[m for pair in zip(lin, acts) for m in pair], lin[-1])
    x = lib.tensor(np.random.default_rng(1).standard_normal((5, 4)), requires_grad=True)
    out = lib.utils.checkpoint.checkpoint_sequential(model, segments, x, use_reentrant=use_reentrant)
    out.pow(2).mean().backward()
    return [out, x.grad, [p.grad for p in model.parameters()]]


@pytest.mark.parametrize("use_reentrant", [True, False])
@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential_matches_pytorch(torch, use_reentrant, segments):
    ours = script_sequential(glassgrad, use_reentrant, segments)
    assert_same(ours, script_sequential(torch, use_reentrant, segments), **TIGHT)


def _warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [(w.category.__name__, str(w.message)) for w in caught]


def test_use_reentrant_none_warns_as_pytorch(torch):
    def script(lib):
        lin = _mlp(lib, 1)[0]
        x = lib.ones(2, 5, dtype=lib.float64, requires_grad=True)
        cp = lib.utils.checkpoint
        one = _warnings_of(lambda: cp.checkpoint(lin, x).sum().backward())
        seq = _warnings_of(lambda: cp.checkpoint_sequential(lib.nn.Sequential(lin, lib.nn.Tanh()), 2, x))
        explicit = _warnings_of(lambda: cp.checkpoint(lin, x, use_reentrant=False))
        return [one, seq, explicit, lin.weight.grad]

    ours = script(glassgrad)
    assert_same(ours, script(torch), **TIGHT)
    assert len(ours[0]) == 1 and "use_reentrant parameter should be passed explicitly" in ours[0][0][1]


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_no_input_requires_grad_as_pytorch(torch, use_reentrant):
    def script(lib):
        first, mid, _, _ = _mlp(lib, 2)
        x = lib.tensor(np.random.default_rng(0).standard_normal((3, 5)))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            h = lib.utils.checkpoint.checkpoint(first, x, use_reentrant=use_reentrant)
        mid(h).sum().backward()
        messages = [(w.category.__name__, str(w.message)) for w in caught]
        return [messages, h.requires_grad, first.weight.grad, mid.weight.grad]

    ours = script(glassgrad)
    assert_same(ours, script(torch), **TIGHT)
    assert (ours[2] is None) is use_reentrant  # reentrant: no node, so nothing reaches the parameters
    assert len(ours[0]) == int(use_reentrant)


def test_reentrant_forward_keeps_no_graph_inside():
    lin1, lin2 = _mlp(glassgrad, 0)[:2]
    x = glassgrad.ones(2, 5, dtype=glassgrad.float64, requires_grad=True)
    h = x * 2
    y = gg_checkpoint.checkpoint(lambda t: lin2(lin1(t).tanh()), h, use_reentrant=True)
    assert repr(y.grad_fn) == "<CheckpointFunctionBackward>"  # PyTorch's node name
    assert [n for n, _ in y.grad_fn.next_functions] == [h.grad_fn]  # straight to the input's node


def test_non_reentrant_forward_keeps_no_saved_values():
    lin1, lin2 = _mlp(glassgrad, 0)[:2]
    x = glassgrad.ones(2, 5, dtype=glassgrad.float64, requires_grad=True)
    y = gg_checkpoint.checkpoint(lambda t: lin2(lin1(t).tanh()).exp(), x, use_reentrant=False)
    nodes, stack = [], [y._node]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(n for n in node.next if isinstance(n, Node))
    assert len(nodes) >= 4  # the ordinary graph ...
    assert not any(isinstance(s, np.ndarray) for n in nodes for s in n.saved)  # ... holding no arrays
    y.sum().backward()
    assert lin1.weight.grad is not None


def script_chunked(lib, use_reentrant, checkpointed=True):
    """The checkpointed block takes one chunk of a split; the other chunk's backward runs first."""
    first, mid, _, _ = _mlp(lib, 11, sizes=((5, 16), (8, 8), (8, 8), (8, 3)))
    x = lib.tensor(np.random.default_rng(3).standard_normal((4, 5)), requires_grad=True)
    a, b = first(x).chunk(2, dim=1)
    fb = (
        _quiet_checkpoint(lib, lambda t: mid(t).tanh(), a, use_reentrant=use_reentrant)
        if checkpointed
        else mid(a).tanh()
    )
    (fb * 3 + b.exp()).sum().backward()
    return [x.grad, first.weight.grad, mid.weight.grad]


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_on_a_chunk_keeps_the_outer_split_gradient(torch, use_reentrant):
    ours = script_chunked(glassgrad, use_reentrant)
    assert_same(ours, script_chunked(glassgrad, use_reentrant, checkpointed=False), **TIGHT)
    assert_same(ours, script_chunked(torch, use_reentrant), **TIGHT)


def test_nested_backward_keeps_the_outer_pass_id():
    """The chunk pieces of the outer graph share one gradient buffer per pass (ops/pieces.py); a
    nested backward that changed the pass id would make the later pieces allocate new ones."""
    from glassgrad.autograd.engine import pass_id

    lin = _mlp(glassgrad, 1, sizes=((8, 8),))[0]
    x = glassgrad.ones(3, 16, dtype=glassgrad.float64, requires_grad=True)
    a, b = x.chunk(2, dim=1)
    fa = gg_checkpoint.checkpoint(lin, a, use_reentrant=True)
    seen = []
    fa.register_hook(lambda g: seen.append(pass_id()))  # before the checkpoint node's backward
    a.register_hook(lambda g: seen.append(pass_id()))  # after it
    (fa.sum() + b.sum()).backward()
    assert len(seen) == 2 and seen[0] == seen[1] == pass_id()


def test_non_reentrant_works_with_autograd_grad_and_kwargs(torch):
    def script(lib):
        first, mid, _, _ = _mlp(lib, 5)
        x = lib.tensor(np.random.default_rng(4).standard_normal((3, 5)), requires_grad=True)
        y = lib.utils.checkpoint.checkpoint(
            lambda t, *, k: mid(first(t).tanh()) * k, x, k=1.5, use_reentrant=False
        )
        gx, gw = lib.autograd.grad(y.sum(), [x, first.weight])
        return [gx, gw, first.weight.grad]

    assert_same(script(glassgrad), script(torch), **TIGHT)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: k"):
        gg_checkpoint.checkpoint(lambda t, k: t, glassgrad.ones(2), k=1, use_reentrant=True)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_second_backward_with_retain_graph_reruns(torch, use_reentrant):
    def script(lib):
        first, mid, _, _ = _mlp(lib, 6)
        x = lib.tensor(np.random.default_rng(8).standard_normal((2, 5)), requires_grad=True)
        y = _quiet_checkpoint(lib, lambda t: mid(first(t).tanh()).exp(), x, use_reentrant=use_reentrant).sum()
        y.backward(retain_graph=True)
        y.backward()
        return [x.grad, first.weight.grad, mid.bias.grad]

    assert_same(script(glassgrad), script(torch), **TIGHT)


def test_rerun_that_saves_other_values_raises():
    calls = []

    def fickle(t):
        calls.append(1)
        return (t[: len(calls)] * t[: len(calls)]).sum()  # a different shape the second time

    x = glassgrad.ones(3, dtype=glassgrad.float64, requires_grad=True)
    y = gg_checkpoint.checkpoint(fickle, x, use_reentrant=False)
    with pytest.raises(gg_checkpoint.CheckpointError, match="different metadata"):
        y.backward()


def script_nested(lib, outer, inner):
    """A checkpoint inside a checkpoint (a reentrant one inside a non-reentrant one unpacks its saved
    input through the outer's saved-tensor hooks); None: no checkpoint at all."""
    l1, l2, l3, _ = _mlp(lib, 12, sizes=((4, 4), (4, 4), (4, 4), (4, 4)))
    x = lib.tensor(np.random.default_rng(9).standard_normal((2, 4)), requires_grad=True)

    def block(t):
        h = l1(t)
        h = (
            _quiet_checkpoint(lib, lambda u: l2(u).tanh(), h, use_reentrant=inner)
            if inner is not None
            else l2(h).tanh()
        )
        return l3(h).exp()

    y = _quiet_checkpoint(lib, block, x, use_reentrant=outer) if outer is not None else block(x)
    y.sum().backward()
    return [y, x.grad, [p.grad for m in (l1, l2, l3) for p in m.parameters()]]


@pytest.mark.parametrize("outer", [True, False])
@pytest.mark.parametrize("inner", [True, False])
def test_nested_checkpoints_match_the_plain_network(torch, outer, inner):
    ours = script_nested(glassgrad, outer, inner)
    assert_same(ours, script_nested(glassgrad, None, None), **TIGHT)
    assert_same(ours, script_nested(torch, outer, inner), **TIGHT)


# ------------------------------------------------ what the review of round 9 found (non-reentrant)
def _bn_last(lib):
    bn = lib.nn.BatchNorm1d(2).double()
    x = lib.tensor([[1.0, 2.0], [3.0, 6.0]], dtype=lib.float64, requires_grad=True)
    y = lib.utils.checkpoint.checkpoint(bn, x * 1, use_reentrant=False)
    y.pow(3).sum().backward()  # the rerun stops at the last save: the batch norm's
    return [bn.running_mean.tolist(), bn.running_var.tolist(), bn.num_batches_tracked.item(), x.grad.tolist()]


def test_a_batch_norm_last_in_the_block_updates_its_statistics_twice_as_pytorch(torch):
    assert_same(_bn_last(glassgrad), _bn_last(torch), rtol=1e-12, atol=1e-14)


def _two_passes(lib):
    x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([0.3, 0.7], dtype=lib.float64, requires_grad=True)

    def f(t):
        h = (t * w).exp()
        return h, h.sin()

    a, b = lib.utils.checkpoint.checkpoint(f, x * 1, use_reentrant=False)
    a.sum().backward(retain_graph=True)  # leaves sin's recomputed input unread
    with lib.no_grad():
        w.add_(1.0)
    x.grad = w.grad = None
    b.sum().backward()  # a new pass recomputes, with the new w
    return [x.grad.tolist(), w.grad.tolist()]


def test_each_backward_pass_recomputes_as_pytorch(torch):
    assert_same(_two_passes(glassgrad), _two_passes(torch), rtol=1e-12, atol=1e-14)


def _instance_norm_last(lib):
    m = lib.nn.InstanceNorm2d(3, track_running_stats=True, dtype=lib.float64)
    x = lib.tensor(np.random.default_rng(0).standard_normal((4, 3, 5, 2)), requires_grad=True)
    lib.utils.checkpoint.checkpoint(m, x, use_reentrant=False).pow(2).sum().backward()
    return [m.running_mean.tolist(), m.running_var.tolist(), x.grad.tolist()]


def test_an_instance_norm_last_in_the_block_updates_its_statistics_once_as_pytorch(torch):
    assert_same(_instance_norm_last(glassgrad), _instance_norm_last(torch), rtol=1e-12, atol=1e-14)
