"""Reductions over infinities give PyTorch's nan silently: no NumPy RuntimeWarning from inside
glassgrad (sum, mean, cumsum, prod, forward and backward; the special functions' backward)."""

from __future__ import annotations

import warnings

import numpy as np

import glassgrad as gg

VALUES = [np.inf, -np.inf, 0.0, 2.0]


def test_reductions_of_infinities_match_pytorch_without_warnings(torch):
    for name, call in [
        ("sum", lambda m, x: x.sum()),
        ("mean", lambda m, x: x.mean()),
        ("cumsum", lambda m, x: x.cumsum(0).sum()),
        ("prod", lambda m, x: x.prod()),
        ("dim sum", lambda m, x: x.reshape(2, 2).sum(1).sum()),
    ]:
        a = gg.tensor(VALUES, requires_grad=True)
        t = torch.tensor(VALUES, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = call(gg, a)
            y.backward()
        ref = call(torch, t)
        ref.backward()
        np.testing.assert_array_equal(y.detach().numpy(), ref.detach().numpy(), err_msg=name)
        np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy(), err_msg=name)


def test_special_function_backward_through_a_zero_gradient_is_silent(torch):
    x = np.array([0.0, -1.0, 2.5])  # lgamma's slope (digamma) is nan/inf at the poles
    a, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gg.lgamma(a)[2].backward()
    torch.lgamma(t)[2].backward()
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


def test_float16_sums_past_its_range_are_inf_silently(torch):
    """float16 sums in float32 and rounds back: past 65504 that is inf, as PyTorch, without NumPy's
    overflow warning from the cast."""
    for call in [
        lambda m, x: x.sum(),
        lambda m, x: x.sum(0, keepdim=True),
        lambda m, x: x.cumsum(0),
        lambda m, x: x.mean(),
        lambda m, x: x.prod(),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = call(gg, gg.tensor([60000.0, 60000.0], dtype=gg.float16))
        ref = call(torch, torch.tensor([60000.0, 60000.0], dtype=torch.float16))
        assert y.dtype == gg.float16
        np.testing.assert_array_equal(y.numpy(), ref.numpy())


def test_division_by_zero_powers_and_their_gradients_are_quiet(torch):
    data = np.array([1.0, 0.0, -1.0])
    results = []
    for lib in (gg, torch):
        x = lib.tensor(data, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = [x / 0, 1 / x, x / lib.zeros(3), x**0.5, x**-1.0, 2 / x]
            sum(o.sum() for o in out[1:2] + out[3:4]).backward()
        results.append([o.detach().numpy() for o in out] + [x.grad.numpy()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_array_equal(ours, theirs)  # inf and nan where PyTorch has them
