"""Hooks on graph nodes, continued from ``test_node_hooks.py``: removal, ``AccumulateGrad``,
``retain_graph``, ``autograd.grad`` and ``backward(inputs=)``, errors for wrong returns, in-place
rebasing and the tracer. Each ``script_*`` runs on glassgrad and on PyTorch; the logs must match."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import glassgrad
from glassgrad.autograd import accumulate_hooks
from glassgrad.errors import GraphError, ShapeError
from glassgrad.explain import trace

from ..porting.helpers import assert_same
from .node_hook_helpers import W, X, _watch


def script_remove(torch):
    log = []
    x = torch.tensor(X, requires_grad=True)
    y = (x * 2).sum()
    handles = []

    def first(go):
        log.append("first")
        handles[1].remove()  # removed while the hooks run: it still runs this time

    handles.append(y.grad_fn.register_prehook(first))
    handles.append(y.grad_fn.register_prehook(lambda go: log.append("second")))
    handles.append(y.grad_fn.register_hook(lambda gi, go: log.append("post")))
    acc = y.grad_fn.next_functions[0][0].next_functions[0][0]
    handles.append(acc.register_prehook(lambda go: log.append("acc pre")))
    handles.append(acc.register_hook(lambda gi, go: log.append("acc post")))
    y.backward(retain_graph=True)
    log.append("--")
    y.backward(retain_graph=True)
    for h in handles:
        h.remove()
    log.append("--")
    y.backward()
    return log, x.grad


def test_handles_remove(torch):
    assert_same(script_remove(glassgrad), script_remove(torch))


def test_removed_hooks_leave_the_plain_path():
    x = glassgrad.tensor(X, requires_grad=True)
    y = x * 2
    assert y.grad_fn.node_hooks is None  # nothing until a hook (or metadata) is asked for
    y.grad_fn.metadata["k"] = 1
    assert not y.grad_fn.node_hooks  # metadata alone does not send the node down the hooked path
    h1 = y.grad_fn.register_prehook(lambda go: None)
    h2 = y.grad_fn.register_hook(lambda gi, go: None)
    assert y.grad_fn.node_hooks
    h1.remove()
    h2.remove()
    assert not y.grad_fn.node_hooks and y.grad_fn.metadata == {"k": 1}
    acc = y.grad_fn.next_functions[0][0]
    h = acc.register_prehook(lambda go: None)
    assert id(x) in accumulate_hooks.registered
    h.remove()
    assert id(x) not in accumulate_hooks.registered  # backward takes its plain path again


# ---------------------------------------------------------------- AccumulateGrad
def script_accumulate(torch):
    log = []
    x = torch.tensor(X, requires_grad=True)
    y = x * 3 + x * x  # x feeds two nodes: its AccumulateGrad runs once, on the sum
    acc = y.grad_fn.next_functions[0][0].next_functions[0][0]
    same = acc is y.grad_fn.next_functions[1][0].next_functions[0][0]
    acc.register_prehook(lambda go: log.append(("pre", len(go), go[0].clone(), x.grad)) or (go[0] * 2,))
    acc.register_hook(lambda gi, go: log.append(("post", gi, go[0].clone(), x.grad.clone())))
    y.sum().backward(retain_graph=True)
    y.sum().backward()  # the second pass adds to .grad; the hooks see this pass's gradient
    v = torch.tensor(X, requires_grad=True)
    u = v * 3
    acc_v = u.grad_fn.next_functions[0][0]
    acc_v.register_prehook(lambda go: (None,))  # nothing accumulated, later hooks still run
    v.register_post_accumulate_grad_hook(lambda t: log.append(("post accumulate", t.grad)))
    acc_v.register_hook(lambda gi, go: log.append(("post v", gi, go)))
    u.sum().backward()
    return log, same, x.grad, v.grad, acc.metadata, acc.name().endswith("AccumulateGrad")


def test_accumulate_grad_hooks(torch):
    assert_same(script_accumulate(glassgrad), script_accumulate(torch))


def test_accumulate_grad_of_a_dead_leaf():
    acc = (glassgrad.tensor(X, requires_grad=True) * 2).grad_fn.next_functions[0][0]
    gc.collect()
    assert acc.variable is None
    with pytest.raises(GraphError, match="no longer exists"):
        acc.register_prehook(lambda go: None)


# ---------------------------------------------------------------- second passes, autograd.grad
def script_retain_graph(torch):
    log = []
    x = torch.tensor(X, requires_grad=True)
    y = x.exp()
    z = (y * torch.tensor(W)).sum()
    _watch(y.grad_fn, log, "exp")
    y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    z.backward(retain_graph=True)
    g1 = x.grad.clone()
    z.backward()
    return log, g1, x.grad


def test_retain_graph_second_pass(torch):
    ours = script_retain_graph(glassgrad)
    assert len(ours[0]) == 4
    assert_same(ours, script_retain_graph(torch))


def script_autograd_grad(torch):
    log = []
    x = torch.tensor(X, requires_grad=True)
    w = torch.tensor(W, requires_grad=True)
    a = x * 2
    y = a * w
    z = (y * y).sum()
    for tag, t in (("a", a), ("y", y), ("z", z)):
        _watch(t.grad_fn, log, tag)
    acc = a.grad_fn.next_functions[0][0]
    acc.register_prehook(lambda go: log.append("acc pre (never: .grad is not written)"))
    x.register_hook(lambda g: log.append(("x tensor hook", g.clone())))
    y.register_hook(lambda g: log.append(("y tensor hook", g.clone())))
    (gx,) = torch.autograd.grad(z, x, retain_graph=True)  # every node runs; acc hooks do not
    log.append("-- grad w")
    (gw,) = torch.autograd.grad(z, w, retain_graph=True)  # a's node leads to no input: it never runs
    log.append("-- grad y")
    (gy,) = torch.autograd.grad(z, y, retain_graph=True)  # y's tensor hooks run, its node does not
    log.append("-- backward inputs=[w]")
    z.backward(inputs=[w], retain_graph=True)  # x's edge is None for y's hook
    log.append("-- backward inputs=[y]")
    y.retain_grad()
    z.backward(inputs=[y])  # y's node runs (PyTorch marks it needed), x's does not
    return log, gx, gw, gy, x.grad, w.grad, y.grad


def test_autograd_grad_and_backward_inputs(torch):
    assert_same(script_autograd_grad(glassgrad), script_autograd_grad(torch))


def script_grad_runs_only_needed_nodes(torch):
    log = []
    x = torch.tensor(X, requires_grad=True)
    y = x.exp()
    x.register_hook(lambda g: log.append("x hook"))
    (gy,) = torch.autograd.grad((y * 3).sum(), y)  # y's node never runs: it keeps its saved result
    log.append("--")
    y.sum().backward()  # so a backward through it works
    return log, gy, x.grad


def test_autograd_grad_leaves_unneeded_nodes_alone(torch):
    assert_same(script_grad_runs_only_needed_nodes(glassgrad), script_grad_runs_only_needed_nodes(torch))


# ---------------------------------------------------------------- errors
def _error(torch, make):
    """The error a backward through a node hooked by ``make`` raises: (type, message)."""
    x = torch.tensor(X, requires_grad=True)
    y = x * torch.tensor(W, requires_grad=True)
    make(y.grad_fn)
    try:
        y.sum().backward()
    except (RuntimeError, TypeError) as e:
        return e
    return None


def _callable_hook(gi, go):
    return (gi[0][:2], gi[1])


def _none_replaced(node):
    kept = []
    node.register_prehook(lambda go: kept.append(go[0]) or (None,))  # backward gets no gradient
    node.register_hook(lambda gi, go: (kept[0], None))  # so gi is (None, None): None can't be replaced


class _NoName:
    def __call__(self, go):
        return (go[0][:1],)


ERRORS = {
    "post short": (lambda n: n.register_hook(lambda gi, go: (gi[0],)), "incorrect number of values"),
    "post long": (lambda n: n.register_hook(lambda gi, go: (*gi, gi[0])), "incorrect number of values"),
    "pre short": (lambda n: n.register_prehook(lambda go: ()), "incorrect number of values"),
    "acc post": (
        lambda n: n.next_functions[0][0].register_hook(lambda gi, go: go),
        "incorrect number of values",
    ),
    "acc pre": (lambda n: n.next_functions[0][0].register_prehook(lambda go: go * 2), "incorrect number"),
    "post list": (lambda n: n.register_hook(lambda gi, go: list(gi)), "expected tuple"),
    "pre tensor": (lambda n: n.register_prehook(lambda go: go[0]), "expected tuple"),
    "post shape": (lambda n: n.register_hook(_callable_hook), "hook '_callable_hook' has changed the size"),
    "pre shape": (lambda n: n.register_prehook(_NoName()), "hook '<unknown>' has changed the size"),
    "pre dtype": (lambda n: n.register_prehook(lambda go: (go[0].double(),)), "changed the type of value"),
    "None replaced": (_none_replaced, "can't replace a None gradient with a non-None value"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_for_wrong_returns(torch, case):
    make, match = ERRORS[case]
    ours, theirs = _error(glassgrad, make), _error(torch, make)
    assert theirs is not None and match in str(theirs)
    assert ours is not None and match in str(ours), ours
    assert isinstance(ours, TypeError) == isinstance(theirs, TypeError)  # else both RuntimeError
    assert str(ours).startswith("AccumulateGrad" if "acc" in case else "MulBackward0")  # the node


def test_wrong_shape_is_a_shape_error_naming_both_shapes():
    x = glassgrad.tensor(X, requires_grad=True)
    y = x * 2
    y.grad_fn.register_prehook(lambda go: (go[0][:1],))
    expected = (
        r"MulBackward0: hook '<lambda>' has changed the size of value \(expected shape \(3,\), got \(1,\)\)"
    )
    with pytest.raises(ShapeError, match=expected):
        y.sum().backward()
    with pytest.raises(TypeError, match="callable"):
        y.grad_fn.register_hook(3)


# ---------------------------------------------------------------- in-place rebasing
def script_rebase(torch):
    log = []
    x = torch.tensor(X, requires_grad=True)
    base = x.clone()
    v = base[0]
    clone_node, select_node = base.grad_fn, v.grad_fn
    clone_node.register_prehook(lambda go: log.append(("clone pre", go[0].clone())))
    select_node.register_prehook(lambda go: log.append("select pre (not on the changed graph)"))
    v.mul_(5)  # base's node is replaced by CopySlices; the old nodes keep their hooks
    base.grad_fn.register_prehook(lambda go: log.append(("copy slices pre", go[0].clone())))
    (base * torch.tensor(W)).sum().backward()
    g1 = x.grad.clone()
    x.grad = None
    base = x.clone()
    v = base[1]
    u = v * 1  # reads v before the change: the old select node is still on u's path
    v.grad_fn.register_prehook(lambda go: log.append(("select pre", go[0].clone())))
    v.mul_(5)
    (base.sum() + u).backward()
    return log, g1, x.grad


def test_hooks_on_nodes_an_in_place_change_replaces(torch):
    assert_same(script_rebase(glassgrad), script_rebase(torch))


def test_copy_slices_hooks_run():
    """CopySlices' inputs differ from PyTorch's (the changed region's node is its second input
    here), so only that its hooks run and the gradients come out right is checked."""
    log = []
    x = glassgrad.tensor(X, requires_grad=True)
    base = x.clone()
    base[:1].mul_(2)
    _watch(base.grad_fn, log, "copy slices")
    (base * 10).sum().backward()
    assert [e[1] for e in log] == ["pre", "post"] and log[1][2] == 2
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 10.0, 10.0])


# ---------------------------------------------------------------- the glass-box tracer
def test_tracer_sees_what_flows():
    x = glassgrad.tensor(X, requires_grad=True)
    with trace() as tr:
        y = x * 2
        y.grad_fn.register_prehook(lambda go: (go[0] * 10,))
        y.grad_fn.register_hook(lambda gi, go: (gi[0] + 1, None))
        y.sum().backward()
    rows = {r.op: r for r in tr.rows()}
    np.testing.assert_allclose(rows["mul"].grad, np.full(3, 10.0))  # after the pre-hook
    np.testing.assert_allclose(rows["mul"].delivered[0][1], np.full(3, 21.0))  # after the hook
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 21.0))
