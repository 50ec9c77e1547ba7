"""tanh's gradient where tanh saturates: 1 - z^2 cancels as |z| -> 1, which PyTorch's fused kernel
avoids (port round 15: the uvadlc optimization notebook's gradient at w = 5 was 5e-5 off)."""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.autograd import gradcheck


def test_tanh_grad_at_saturation_is_as_accurate_as_torchs(torch):
    x = np.linspace(-9, 9, 20001, dtype=np.float32)
    xt = torch.tensor(x, requires_grad=True)
    torch.tanh(xt).sum().backward()
    xg = gg.tensor(x, requires_grad=True)
    yg = gg.tanh(xg)
    yg.sum().backward()
    errors = []
    for z, grad in (
        (yg.detach().numpy(), xg.grad.numpy()),
        (torch.tanh(torch.tensor(x)).numpy(), xt.grad.numpy()),
    ):
        wide = z.astype(np.float64)
        exact = 1 - wide * wide  # the derivative at each library's own float32 output
        errors.append(np.abs(grad - exact) / np.spacing(exact.astype(np.float32)))
    ours, theirs = errors
    assert ours.max() <= 1.5 and theirs.max() <= 1.5, (ours.max(), theirs.max())


def test_tanh_grad_float32_near_one_is_accurate():
    xg = gg.tensor([5.0, -5.0, 7.5], requires_grad=True)
    y = gg.tanh(xg)
    y.sum().backward()
    z = y.detach().numpy().astype(np.float64)
    exact = 1 - z * z  # the derivative at the float32 output, exact in float64
    rel = np.abs(xg.grad.numpy() / exact - 1)
    assert rel.max() < 1e-6, rel  # 1 - z*z rounded in float32 is 4.5e-5 off at 5.0


def test_tanh_grad_float64_near_one(torch):
    x = np.array([5.0, -12.0, 0.3, 18.0])
    xt = torch.tensor(x, requires_grad=True)
    torch.tanh(xt).sum().backward()
    xg = gg.tensor(x, requires_grad=True)
    gg.tanh(xg).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=0)
    assert gradcheck(gg.tanh, (gg.tensor([0.1, 2.0, -3.0], dtype=gg.float64, requires_grad=True),))


def test_tanh_grad_float16_keeps_dtype():
    xg = gg.tensor([0.5, 3.0], dtype=gg.float16, requires_grad=True)
    gg.tanh(xg).sum().backward()
    assert xg.grad.dtype == gg.float16


def test_tanh_float32_forward_within_float32_rounding(torch):
    """NumPy's float32 tanh is within 1.4 ulp, PyTorch's within 0.56: both are float32 libm
    accuracy (the uvadlc notebook's chaotic lr=10 SGD on tanh(w)^2 parts from PyTorch's path after
    about 24 steps, as PyTorch's float32 and float64 paths part from each other)."""
    x = (np.random.RandomState(1).randn(100000) * 3).astype(np.float32)
    exact = np.tanh(x.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    for ours in (gg.tanh(gg.tensor(x)).numpy(), torch.tanh(torch.tensor(x)).numpy()):
        assert ours.dtype == np.float32
        assert (np.abs(ours - exact) / ulp).max() <= 1.5
