"""Activation modules against PyTorch: outputs, input gradients and reprs."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn

RNG = np.random.default_rng(1)

# Inputs kept away from the kinks (0 for ReLU-likes, the clip bounds of Hardtanh/ReLU6), where the
# one-sided derivatives differ and PyTorch's convention is tested in the functional tests.
X = (RNG.uniform(0.05, 4.0, (3, 5, 4)) * RNG.choice([-1.0, 1.0], (3, 5, 4))).astype(np.float32)
X[0, 0, :] = [-30.0, 30.0, 12.0, -12.0]  # large magnitudes: saturation and Softplus' threshold


CASES = [
    (lambda lib: lib.Sigmoid(), "Sigmoid()"),
    (lambda lib: lib.Tanh(), "Tanh()"),
    (lambda lib: lib.ReLU(), "ReLU()"),
    (lambda lib: lib.ReLU(inplace=True), "ReLU(inplace=True)"),
    (lambda lib: lib.ReLU6(), "ReLU6()"),
    (lambda lib: lib.Hardtanh(-2.0, 2.5), "Hardtanh(min_val=-2.0, max_val=2.5)"),
    (lambda lib: lib.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
    (lambda lib: lib.LeakyReLU(0.2, inplace=True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
    (lambda lib: lib.GELU(), "GELU(approximate='none')"),
    (lambda lib: lib.GELU(approximate="tanh"), "GELU(approximate='tanh')"),
    (lambda lib: lib.ELU(), "ELU(alpha=1.0)"),
    (lambda lib: lib.ELU(alpha=0.5), "ELU(alpha=0.5)"),
    (lambda lib: lib.SiLU(), "SiLU()"),
    (lambda lib: lib.Softplus(), "Softplus(beta=1.0, threshold=20.0)"),
    (lambda lib: lib.Softplus(beta=2.0, threshold=5.0), "Softplus(beta=2.0, threshold=5.0)"),
    (lambda lib: lib.Softmax(dim=-1), "Softmax(dim=-1)"),
    (lambda lib: lib.Softmax(dim=1), "Softmax(dim=1)"),
    (lambda lib: lib.LogSoftmax(dim=0), "LogSoftmax(dim=0)"),
    (lambda lib: lib.LogSoftmax(dim=-1), "LogSoftmax(dim=-1)"),
]


@pytest.mark.parametrize(("build", "expected_repr"), CASES, ids=[c[1] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_module_parity(torch, build, expected_repr, dtype):
    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs) == expected_repr
    x = X.astype(dtype)
    gx = gg.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    out, tout = ours(gx.clone()), theirs(tx.clone())  # clone: inplace=True may not touch a leaf
    tol = {"atol": 1e-6, "rtol": 1e-5} if dtype == np.float32 else {"atol": 1e-12, "rtol": 1e-10}
    assert out.dtype.name == str(tout.dtype).split(".")[1]
    np.testing.assert_allclose(out._data, tout.detach().numpy(), **tol)
    upstream = RNG.standard_normal(x.shape).astype(dtype)
    out.backward(gg.tensor(upstream))
    tout.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(gx.grad._data, tx.grad.numpy(), **tol)
    assert list(ours.state_dict()) == []


def test_activation_in_a_sequential_with_empty_and_size_one_dims():
    model = nn.Sequential(nn.ReLU(), nn.Softmax(dim=-1))
    assert model(gg.zeros(0, 3)).shape == (0, 3)
    assert model(gg.zeros(2, 1)).tolist() == [[1.0], [1.0]]


def test_softmax_without_dim_warns_and_chooses_as_pytorch_and_gelu_checks_its_mode(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    for ours, theirs in ((nn.Softmax(), torch.nn.Softmax()), (nn.LogSoftmax(), torch.nn.LogSoftmax())):
        with pytest.warns(UserWarning, match="implicit dimension"):
            out = ours(gg.tensor(x))
        with pytest.warns(UserWarning):
            ref = theirs(torch.tensor(x))
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="Softmax: expected dim to be an int or None"):
        nn.Softmax(dim="last")
    with pytest.raises(ValueError, match="approximate 'none' or 'tanh'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="min_val <= max_val"):
        nn.Hardtanh(1.0, -1.0)


def test_step_module_is_the_heaviside_step_without_gradient():
    step = nn.Step()
    assert repr(step) == "Step()"
    x = gg.tensor([-2.0, -0.0, 0.0, 0.5, 3.0], requires_grad=True)
    y = step(x)
    assert y.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]  # 1 where x >= 0 (ops.activation.step)
    assert y.dtype == gg.float32 and not y.requires_grad
