"""``Tensor.register_post_accumulate_grad_hook``: when it runs, what it sees, the optimizer step
fused into backward (the PyTorch tutorial's use), and its errors.

Each ``script_*`` runs on glassgrad and on PyTorch, written the way PyTorch code writes it."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

import glassgrad
from glassgrad.autograd import accumulate_hooks
from glassgrad.errors import GraphError

from ..porting.helpers import assert_same

W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)


def script_order(torch):
    w = torch.tensor(W, requires_grad=True)
    log = []
    w.register_hook(lambda g: g * 10)  # runs first: .grad holds the changed gradient
    w.register_post_accumulate_grad_hook(lambda p: log.append(p.grad.clone()))
    (w * 3).sum().backward()
    (w * w).sum().backward()  # the second sees the sum of both
    return [log, w.grad]


def test_hook_sees_the_accumulated_grad(torch):
    assert_same(script_order(glassgrad), script_order(torch))


def script_fused_step(torch, fused):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.tensor(np.linspace(-1, 1, p.numel(), dtype=np.float32).reshape(p.shape) * (i + 1)))
    x = torch.tensor(np.linspace(-2, 2, 15, dtype=np.float32).reshape(5, 3))
    if fused:
        opts = {p: torch.optim.Adam([p], lr=0.1, foreach=False) for p in model.parameters()}

        def hook(p):
            opts[p].step()
            opts[p].zero_grad()

        for p in model.parameters():
            p.register_post_accumulate_grad_hook(hook)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=0.1)
    losses = []
    for _ in range(3):
        loss = (model(x) ** 2).sum()
        loss.backward()
        if not fused:
            opt.step()
            opt.zero_grad()
        losses.append(loss.detach())
    return [losses, [p.detach() for p in model.parameters()], [p.grad for p in model.parameters()]]


def test_optimizer_step_in_backward_matches_pytorch_and_the_plain_loop(torch):
    ours = script_fused_step(glassgrad, fused=True)
    assert_same(ours, script_fused_step(torch, fused=True))
    assert_same(ours, script_fused_step(glassgrad, fused=False))


def test_hooked_gradients_are_freed_during_backward():
    # eight equal layers: with the step fused into backward, the gradients are not all alive at once
    def peak(fused: bool) -> int:
        glassgrad.manual_seed(0)
        model = glassgrad.nn.Sequential(*[glassgrad.nn.Linear(128, 128, bias=False) for _ in range(8)])
        params = list(model.parameters())
        if fused:
            opts = {p: glassgrad.optim.SGD([p], lr=0.01) for p in params}

            def hook(p):
                opts[p].step()
                opts[p].zero_grad()

            for p in params:
                p.register_post_accumulate_grad_hook(hook)
        else:
            opt = glassgrad.optim.SGD(params, lr=0.01)
        x = glassgrad.randn(4, 128)
        loss = model(x).square().sum()
        tracemalloc.start()
        loss.backward()
        if not fused:
            opt.step()
            opt.zero_grad()
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    weight_bytes = 128 * 128 * 4
    assert peak(fused=True) < peak(fused=False) - 4 * weight_bytes


def test_hook_runs_before_the_rest_of_backward():
    # the first layer's weight is ready only at the end; the last layer's long before
    lin1, lin2 = glassgrad.nn.Linear(2, 2), glassgrad.nn.Linear(2, 2)
    order = []
    observer = lambda node, g, gi: order.append(node.name())  # noqa: E731
    lin2.weight.register_post_accumulate_grad_hook(lambda p: order.append("lin2.weight"))
    glassgrad.autograd.observers.backward.append(observer)
    try:
        lin2(lin1(glassgrad.ones(1, 2)).tanh()).sum().backward()
    finally:
        glassgrad.autograd.observers.backward.remove(observer)
    assert order.index("lin2.weight") < order.index("TanhBackward0")


def script_not_for_autograd_grad(torch):
    w = torch.tensor(W, requires_grad=True)
    calls = []
    handle = w.register_post_accumulate_grad_hook(lambda p: calls.append(1))
    (g,) = torch.autograd.grad((w * w).sum(), w)
    (w * 2).sum().backward()
    handle.remove()
    (w * 2).sum().backward()
    return [len(calls), g, w.grad]


def test_autograd_grad_and_removed_hooks_do_not_run(torch):
    assert_same(script_not_for_autograd_grad(glassgrad), script_not_for_autograd_grad(torch))


def test_errors(torch):
    w = glassgrad.tensor(W, requires_grad=True)
    with pytest.raises(GraphError, match="leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(GraphError, match="requires grad"):
        glassgrad.tensor(W).register_post_accumulate_grad_hook(lambda p: None)
    w.register_post_accumulate_grad_hook(lambda p: 5)
    with pytest.raises(TypeError, match="None"):
        w.sum().backward()
    tw = torch.tensor(W, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (tw * 2).register_post_accumulate_grad_hook(lambda p: None)
    tw.register_post_accumulate_grad_hook(lambda p: 5)
    with pytest.raises(TypeError):
        tw.sum().backward()


def test_registry_entry_dies_with_its_leaf():
    w = glassgrad.tensor(W, requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda p: None)
    key = id(w)
    assert key in accumulate_hooks.registered
    del w
    gc.collect()
    assert key not in accumulate_hooks.registered
