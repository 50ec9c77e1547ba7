"""Exact GELU's float32 kernel (the tanh form of Phi in ops/special.py) and the piecewise runner
it uses (ops/blocks.py): accuracy against the exact normal CDF, saturation, pieces against whole
arrays bit for bit, layouts, float16, and PyTorch parity on arrays large enough to be cut."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.ops.blocks as blocks_mod
from glassgrad.ops import activation as A
from glassgrad.ops.blocks import BLOCK, Blocks
from glassgrad.ops.special import erf_array, gelu_exact, gelu_exact_grad


def _phi(x: np.ndarray) -> np.ndarray:
    return np.array([0.5 * math.erfc(-float(v) / math.sqrt(2.0)) for v in x])


def test_float32_phi_within_1e7_of_the_exact_normal_cdf():
    x = np.concatenate(
        [np.linspace(-12, 12, 240001), np.geomspace(1e-30, 1, 500), -np.geomspace(1e-30, 1, 500)]
    )
    x = x.astype(np.float32)
    y, cdf = gelu_exact(x)
    assert y.dtype == cdf.dtype == np.float32
    np.testing.assert_allclose(cdf, _phi(x), rtol=0, atol=1.2e-7)
    assert np.array_equal(y, x * cdf)  # y is x times the saved cdf, one rounding
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(cdf[order]) >= 0)  # monotone, as the exact CDF
    assert cdf.min() >= 0 and cdf.max() <= 1


def test_float32_gelu_within_its_bound_and_near_pytorch_float32(torch):
    # The bound is the kernel's own (Phi within 1.2e-7, one rounding of x Phi). On an AVX-512 host
    # ours was also the closer to exact of the two (NumPy's float32 tanh is more accurate there);
    # on an AVX2 one (AMD EPYC) ours is 1.13 ulps off at worst (x = 4.4) where PyTorch's is 0.73,
    # and in the left tail both are about 1.5e-7 off (x = -3.44: 1.3e-7 ours, 1.8e-7 PyTorch's).
    # So the two results are compared with each other: within the bound twice over, except where
    # PyTorch's is the further from exact (an AVX-512 AMD EPYC host's PyTorch is 7e-7 to 1e-6 off
    # at x = -3.5 to -2.9, ours under 1.7e-7).
    x = np.linspace(-10, 10, 20001).astype(np.float32)
    exact = np.array([float(v) * 0.5 * math.erfc(-float(v) / math.sqrt(2.0)) for v in x])
    ours = gelu_exact(x)[0]
    theirs = torch.nn.functional.gelu(torch.tensor(x)).numpy()
    ulp = np.spacing(np.abs(ours))
    assert np.all(np.abs(ours - exact) <= 1.2e-7 * np.abs(x) + ulp)
    near = np.abs(ours - theirs) <= 2.4e-7 * np.abs(x) + 2 * ulp
    assert np.all(near | (np.abs(ours - exact) <= np.abs(theirs - exact)))


def test_float32_saturates_exactly_in_the_tails():
    x = np.array([-1e30, -1e4, -100.0, -6.0, 6.0, 100.0, 1e4, 1e30], np.float32)
    y, cdf = gelu_exact(x)
    np.testing.assert_array_equal(cdf, [0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(y, np.where(x < 0, 0, x))
    assert np.all(np.signbit(y[:4]))  # -0, as x * 0 for negative x in PyTorch
    nan = gelu_exact(np.array([np.nan, np.inf], np.float32))[0]
    assert np.isnan(nan[0]) and nan[1] == np.inf


@pytest.mark.parametrize("size", [BLOCK + 1, 3 * BLOCK + 17, 2 * BLOCK])
def test_pieces_give_the_whole_array_result_bit_for_bit(monkeypatch, size):
    rng = np.random.default_rng(size)
    x = (rng.standard_normal(size) * 4).astype(np.float32)
    g = rng.standard_normal(size).astype(np.float32)
    y, cdf = gelu_exact(x)
    d = gelu_exact_grad(x, cdf, g)
    e = erf_array(x)
    monkeypatch.setattr(blocks_mod, "BLOCK", 10**9)  # one piece: the arrays whole
    y1, cdf1 = gelu_exact(x)
    assert np.array_equal(y, y1) and np.array_equal(cdf, cdf1)
    assert np.array_equal(d, gelu_exact_grad(x, cdf1, g))
    assert np.array_equal(e, erf_array(x))


def test_other_layouts_run_whole_and_keep_their_strides():
    x = (np.random.default_rng(0).standard_normal((300, 200)) * 3).astype(np.float32)
    y, cdf = gelu_exact(x.T)  # 60,000 elements, F-ordered: one piece
    assert y.flags.f_contiguous and cdf.flags.f_contiguous
    yc, cdfc = gelu_exact(np.ascontiguousarray(x.T))
    np.testing.assert_array_equal(y, yc)
    g = np.ones_like(x)[:, ::2]  # strided upstream gradient
    d = gelu_exact_grad(x[:, ::2], cdf.T[:, ::2], g)
    np.testing.assert_array_equal(
        d, gelu_exact_grad(np.ascontiguousarray(x[:, ::2]), cdfc.T[:, ::2].copy(), g.copy())
    )


def test_zero_d_and_empty():
    y, cdf = gelu_exact(np.array(1.5, np.float32))
    assert y.shape == () and abs(float(cdf) - _phi(np.array([1.5]))[0]) < 1.2e-7
    y, cdf = gelu_exact(np.zeros((0, 3), np.float32))
    assert y.shape == (0, 3)


def test_float16_is_float32_rounded():
    x = np.linspace(-8, 8, 5001).astype(np.float16)
    y, cdf = gelu_exact(x)
    assert y.dtype == cdf.dtype == np.float16
    y32, cdf32 = gelu_exact(x.astype(np.float32))
    np.testing.assert_array_equal(y, y32.astype(np.float16))
    np.testing.assert_array_equal(cdf, cdf32.astype(np.float16))
    t = gg.tensor(x, requires_grad=True)
    A.gelu(t).sum().backward()
    assert t.grad.dtype == gg.float16


def test_blocks_cover_every_element_once():
    a = np.arange(2 * BLOCK + 5, dtype=np.float32)
    b = np.empty_like(a)
    pieces = Blocks(a, b)
    assert pieces.cut
    for pa, pb in pieces:
        pb[...] = pa + 1
    np.testing.assert_array_equal(b, a + 1)
    work = pieces.work(2)
    assert [w.shape for w in work] == [(BLOCK,), (BLOCK,)]
    assert Blocks.fit(work[0], a[:5]).shape == (5,)
    assert not Blocks(a, a[::-1]).cut  # a reversed view is not C-contiguous: whole
    assert not Blocks(a[:10], b[:10]).cut  # small: whole


def test_large_float32_gelu_matches_pytorch(torch):
    """Arrays above one piece, through the tensor op, forward and backward.

    PyTorch's own vectorised float32 GELU is up to 1.07e-6 from the exact x Phi(x) (measured on
    a grid of [-10, 10], near x = +-3.5), where ours is within float32 rounding of y (the test
    above checks Phi to 1.2e-7); so the two agree to 1.5e-6, not to the 1e-6 used elsewhere.
    (The tanh approximation is not piecewise; PyTorch's vectorised kernel for it also differs
    from its own scalar one on large arrays, rounding GELU(-5.07) to -0.)"""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((8, 64, 130)) * 3).astype(np.float32)  # 66,560 elements: three pieces
    up = rng.standard_normal(x.shape).astype(np.float32)
    a, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = A.gelu(a), torch.nn.functional.gelu(t)
    np.testing.assert_allclose(out._data, ref.detach().numpy(), rtol=1e-5, atol=1.5e-6)
    out.backward(gg.tensor(up))
    ref.backward(torch.tensor(up))
    np.testing.assert_allclose(a.grad._data, t.grad.numpy(), rtol=1e-5, atol=1e-6)
