"""The order in which ``Tensor.register_hook`` hooks fire during ``backward``: a leaf's hooks run
(and its ``.grad`` is stored) as soon as every node feeding it has run, before the other ready
nodes, as PyTorch's ``AccumulateGrad`` does (rasbt's manual-gradients notebook records the
gradients in a dict from such hooks and prints it).

Each ``script_*`` runs on glassgrad and on PyTorch, written the way PyTorch code writes it."""

from __future__ import annotations

import glassgrad

from ..porting.helpers import assert_same


def _recorder(log):
    def make(name):
        def hook(grad):
            log.append((name, grad.clone()))

        return hook

    return make


def script_notebook_chain(torch):
    """a = relu(x * w + b): the leaf b is ready before u's node runs."""
    log = []
    make = _recorder(log)
    x = torch.tensor([3.0], requires_grad=True)
    w = torch.tensor([2.0], requires_grad=True)
    b = torch.tensor([1.0], requires_grad=True)
    u = x * w
    v = u + b
    for name, t in zip("xwbuv", (x, w, b, u, v)):
        t.register_hook(make(name))
    torch.nn.functional.relu(v).backward()
    return [name for name, _ in log], [g for _, g in log]


def test_leaf_hook_fires_when_its_gradient_is_ready(torch):
    names, grads = script_notebook_chain(glassgrad)
    assert names == ["v", "b", "u", "x", "w"]
    assert_same((names, grads), script_notebook_chain(torch))


def script_two_branches(torch):
    """A leaf fed by two nodes waits for both; another leaf's .grad is already stored by then."""
    log = []
    make = _recorder(log)
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    c = torch.tensor([3.0, 4.0], requires_grad=True)
    y = (a * 2).exp()
    z = a * c
    s = y.sum() + z.sum()
    for name, t in zip("acyz", (a, c, y, z)):
        t.register_hook(make(name))
    seen = []
    a.register_hook(lambda g: seen.append(("c.grad", c.grad)))
    c.register_hook(lambda g: seen.append(("a.grad", a.grad)))
    s.backward()
    return [name for name, _ in log], [g for _, g in log], seen, a.grad, c.grad


def test_leaf_fed_twice_and_grads_seen_by_hooks(torch):
    out = script_two_branches(glassgrad)
    assert out[0] == ["z", "c", "y", "a"]
    assert out[2][0][0] == "a.grad" and out[2][0][1] is None  # c's hook runs before a is ready
    assert_same(out, script_two_branches(torch))


def script_hook_changes_grad(torch):
    """A leaf hook's return value is what is stored; a later leaf hook sees the stored .grad."""
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    b = torch.tensor([0.5], requires_grad=True)
    seen = []
    b.register_hook(lambda g: g * 100)
    w.register_hook(lambda g: seen.append(b.grad.clone()))
    (w * 3 + b).sum().backward()
    (w * 3 + b).sum().backward()  # accumulates: the second pass adds to both
    return seen, w.grad, b.grad


def test_hook_result_is_stored_before_later_hooks(torch):
    assert_same(script_hook_changes_grad(glassgrad), script_hook_changes_grad(torch))
