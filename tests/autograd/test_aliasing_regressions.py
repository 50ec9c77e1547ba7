"""Paths where a gradient once came out silently wrong through aliasing, now correct or raising."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.errors import GraphError


def test_an_index_tensor_changed_after_gather_does_not_move_the_gradient():
    x = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i = gg.tensor([0])
    y = gg.gather(x, 0, i)
    i[0] = 2  # after the op: backward must still route to position 0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 0.0])


def test_an_index_tensor_changed_after_indexing_does_not_move_the_gradient():
    x = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i = gg.tensor([0, 0])
    y = x[i]
    i[1] = 2
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 0.0])


def test_a_hook_returned_tensor_is_not_the_leaf_grad():
    keep = gg.tensor([5.0, 6.0])
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: keep)
    (x * 3).sum().backward()
    x.grad.zero_()  # what zero_grad() does in place
    np.testing.assert_array_equal(keep.numpy(), [5.0, 6.0])


@pytest.mark.parametrize("inplace", ["exp_", "sigmoid_", "tanh_"])
def test_an_output_saved_by_a_recorded_inplace_op_then_changed_raises(inplace):
    x = gg.tensor([0.5, -1.0], requires_grad=True)
    y = x * 1
    getattr(y, inplace)()  # the op saves its output, which y now holds
    with gg.no_grad():
        y.mul_(2)
    with pytest.raises(GraphError, match="modified in place"):
        y.sum().backward()


def test_multihead_attention_refuses_a_mask_that_requires_grad():
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    q = gg.randn(1, 3, 4)
    mask = gg.zeros(3, 3, requires_grad=True)
    with pytest.raises(ValueError, match="masks that do not require grad"):
        mha(q, q, q, attn_mask=mask)
    with gg.no_grad():
        mha(q, q, q, attn_mask=mask)  # nothing is recorded: the mask is only a constant then
