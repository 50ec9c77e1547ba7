"""Slice bounds given as 0-d tensors are read when the key is used, as PyTorch reads them.

The key is kept for backward; a bound that is changed in place afterwards (``begin += batch``)
must not move the slice the gradient goes to or comes from."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def test_getitem_gradient_keeps_the_slice_read_at_forward():
    x = gg.arange(6.0, requires_grad=True)
    begin = gg.tensor(1)
    y = x[begin : begin + 2]
    begin += 3  # now 4: the recorded slice must still be 1:3
    (y * gg.tensor([10.0, 20.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 10, 20, 0, 0, 0])


def test_setitem_gradient_keeps_the_slice_written_at_forward():
    v = gg.tensor([1.0, 2.0], requires_grad=True)
    out = gg.zeros(6)
    stop = gg.tensor(4)
    out[stop - 2 : stop] = v
    stop -= 4  # now 0: an empty slice if read again at backward
    (out * gg.arange(6.0)).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [2, 3])
    np.testing.assert_array_equal(out.detach().numpy(), [0, 0, 1, 2, 0, 0])


def test_tensor_step_and_numpy_bounds():
    x = gg.arange(8.0)
    np.testing.assert_array_equal(x[np.int64(1) : gg.tensor(7) : gg.tensor(2)].numpy(), [1, 3, 5])


@pytest.mark.parametrize("bound", [gg.tensor(1.5), gg.tensor([1, 2])])
def test_non_integer_tensor_bound_is_a_type_error(bound, torch):
    with pytest.raises(TypeError):
        torch.arange(6.0)[torch.tensor(bound.numpy()) : 4]
    with pytest.raises(TypeError, match="integer tensor"):
        gg.arange(6.0)[bound:4]
