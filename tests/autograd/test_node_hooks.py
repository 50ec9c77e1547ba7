"""Hooks on graph nodes: ``grad_fn.register_prehook``, ``grad_fn.register_hook``, ``metadata``,
and the same on a leaf's ``AccumulateGrad`` (from ``next_functions``).

Each ``script_*`` runs on glassgrad and on PyTorch, written the way PyTorch code writes it, and
returns a log of what the hooks saw (values, None placement, tuple lengths, order) and the
gradients that came out; the two must be the same."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad

from ..porting.helpers import assert_same
from .node_hook_helpers import A, B, W, X, _watch


# ---------------------------------------------------------------- what the hooks receive
def script_arguments(torch):
    log = []
    x = torch.tensor(X, requires_grad=True)
    w = torch.tensor(W, requires_grad=True)
    c = torch.tensor(W)  # needs no grad: None in grad_inputs
    row = torch.tensor(X.reshape(1, 3), requires_grad=True)
    col = torch.tensor(W[:2].reshape(2, 1), requires_grad=True)
    a = torch.tensor(A, requires_grad=True)
    b = torch.tensor(B, requires_grad=True)
    outs = {
        "x*w": x * w,
        "x*c": x * c,
        "c*x": c * x,
        "x*2": x * 2,
        "x+c": x + c,
        "row+col": row + col,  # broadcast: grad_inputs have the inputs' shapes
        "a@b": a @ b,
        "sum": x.sum(),
        "sum0": a.sum(0),
        "exp": x.exp(),
    }
    for tag, y in outs.items():
        _watch(y.grad_fn, log, tag)
    seeds = [np.linspace(-1, 1, y.numel(), dtype=np.float32).reshape(tuple(y.shape)) for y in outs.values()]
    loss = sum((y * torch.tensor(s)).sum() for y, s in zip(outs.values(), seeds))
    loss.backward()
    log.sort(key=lambda e: (e[0], e[1]))  # the order of independent nodes is the engine's own
    return log, [t.grad for t in (x, w, row, col, a, b)]


def test_hooks_receive_pytorchs_arguments(torch):
    ours, theirs = script_arguments(glassgrad), script_arguments(torch)
    assert len(ours[0]) == 20  # every node's pre-hook and hook ran once
    assert_same(ours, theirs)


def script_split(torch, op):
    log = []
    x = torch.tensor(np.arange(6, dtype=np.float32), requires_grad=True)
    if op == "split":
        p = x.split(2)
    elif op == "chunk":
        p = x.chunk(3)
    else:
        p = x.view(3, 2).unbind(0)
    same = p[0].grad_fn is p[1].grad_fn  # one node for every piece, in both libraries
    node = p[2].grad_fn
    _watch(node, log, op)
    node.metadata["seen"] = True
    (p[0] * 2).sum().backward(retain_graph=True)  # the other pieces got none: None
    g1 = x.grad.clone()
    (p[0] * 3 + p[2] * torch.tensor([1.0, -1.0])).sum().backward()
    shared = same or p[0].grad_fn.metadata is p[2].grad_fn.metadata  # one node's metadata
    return log, g1, x.grad, shared, p[1].grad_fn.metadata


@pytest.mark.parametrize("op", ["split", "chunk", "unbind"])
def test_multi_output_ops_hooks_see_one_gradient_per_output(torch, op):
    ours = script_split(glassgrad, op)
    assert len(ours[0]) == 4 and len(ours[0][0][3]) == 3  # three pieces, two passes
    assert ours[0][0][3][1] is None and ours[0][2][3][1] is None
    assert_same(ours, script_split(torch, op))


def script_split_replace(torch):
    x = torch.tensor(np.arange(6, dtype=np.float32), requires_grad=True)
    a, b, c = x.split(2)
    # a replacement for the unused piece's None is refused; the used pieces' may change
    b.grad_fn.register_prehook(lambda go: (go[0] * 10, None, go[2] + 1))
    b.grad_fn.register_hook(lambda gi, go: (gi[0] - 1,))
    (a.sum() + c.sum() * 2).backward()
    return x.grad


def test_multi_output_replacements(torch):
    assert_same(script_split_replace(glassgrad), script_split_replace(torch))


def script_tensor_split(torch):
    """tensor_split's pieces are plain slices in PyTorch: a node each, whose hooks see one piece."""
    log = []
    x = torch.tensor(np.arange(6, dtype=np.float32), requires_grad=True)
    p = x.tensor_split(3)
    _watch(p[1].grad_fn, log, "piece1")
    p[1].grad_fn.register_hook(lambda gi, go: (gi[0] * 2,))
    (p[0] * 2 + p[1] * 3 + p[2] * 4).sum().backward()
    return log, x.grad, p[0].grad_fn is p[1].grad_fn


def test_tensor_split_pieces_have_a_node_each(torch):
    assert_same(script_tensor_split(glassgrad), script_tensor_split(torch))


