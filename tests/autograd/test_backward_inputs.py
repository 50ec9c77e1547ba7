"""``Tensor.backward(inputs=...)`` and ``autograd.backward`` (several outputs in one pass), as
PyTorch's: given ``inputs``, only they accumulate a gradient (leaves or not; an unreached one keeps
``None``)."""

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


def _several_outputs(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, -1.0], requires_grad=True)
    a, b = (x * w).sum(), x * x
    seed = lib.tensor([0.5, 2.0])
    lib.autograd.backward([a, b], [None, seed], retain_graph=True)  # one pass, summed
    first = [x.grad.tolist(), w.grad.tolist()]
    x.grad.zero_()
    lib.autograd.backward(b, seed, inputs=[x])
    seed.mul_(3.0)  # the seed is copied: x.grad does not follow it
    return first + [x.grad.tolist(), w.grad.tolist()]


def test_autograd_backward_of_several_outputs_as_torch(torch):
    assert _several_outputs(gg) == _several_outputs(torch)
    with pytest.raises(gg.errors.GraphError, match="element 0 of tensors does not require grad"):
        gg.autograd.backward([gg.ones(1)])
