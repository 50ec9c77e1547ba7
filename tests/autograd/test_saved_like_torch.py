"""An op saves what PyTorch's saves, so that an in-place change of something it never needed does
not make backward raise where PyTorch computes: ``linear`` and ``matmul`` keep each operand only
for the other's gradient."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError


def _second_backward_after_a_step(lib, x_requires_grad):
    lin = lib.nn.Linear(3, 2).double()
    with lib.no_grad():
        lin.weight.copy_(lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], dtype=lib.float64))
        lin.bias.zero_()
    x = lib.tensor(np.arange(12.0).reshape(4, 3) / 5, requires_grad=x_requires_grad)
    opt = lib.optim.SGD(lin.parameters(), lr=0.1)
    y = (lin(x) ** 2).sum()
    y.backward(retain_graph=True)
    opt.step()  # changes the weight in place
    y.backward()  # a constant input: the weight was not saved, so nothing is stale
    return lin.weight.grad.tolist()


def test_linear_of_a_constant_does_not_save_the_weight(torch):
    np.testing.assert_allclose(
        _second_backward_after_a_step(gg, False), _second_backward_after_a_step(torch, False)
    )


def test_linear_of_an_input_that_requires_grad_saves_the_weight(torch):
    with pytest.raises(GraphError, match="modified in place"):
        _second_backward_after_a_step(gg, True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _second_backward_after_a_step(torch, True)


def _matmul_after_a_step(lib, shapes):
    rng = np.random.default_rng(3)
    w = lib.nn.Parameter(lib.tensor(rng.normal(size=shapes[1])))
    x = lib.tensor(rng.normal(size=shapes[0]))  # a constant: w is not saved
    opt = lib.optim.SGD([w], lr=0.1)
    y = (lib.matmul(x, w) ** 2).sum()
    y.backward(retain_graph=True)
    opt.step()
    y.backward()
    return w.grad.tolist()


@pytest.mark.parametrize("shapes", [((4, 3), (3, 2)), ((3,), (3,)), ((2, 4, 3), (3,)), ((3,), (2, 3, 4))])
def test_matmul_of_a_constant_does_not_save_the_other_operand(torch, shapes):
    np.testing.assert_allclose(_matmul_after_a_step(gg, shapes), _matmul_after_a_step(torch, shapes))
