"""``Tensor.backward(inputs=...)``: only the given tensors (leaves or not) accumulate a gradient,
as PyTorch's; an unreached one keeps ``None``."""

from __future__ import annotations

import pytest

import glassgrad as gg


def _backward_into(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0], requires_grad=True)
    unused = lib.tensor([5.0], requires_grad=True)
    h = x * w
    y = (h * h).sum()
    y.backward(inputs=[x, h, unused], retain_graph=True)  # only these accumulate, h (not a leaf) too
    first = [x.grad.tolist(), w.grad, h.grad.tolist(), unused.grad]
    y.backward(inputs=w)
    return first + [x.grad.tolist(), w.grad.tolist()]


def test_backward_into_given_inputs_only_as_torch(torch):
    assert _backward_into(gg) == _backward_into(torch)
    y = (gg.ones(2, requires_grad=True) * 2).sum()
    with pytest.raises(RuntimeError, match="cannot be empty"):
        y.backward(inputs=[])
    with pytest.raises(RuntimeError, match="require grad"):
        y.backward(inputs=[gg.ones(2)])
