"""F activations: PyTorch parity (values and gradients, float32 and float64), including the
non-differentiable points (relu'(0) = 0, hardtanh's bounds) and softmax at huge magnitudes."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from tests.nn.test_functional_parity import DTYPES, TOL, check

# kinks and bounds included: 0 (relu, relu6), +-1 (hardtanh), 6 (relu6), and both signs
X = np.array([[-7.0, -2.5, -1.0, -0.3, 0.0, 0.4], [1.0, 1.7, 3.2, 6.0, 8.5, -0.0]])

ACTIVATIONS = [
    ("relu", lambda f: lambda x: f.relu(x)),
    ("relu6", lambda f: lambda x: f.relu6(x)),
    ("hardtanh", lambda f: lambda x: f.hardtanh(x)),
    ("hardtanh(-2, 3.2)", lambda f: lambda x: f.hardtanh(x, -2.0, 3.2)),
    ("leaky_relu", lambda f: lambda x: f.leaky_relu(x)),
    ("leaky_relu(0.2)", lambda f: lambda x: f.leaky_relu(x, 0.2)),
    ("elu", lambda f: lambda x: f.elu(x)),
    ("elu(0.7)", lambda f: lambda x: f.elu(x, alpha=0.7)),
    ("gelu", lambda f: lambda x: f.gelu(x)),
    ("gelu(tanh)", lambda f: lambda x: f.gelu(x, approximate="tanh")),
    ("silu", lambda f: lambda x: f.silu(x)),
    ("sigmoid", lambda f: lambda x: f.sigmoid(x)),
    ("tanh", lambda f: lambda x: f.tanh(x)),
    ("softplus", lambda f: lambda x: f.softplus(x)),
    ("softplus(2, 5)", lambda f: lambda x: f.softplus(x, beta=2.0, threshold=5.0)),
    ("softmax(1)", lambda f: lambda x: f.softmax(x, 1)),
    ("softmax(0)", lambda f: lambda x: f.softmax(x, dim=0)),
    ("log_softmax(-1)", lambda f: lambda x: f.log_softmax(x, -1)),
    ("log_softmax(0)", lambda f: lambda x: f.log_softmax(x, dim=0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "make"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_parity(torch, dtype, name, make):
    TF = torch.nn.functional
    check(make(F), make(TF), X, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["relu", "relu6", "leaky_relu", "elu", "silu"])
def test_inplace_flag_writes_into_the_input_as_pytorch(torch, dtype, name):
    TF = torch.nn.functional
    x = gg.tensor(X.astype(dtype))
    out = getattr(F, name)(x, inplace=True)
    tx = torch.tensor(X.astype(dtype))
    ref = getattr(TF, name)(tx, inplace=True)
    assert out is x and ref is tx
    np.testing.assert_allclose(x._data, tx.numpy(), rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_is_stable_at_huge_magnitudes(torch, dtype, fn):
    TF = torch.nn.functional
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [3e4, 3e4 - 1.0, -3e4]])
    out = check(lambda a: getattr(F, fn)(a, 1), lambda a: getattr(TF, fn)(a, 1), x, dtype=dtype)
    assert np.isfinite(out._data).all()


def test_softmax_dtype_argument():
    x = gg.tensor([[1.0, 2.0]])
    assert F.softmax(x, 1, dtype=gg.float64).dtype == gg.float64
    assert F.log_softmax(x, -1).dtype == gg.float32


def test_step_is_the_perceptron_step_without_gradient():
    x = gg.tensor([-1.5, -0.0, 0.0, 2.0], requires_grad=True)
    out = F.step(x)
    np.testing.assert_array_equal(out._data, [0.0, 1.0, 1.0, 1.0])
    assert out.dtype == gg.float32 and not out.requires_grad


def test_activation_errors():
    x = gg.randn(2, 3)
    for f, dim in ((F.softmax, 1), (F.log_softmax, 1)):
        with pytest.warns(UserWarning, match="implicit dimension choice is deprecated"):
            implicit = f(x)  # PyTorch's legacy rule: dim 1 for a 2-d input
        np.testing.assert_allclose(implicit.numpy(), f(x, dim).numpy())
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(F.softmax(gg.ones(4)).numpy(), np.full(4, 0.25))  # 1-d: dim 0
    with pytest.raises(ValueError, match="gelu: expected approximate 'none' or 'tanh', got 'erf'"):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="hardtanh: expected min_val <= max_val"):
        F.hardtanh(x, 1.0, -1.0)
