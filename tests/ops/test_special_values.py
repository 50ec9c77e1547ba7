"""Ops that give inf or nan on purpose (as PyTorch does) give PyTorch's values and gradients without
a NumPy RuntimeWarning pointing inside glassgrad."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

X = np.array([0.0, -0.0, -1.0, 1000.0, 1.0, np.inf, -np.inf, np.nan], dtype=np.float32)

OPS = ["log", "log1p", "sqrt", "rsqrt", "exp"]


@pytest.mark.parametrize("name", OPS)
def test_special_values_match_pytorch_without_a_warning(torch, name):
    a, t = gg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any NumPy RuntimeWarning fails the test
        out = getattr(gg, name)(a)
        out.backward(gg.ones_like(out))
    ref = getattr(torch, name)(t)
    ref.backward(torch.ones_like(ref))
    # inf and nan in the same places; finite values to float32 rounding (exp differs by an ulp)
    np.testing.assert_allclose(out._data, ref.detach().numpy(), rtol=1e-6, atol=0)
    np.testing.assert_allclose(a.grad._data, t.grad.numpy(), rtol=1e-6, atol=0)


def test_warnings_elsewhere_are_left_alone():
    # quietly() only silences inside the op: the caller's own NumPy error state still applies.
    with np.errstate(divide="raise"):
        gg.log(gg.tensor([0.0]))  # ours: no error
        with pytest.raises(FloatingPointError):
            np.log(np.float32(0.0))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        np.log(np.zeros(1))
    assert any(issubclass(w.category, RuntimeWarning) for w in seen)
