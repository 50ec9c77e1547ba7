"""The gradient of a broadcast float32 operand (a bias, a LayerNorm scale) is a sum over the
batch's rows; it must be as accurate as PyTorch's cascade sum. NumPy adds the rows of a leading
axis one by one, whose error grows with their number (8x PyTorch's at 2,304 x 256): training then
drifted several times further from float64 than PyTorch's float32 (The Annotated Transformer)."""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.autograd.shapes import unbroadcast


def _rows(shape, dtype=np.float32):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


def test_bias_gradient_over_many_rows_as_accurate_as_torch(torch):
    g = _rows((32, 72, 256))  # a batch of 32 sentences of 72 tokens, 256 features
    exact = g.astype(np.float64).sum((0, 1))
    b = gg.zeros(256, requires_grad=True)
    (gg.zeros(32, 72, 256) + b).backward(gg.tensor(g))
    tb = torch.zeros(256, requires_grad=True)
    (torch.zeros(32, 72, 256) + tb).backward(torch.tensor(g))
    ours = np.abs(b.grad.numpy().astype(np.float64) - exact).max()
    theirs = np.abs(tb.grad.numpy().astype(np.float64) - exact).max()
    assert b.grad.dtype == gg.float32
    assert ours <= theirs, (ours, theirs)


def test_unbroadcast_keeps_dtype_and_sums_kept_axes_accurately():
    g = _rows((3000, 1, 4))
    out = unbroadcast(np.broadcast_to(g, (3000, 5, 4)), (1, 1, 4))
    exact = 5 * g.astype(np.float64).sum(0, keepdims=True)
    assert out.dtype == np.float32 and out.shape == (1, 1, 4)
    # within one float32 rounding of the exact sum
    np.testing.assert_allclose(out, exact, rtol=2**-23, atol=0)
    half = unbroadcast(np.ones((5000, 2), np.float16), (2,))
    assert half.dtype == np.float16 and half.tolist() == [5000.0, 5000.0]
    f64 = unbroadcast(_rows((10, 3), np.float64), (3,))
    assert f64.dtype == np.float64