def script_custom(torch):
    log = []

    class Two(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, k, b):
            ctx.k = k
            return a * k, a + b

        @staticmethod
        def backward(ctx, g1, g2):
            log.append(("backward", g1.clone(), g2.clone()))
            return g1 * ctx.k + g2, None, g2  # a gradient for b, which needs none: hooks see it

    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a**3

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 3 * a**2 * g

    x = torch.tensor(X, requires_grad=True)
    b = torch.tensor(W)
    p, q = Two.apply(x, 3.0, b)
    _watch(q.grad_fn, log, "two")  # either output's grad_fn: the one node of the Function
    p.sum().backward()  # q got no gradient: None for the hooks, zeros for backward
    g1 = x.grad.clone()
    p, q = Two.apply(x, 3.0, b)
    _watch(p.grad_fn, log, "two-both")
    p.grad_fn.register_prehook(lambda go: (go[0], go[1] * 2))
    (p.sum() + (q * 2).sum()).backward()
    x.grad = None
    y = Cube.apply(x)
    _watch(y.grad_fn, log, "cube")
    y.grad_fn.register_hook(lambda gi, go: (gi[0] + 1,))
    y.sum().backward()
    return log, g1, x.grad


def test_custom_function_hooks(torch):
    assert_same(script_custom(glassgrad), script_custom(torch))


# ---------------------------------------------------------------- replacing gradients
def script_replace(torch):
    x = torch.tensor(X, requires_grad=True)
    w = torch.tensor(W, requires_grad=True)
    y = x * w
    y.grad_fn.register_prehook(lambda go: (go[0] + 1,))
    y.grad_fn.register_prehook(lambda go: None)  # None keeps what the previous one returned
    y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    y.grad_fn.register_hook(lambda gi, go: (gi[0], None))  # w gets no gradient at all
    z = y.exp()
    z.grad_fn.register_hook(lambda gi, go: (gi[0] * 0 + go[0],))
    z.sum().backward()
    grads = [x.grad, w.grad]
    v = torch.tensor(X, requires_grad=True)
    u = v * 2
    u.grad_fn.register_prehook(lambda go: (None,))  # no gradient flows on: the hook sees Nones
    log = []
    u.grad_fn.register_hook(lambda gi, go: log.append((gi, go)))
    (u.sum() + v.sum()).backward()
    return grads, log, v.grad


def test_replacing_grad_outputs_and_grad_inputs(torch):
    assert_same(script_replace(glassgrad), script_replace(torch))


def script_kept(torch):
    kept = torch.ones(3)
    x = torch.tensor(X, requires_grad=True)
    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: (kept, None))
    y.sum().backward()
    x.grad.add_(5)  # an optimizer changes .grad in place: the hook's tensor must not change
    return kept, x.grad


def test_a_returned_tensor_the_user_keeps_is_not_the_grad(torch):
    assert_same(script_kept(glassgrad), script_kept(torch))


# ---------------------------------------------------------------- order, handles
def script_order(torch):
    log = []
    x = torch.tensor(X, requires_grad=True)
    c = torch.tensor(W)
    y = x * c
    z = y.exp()
    y.register_hook(lambda g: log.append("y tensor hook 1") or g * 10)
    y.retain_grad()
    y.grad_fn.register_prehook(lambda go: log.append(("y pre 1", go[0].clone())) or (go[0] + 1,))
    y.grad_fn.register_hook(lambda gi, go: log.append(("y post 1", gi[0].clone(), go[0].clone())))
    y.register_hook(lambda g: log.append(("y tensor hook 2", g.clone())))  # after the node's: still first
    y.grad_fn.register_prehook(lambda go: log.append(("y pre 2", go[0].clone())))
    y.grad_fn.register_hook(lambda gi, go: log.append("y post 2") or (gi[0] * 2, None))
    z.grad_fn.register_prehook(lambda go: log.append("z pre"))
    z.grad_fn.register_hook(lambda gi, go: log.append("z post"))
    z.register_hook(lambda g: log.append("z tensor hook"))
    acc = y.grad_fn.next_functions[0][0]
    x.register_hook(lambda g: log.append(("x tensor hook", g.clone())) or g + 1)
    acc.register_prehook(lambda go: log.append(("acc pre", go[0].clone(), x.grad)) or (go[0] * 3,))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("post accumulate", t.grad.clone())))
    acc.register_hook(lambda gi, go: log.append(("acc post", gi, go[0].clone(), x.grad.clone())))
    z.sum().backward()
    return log, y.grad, x.grad


def test_order_of_tensor_hooks_retain_grad_and_node_hooks(torch):
    ours = script_order(glassgrad)
    assert [e if isinstance(e, str) else e[0] for e in ours[0]] == [
        "z tensor hook",
        "z pre",
        "z post",
        "y tensor hook 1",
        "y tensor hook 2",
        "y pre 1",
        "y pre 2",
        "y post 1",
        "y post 2",
        "x tensor hook",
        "acc pre",
        "post accumulate",
        "acc post",
    ]
    assert_same(ours, script_order(torch))
