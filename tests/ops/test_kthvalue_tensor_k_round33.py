"""``kthvalue``'s ``k`` as a one-element integer tensor, as PyTorch's int parser takes it.

Captum's KernelShap calls ``torch.kthvalue(rand_vals, num_features - num_selected)`` where
``num_selected`` is a 0-d int64 tensor drawn from a ``Categorical``; glassgrad refused the tensor.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


@pytest.mark.parametrize("k", [lambda m: m.tensor(3), lambda m: m.tensor([[2]]), lambda m: 5 - m.tensor(1)])
def test_kthvalue_takes_one_element_integer_tensor_k_as_torch(torch, k):
    data = np.array([[0.3, -1.0, 2.5, 0.1, 0.7], [1.0, 0.0, -0.5, 4.0, 2.0]])
    ours = gg.kthvalue(gg.tensor(data, requires_grad=True), k(gg), 1)
    ref = torch.kthvalue(torch.tensor(data, requires_grad=True), k(torch), 1)
    np.testing.assert_array_equal(ours.values.detach().numpy(), ref.values.detach().numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), ref.indices.numpy())
    method = gg.tensor(data).kthvalue(k(gg))
    np.testing.assert_array_equal(method.values.numpy(), torch.tensor(data).kthvalue(k(torch)).values.numpy())


@pytest.mark.parametrize("k", [lambda m: m.tensor([2, 3]), lambda m: m.tensor(2.0)])
def test_kthvalue_still_refuses_other_tensor_k(torch, k):
    with pytest.raises(TypeError, match="kthvalue"):
        gg.kthvalue(gg.arange(6.0), k(gg))
    with pytest.raises(TypeError):
        torch.kthvalue(torch.arange(6.0), k(torch))
