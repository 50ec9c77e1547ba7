"""Round 61, audio programs (gemelo-ai/vocos, NVIDIA/BigVGAN, descriptinc/descript-audio-codec):
float32 window factories and float32 I0 as PyTorch computes them. BigVGAN builds its Kaiser-sinc
anti-aliasing filters with ``torch.kaiser_window`` in float32 (buffers later cast with the model)
and its mel spectrogram with a float32 ``torch.hann_window``; glassgrad's windows were several
ulps off PyTorch's (Kaiser: up to 17), which a float64 run carried into every output as 1e-8 to
1e-7. Written fresh here after those programs' patterns.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

RNG_SEED = 61


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| in units in the last place of a's float dtype (same-sign finite values)."""
    kind = {2: np.int16, 4: np.int32}[a.dtype.itemsize]
    return np.abs(a.view(kind).astype(np.int64) - b.view(kind).astype(np.int64))


# ---- kaiser_window: PyTorch's float kernel ------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("periodic", [True, False], ids=["periodic", "symmetric"])
def test_kaiser_window_below_float64_rounds_as_torch(torch, dtype, periodic):
    worst, mismatched, total = 0, 0, 0
    for n in (2, 3, 12, 24, 64, 129, 1000):
        for beta in (0.0, 0.5, 2.5, 4.66, 8.0, 12.0, 14.0):
            a = torch.kaiser_window(n, periodic, beta, dtype=getattr(torch, dtype)).numpy()
            b = gg.kaiser_window(n, periodic, beta, dtype=getattr(gg, dtype)).numpy()
            assert b.dtype == a.dtype
            d = _ulps(a, b)
            worst, mismatched, total = max(worst, int(d.max())), mismatched + int((d > 0).sum()), total + n
    # float64's I0 rounded to float32 was up to 17 ulps off on most points; left: rare ties of exp
    assert worst <= 2
    assert mismatched <= 0.005 * total


def test_bigvgan_kaiser_sinc_filters_as_torch(torch):
    # Activation1d's defaults (ratio 2, 12 taps): the windowed sinc bit for bit, normalised by its
    # sum within an ulp (sums round in NumPy's order); other ratios within an ulp (PyTorch's float32
    # sin misrounds about 1 % of inputs)
    np.testing.assert_array_equal(
        _kaiser_sinc(gg, 0.25, 0.3, 12, False), _kaiser_sinc(torch, 0.25, 0.3, 12, False)
    )
    for ratio, kernel in ((2, 12), (3, 12), (3, 18), (4, 24)):
        a = _kaiser_sinc(torch, 0.5 / ratio, 0.6 / ratio, kernel).numpy()
        b = _kaiser_sinc(gg, 0.5 / ratio, 0.6 / ratio, kernel).numpy()
        np.testing.assert_allclose(b, a, rtol=0, atol=2**-23 * np.abs(a).max())  # was 2e-6


def _kaiser_sinc(lib, cutoff, half_width, kernel_size, normalise=True, dtype=None):
    """BigVGAN's ``kaiser_sinc_filter1d`` (after julius' LowPassFilters): (1, 1, kernel_size);
    without ``normalise``, the windowed sinc before its division by its sum (a NumPy array)."""
    half_size = kernel_size // 2
    delta_f = 4 * half_width
    a = 2.285 * (half_size - 1) * math.pi * delta_f + 7.95
    beta = (
        0.1102 * (a - 8.7)
        if a > 50.0
        else 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21.0)
        if a >= 21.0
        else 0.0
    )
    window = lib.kaiser_window(kernel_size, beta=beta, periodic=False, dtype=dtype)
    if kernel_size % 2 == 0:
        time = lib.arange(-half_size, half_size, dtype=dtype) + 0.5
    else:
        time = lib.arange(kernel_size, dtype=dtype) - half_size
    filt = 2 * cutoff * window * lib.sinc(2 * cutoff * time)
    if not normalise:
        return filt.numpy()
    filt /= filt.sum()
    return filt.view(1, 1, kernel_size)


