"""``autograd.graph.register_multi_grad_hook``: one hook over several tensors' gradients, called
as PyTorch's (once per pass; "all" after every gradient the pass computes, None for the others;
"any" with the first), through backward, backward(inputs=...) and autograd.grad."""

from __future__ import annotations

import pytest

import glassgrad as gg
from glassgrad.autograd.graph import register_multi_grad_hook


def _program(M, reg):
    log = []

    def shown(gs):
        return ["-" if g is None else g.tolist() for g in gs]

    a = M.tensor([1.0, 2.0], requires_grad=True)
    b = M.tensor([3.0], requires_grad=True)
    c = M.tensor([5.0], requires_grad=True)
    h = reg((a, b, c), lambda gs: log.append(shown(gs)))
    (a * 2).sum().backward()  # b and c not reached: None for them
    (a * b).sum().backward()
    (a * b).sum().backward(inputs=[a])  # b not wanted by the pass
    w = a * 3
    u = w * b
    h2 = reg((w, u), lambda gs: log.append(("w", shown(gs))))
    (u.sum() + (a * b).sum()).backward(retain_graph=True)
    h.remove()
    M.autograd.grad(u.sum(), [w], retain_graph=True)
    M.autograd.grad(u.sum(), [a], retain_graph=True)
    M.autograd.grad((w * 2).sum(), [a], retain_graph=True)  # u not in this graph
    h2.remove()
    (a * b).sum().backward()  # removed: nothing logged
    first = []
    reg((a, b, c), lambda g: first.append(g.tolist()), mode="any")
    (a.sum() * b * c).sum().backward()
    (c * 2).sum().backward()
    return log, first


def test_calls_as_pytorch(torch):
    ours = _program(gg, register_multi_grad_hook)
    assert ours == _program(torch, torch.autograd.graph.register_multi_grad_hook)
    assert ours[0][0] == [
        [2.0, 2.0],
        "-",
        "-",
    ]  # (a check that does not need PyTorch's run to mean something)


def test_once_per_pass_also_inside_a_hook_that_runs_backward():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = gg.tensor([3.0, 4.0], requires_grad=True)
    calls = []
    register_multi_grad_hook((x, y), lambda gs: calls.append([g.tolist() for g in gs]))
    inner = gg.tensor([1.0], requires_grad=True)

    def nested(g):  # a backward pass of another graph inside this one's (hooks run without grad
        with gg.enable_grad():  # mode, as PyTorch's: recording the inner graph needs it back on)
            (inner * 2).sum().backward()

    y.register_hook(nested)
    (x * y).sum().backward()
    assert calls == [[[3.0, 4.0], [1.0, 2.0]]]


def test_mode_must_be_all_or_any():
    x = gg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="expected mode 'all' or 'any', got 'some'"):
        register_multi_grad_hook((x,), print, mode="some")


def test_reached_through_glassgrad_autograd_graph():
    assert gg.autograd.graph.register_multi_grad_hook is register_multi_grad_hook
