"""Porting round 43, group rlssl: tianshou (DQN, C51, QR-DQN, FQF, discrete SAC, PPO, A2C, DDPG,
NPG, TRPO updates) and lightly (its losses, projection heads, memory bank, SimCLR/BYOL/DINO steps)
run on glassgrad with only their imports changed.

- ``lightly.models.utils`` imports ``CrossMapLRN2d`` from ``torch.nn.modules`` (to list the
  normalization layers that get no weight decay); glassgrad had no ``CrossMapLRN2d``, so
  ``import lightly.models`` (and with it every lightly model and head) failed. It is PyTorch's
  legacy autograd Function, forward and backward copied step by step (see
  ``glassgrad/nn/cross_map_lrn.py``), including its window, which never drops channel 0.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck


def _lrn(lib, x, size, grad=None, **kw):
    t = lib.tensor(x, requires_grad=True)
    y = lib.nn.CrossMapLRN2d(size, **kw)(t)
    y.backward(lib.tensor(grad if grad is not None else np.ones_like(x)))
    return y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-14), ("float32", 1e-6)])
@pytest.mark.parametrize("size, channels", [(2, 1), (2, 7), (3, 4), (4, 2), (5, 3), (5, 9), (8, 3)])
def test_cross_map_lrn2d_matches_pytorch(torch, dtype, tol, size, channels):
    rng = np.random.default_rng(size * 10 + channels)
    x = rng.standard_normal((2, channels, 3, 2)).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    kw = dict(alpha=0.7, beta=0.6, k=1.3)
    out_t, grad_t = _lrn(torch, x, size, g, **kw)
    out_g, grad_g = _lrn(gg, x, size, g, **kw)
    assert out_g.dtype == out_t.dtype and grad_g.dtype == grad_t.dtype
    np.testing.assert_allclose(out_g, out_t, rtol=tol, atol=tol)
    np.testing.assert_allclose(grad_g, grad_t, rtol=tol, atol=tol)


def test_cross_map_lrn2d_window_by_hand():
    # size 3: pre_pad = 2; channel sums q0+q1, q0+q1+q2, q0+q1+q2+q3, then q0+q2+q3 (PyTorch's
    # running window removes q1 at channel 3 but never q0)
    x = np.array([1.0, 2.0, -1.0, 0.5]).reshape(1, 4, 1, 1)
    q = x.ravel() ** 2
    sums = np.array([q[0] + q[1], q[0] + q[1] + q[2], q.sum(), q[0] + q[2] + q[3]])
    alpha, beta, k = 0.3, 0.75, 2.0
    want = x.ravel() * (k + alpha / 3 * sums) ** -beta
    out = gg.nn.CrossMapLRN2d(3, alpha=alpha, beta=beta, k=k)(gg.tensor(x))
    np.testing.assert_allclose(out.numpy().ravel(), want, rtol=1e-15)


def test_cross_map_lrn2d_one_channel_gradient_by_hand():
    # one channel: out = x (k + a/n x^2)^-b, d out/dx = s^-b - 2ab/n x^2 s^(-b-1)
    x = np.array([0.5, -1.5, 2.0]).reshape(1, 1, 3, 1)
    a, b, k, n = 0.4, 0.75, 1.0, 5
    s = k + a / n * x**2
    t = gg.tensor(x, requires_grad=True)
    gg.nn.CrossMapLRN2d(n, alpha=a, beta=b, k=k)(t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), s**-b - 2 * a * b / n * x**2 * s ** (-b - 1), rtol=1e-14)


@pytest.mark.parametrize("seed", range(4))
def test_cross_map_lrn2d_gradcheck(seed):
    # PyTorch's backward is the derivative of its forward where the window fits the channels
    # (one channel for any size, up to size // 2 channels for even sizes): gradcheck there
    rng = np.random.default_rng(seed)
    n, h, w = (int(v) for v in rng.integers(1, 4, size=3))
    size = int(rng.integers(2, 7))
    channels = 1 if size < 6 else 3
    x = gg.tensor(rng.standard_normal((n, channels, h, w)), requires_grad=True)
    m = gg.nn.CrossMapLRN2d(size, alpha=0.5, beta=0.75, k=1.0)
    assert gradcheck(m, (x,))


def test_cross_map_lrn2d_import_paths_repr_and_errors(torch):
    from glassgrad.nn.modules import CrossMapLRN2d
    from glassgrad.nn.modules.normalization import CrossMapLRN2d as FromFile

    assert CrossMapLRN2d is FromFile is gg.nn.CrossMapLRN2d
    assert repr(gg.nn.CrossMapLRN2d(5)) == repr(torch.nn.CrossMapLRN2d(5))
    assert repr(gg.nn.CrossMapLRN2d(3, 0.1, 0.5, 2.0)) == repr(torch.nn.CrossMapLRN2d(3, 0.1, 0.5, 2.0))
    assert list(gg.nn.CrossMapLRN2d(5).state_dict()) == []
    with pytest.raises(ValueError, match="CrossMapLRN2d: Expected input to be 4D, got 3D instead"):
        gg.nn.CrossMapLRN2d(3)(gg.ones(2, 3, 4))
    with pytest.raises(ValueError, match="Expected input to be 4D, got 3D instead"):
        torch.nn.CrossMapLRN2d(3)(torch.ones(2, 3, 4))
    # size 1: the forward runs (the values are PyTorch's), the backward fails as PyTorch's does
    x = np.linspace(-1, 1, 12).reshape(1, 3, 2, 2)
    t = torch.tensor(x, requires_grad=True)
    g = gg.tensor(x, requires_grad=True)
    yt, yg = torch.nn.CrossMapLRN2d(1)(t), gg.nn.CrossMapLRN2d(1)(g)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-15)
    with pytest.raises(RuntimeError):
        yt.sum().backward()
    with pytest.raises(RuntimeError, match="CrossMapLRN2d backward: size=1"):
        yg.sum().backward()
