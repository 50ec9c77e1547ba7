"""utils.swap_tensors and the autograd graph: a graph recorded before a swap must not put a
swapped leaf's gradient into the object that now holds the other contents (PyTorch refuses that
backward too), while graphs recorded after the swap, and swapping a tensor with itself, work."""

from __future__ import annotations

import pytest

import glassgrad as gg
from glassgrad.errors import GraphError


def test_backward_across_a_swap_is_refused(torch):
    a = gg.tensor([1.0, 2.0], requires_grad=True)
    b = gg.tensor([10.0, 20.0], requires_grad=True)
    y = (a * 3).sum()
    gg.utils.swap_tensors(a, b)
    with pytest.raises(GraphError, match="swap_tensors"):
        y.backward()
    assert a.grad is None and b.grad is None
    ta = torch.tensor([1.0, 2.0], requires_grad=True)
    tb = torch.tensor([10.0, 20.0], requires_grad=True)
    ty = (ta * 3).sum()
    torch.utils.swap_tensors(ta, tb)
    with pytest.raises(RuntimeError, match="swap_tensors"):
        ty.backward()  # the same refusal in PyTorch


def test_a_leaf_saved_for_backward_cannot_carry_its_gradient_across_a_swap():
    a = gg.tensor([1.0, 2.0], requires_grad=True)
    b = gg.tensor([10.0, 20.0], requires_grad=True)
    y = (a * a).sum()
    gg.utils.swap_tensors(a, b)
    with pytest.raises(GraphError, match="swap_tensors"):
        y.backward()


def test_graphs_recorded_after_the_swap_work(torch):
    def script(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([10.0, 20.0], requires_grad=True)
        loss = (a * 3).sum()
        loss.backward()  # kept alive: its graph still holds a
        lib.utils.swap_tensors(a, b)
        (a * a).sum().backward()
        return a.grad.tolist(), b.grad.tolist()

    assert script(gg) == script(torch)


def test_swapping_a_tensor_with_itself_keeps_its_graph():
    a = gg.tensor([1.0, 2.0], requires_grad=True)
    y = (a * 3).sum()
    gg.utils.swap_tensors(a, a)
    y.backward()
    assert a.grad.tolist() == [3.0, 3.0]
