"""Round 26 (rosinality/stylegan2-pytorch): the ADA augment (non_leaking.py) builds its colour
matrices with ``torch.ger(axis, axis)``, PyTorch's older name for ``outer`` (still in 2.13, with
no warning); glassgrad had neither ``ger`` nor the ``Tensor.outer``/``Tensor.ger`` methods."""

import numpy as np
import pytest

import glassgrad as gg

FORMS = {
    "function_ger": lambda m, a, b: m.ger(a, b),
    "function_ger_keywords": lambda m, a, b: m.ger(input=a, vec2=b),
    "method_ger": lambda m, a, b: a.ger(b),
    "method_outer": lambda m, a, b: a.outer(b),
    "method_outer_keyword": lambda m, a, b: a.outer(vec2=b),
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_ger_and_outer_method_as_torch(torch, name):
    x, y = np.array([0.5, -2.0], np.float32), np.array([1.0, 3.0, -1.5], np.float32)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(y)
    ga, gb = gg.tensor(x, requires_grad=True), gg.tensor(y)
    want, got = FORMS[name](torch, ta, tb), FORMS[name](gg, ga, gb)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__
    want.pow(2).sum().backward()
    got.pow(2).sum().backward()
    np.testing.assert_allclose(ga.grad.numpy(), ta.grad.numpy(), rtol=1e-6)


def test_ger_refuses_matrices_naming_the_op():
    with pytest.raises(Exception, match="outer"):
        gg.ger(gg.ones(2, 2), gg.ones(2))