def _anti_aliased_snake(lib):
    """An AMP-block activation of BigVGAN: 2x up (transposed conv), SnakeBeta, 2x down (low-pass
    stride 2), in float64 with gradients."""
    rng = np.random.default_rng(RNG_SEED)
    up = _kaiser_sinc(lib, 0.25, 0.3, 12, dtype=lib.float64)
    down = _kaiser_sinc(lib, 0.25, 0.3, 12, dtype=lib.float64)
    x = lib.tensor(rng.standard_normal((2, 3, 20))).requires_grad_()
    log_alpha = lib.tensor(rng.standard_normal(3) * 0.3).requires_grad_()
    log_beta = lib.tensor(rng.standard_normal(3) * 0.3).requires_grad_()
    c = x.shape[1]
    h = lib.nn.functional.pad(x, (5, 5), mode="replicate")
    h = 2 * lib.nn.functional.conv_transpose1d(h, up.expand(c, -1, -1), stride=2, groups=c)[..., 15:-15]
    alpha, beta = log_alpha.exp()[None, :, None], log_beta.exp()[None, :, None]
    h = h + (1.0 / (beta + 1e-9)) * lib.sin(h * alpha).pow(2)
    h = lib.nn.functional.pad(h, (5, 6), mode="replicate")
    y = lib.nn.functional.conv1d(h, down.expand(c, -1, -1), stride=2, groups=c)
    (y * lib.tensor(rng.standard_normal(tuple(y.shape)))).sum().backward()
    return y, x.grad, log_alpha.grad, log_beta.grad


def test_bigvgan_anti_aliased_snakebeta_float64_as_torch(torch):
    for a, b in zip(_anti_aliased_snake(torch), _anti_aliased_snake(gg)):
        a, b = a.detach().numpy(), b.detach().numpy()
        assert b.shape == a.shape and b.dtype == a.dtype
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13 * np.abs(a).max())


# ---- torch.i0 below float64 -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_i0_below_float64_rounds_as_torch(torch, dtype):
    rng = np.random.default_rng(RNG_SEED)
    x = np.concatenate([rng.uniform(-90, 90, 4000), rng.uniform(-8, 8, 4000), [0.0, 8.0, -8.0, 1e-30]])
    x = x.astype(dtype)
    a = torch.i0(torch.tensor(x)).numpy()
    b = gg.i0(gg.tensor(x)).numpy()
    assert b.dtype == a.dtype
    finite = np.isfinite(a)
    np.testing.assert_array_equal(np.isfinite(b), finite)
    d = _ulps(a[finite], b[finite])
    assert d.max() <= 1
    assert (d > 0).sum() <= 0.005 * d.size  # float64 rounded: 60 % of float32 values, up to 4 ulps


def test_i0_overflow_and_nan_as_torch(torch):
    x = np.array([88.0, 89.0, -100.0, np.inf, -np.inf, np.nan], dtype=np.float32)
    a = torch.i0(torch.tensor(x)).numpy()
    b = gg.i0(gg.tensor(x)).numpy()
    np.testing.assert_array_equal(b, a)  # inf past e^x's overflow, NaN (inf / inf) at +-inf


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_sinc_below_float64_rounds_as_torch(torch, dtype):
    rng = np.random.default_rng(RNG_SEED)
    x = np.concatenate([rng.uniform(-20, 20, 20000), np.arange(-9, 9) / 6 + 1 / 12, [0.0, -0.0]]).astype(
        dtype
    )
    a = torch.sinc(torch.tensor(x)).numpy()
    b = gg.sinc(gg.tensor(x)).numpy()
    assert b.dtype == a.dtype
    np.testing.assert_allclose(b, a, rtol=2 * np.finfo(dtype).eps, atol=0)  # an ulp
    assert (a != b).sum() <= 0.02 * x.size  # NumPy's float32 sin: 14 % of these, float16 24 %


# ---- float32 cosine windows ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window"])
@pytest.mark.parametrize("n", [64, 400, 1024])
def test_cosine_windows_float32_differ_only_where_torch_cos_misrounds(torch, name, n):
    a = getattr(torch, name)(n).numpy()
    b = getattr(gg, name)(n).numpy()
    assert b.dtype == a.dtype == np.float32
    np.testing.assert_allclose(b, a, rtol=0, atol=2**-23)  # a 1-ulp cos, then two roundings
    # PyTorch's float32 cos of the window's (float32) angles, against cos rounded once: glassgrad
    # gives the latter, so a point may differ only where PyTorch's cos is itself off
    step = np.float32((2 if name != "blackman_window" else 1) * math.pi / n)  # periodic: m = n
    angles = np.arange(n, dtype=np.float32) * step
    if name == "blackman_window":
        angles = np.concatenate([angles * np.float32(2), angles * np.float32(4)])
    exact = np.cos(angles.astype(np.float64)).astype(np.float32)
    off = torch.cos(torch.tensor(angles)).numpy() != exact
    if name == "blackman_window":
        off = off[:n] | off[n:]
    assert not (a != b)[~off].any()
    assert (a != b).sum() < 0.05 * n  # NumPy's float32 cos: 10 % of a 1024-point hann window
