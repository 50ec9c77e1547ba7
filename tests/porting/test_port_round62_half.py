"""Round 62, float16 accuracy against PyTorch's CPU kernels and float64 ground truth.

PyTorch's CPU float16 kernels read float16 into float32, compute there and round once; its
reductions accumulate in float32. Glassgrad computed several float16 paths step by step in
float16: loss reductions overflowed (the mean squared error of 20,000 differences of about 30 was
inf), average pooling summed windows in float16 (inf for large pixels), interpolation and adaptive
pooling weighed pixels with float16 weights and rounded after each axis (up to 30 ulps off),
attention rounded its scores to float16 before the softmax (scores of 1e3 are 0.5 apart there,
and large ones inf, so NaN), ``logcumsumexp``'s backward scanned in float16, and ``add``/``sub``
with ``alpha`` rounded ``alpha * other`` before the sum. Written fresh here as a battery of small
patterns; each compares with PyTorch in float16 and, where PyTorch's own float16 answer is not
the accurate one, with float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG_SEED = 62


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| in float16 units in the last place (monotone over signs; nan against nan is 0)."""
    ia, ib = (np.asarray(v, np.float16).ravel().view(np.int16).astype(np.int64) for v in (a, b))
    ia, ib = (np.where(i < 0, -32768 - i, i) for i in (ia, ib))
    return np.abs(ia - ib)


def _weights(shape: tuple) -> np.ndarray:
    return np.random.default_rng(1).uniform(0.5, 1.5, shape).astype(np.float16)


def _run(lib, fn, *arrays, dtype=np.float16):
    """fn's output and the gradients of sum(output * fixed weights) for each input, as float64."""
    ts = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    y = fn(lib, lib.nn.functional, *ts)
    (y * lib.tensor(_weights(tuple(y.shape)).astype(dtype))).sum().backward()
    assert y.dtype == getattr(lib, np.dtype(dtype).name)
    return [y.detach().numpy().astype(np.float64)] + [t.grad.numpy().astype(np.float64) for t in ts]


def _compare(torch, fn, *arrays, max_ulps=0, max_mismatched=0.0):
    """glassgrad's float16 output and gradients against PyTorch's: at most ``max_ulps`` apart and
    at most a fraction ``max_mismatched`` of the elements different."""
    for want, got in zip(_run(torch, fn, *arrays), _run(gg, fn, *arrays)):
        assert np.isfinite(got).all() == np.isfinite(want).all()
        d = _ulps(got, want)
        assert d.max() <= max_ulps
        assert (d > 0).mean() <= max_mismatched


_rng = np.random.default_rng(RNG_SEED)
MIXED = (_rng.standard_normal((100, 200)) * 10).astype(np.float16)  # differences of ~30, squares ~1e3
LARGE = (_rng.uniform(1e3, 6e4, (10, 20, 100)) * _rng.choice([-1, 1], (10, 20, 100))).astype(np.float16)


# ---- loss reductions: float32 accumulation ------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss_float16_reduces_in_float32_as_torch(torch, reduction):
    # the sum of 20,000 squares of ~30 passes 65504: a float16 running sum was inf
    scale = 1.0 if reduction == "mean" else 8.0

    def fn(lib, F, a, b):
        return F.mse_loss(a / scale, b / scale, reduction=reduction)

    _compare(torch, fn, MIXED, MIXED[::-1].copy())


def test_bce_with_logits_float16_mean_of_large_logits_as_torch(torch):
    x = LARGE.reshape(100, 200)
    y = np.full((100, 200), 0.25, np.float16)
    want = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(x), torch.tensor(y))
    got = gg.nn.functional.binary_cross_entropy_with_logits(gg.tensor(x), gg.tensor(y))
    assert np.isfinite(want.item())
    assert got.dtype == gg.float16
    assert got.item() == want.item()  # was inf


# ---- average pooling: windows summed in float32 -------------------------------------------------


@pytest.mark.parametrize("data", ["large", "mixed"])
@pytest.mark.parametrize(
    "pool",
    [
        ("avg_pool1d", lambda F, a: F.avg_pool1d(a, 3)),
        ("avg_pool2d", lambda F, a: F.avg_pool2d(a.reshape(10, 20, 10, 10), 3, 2, 1)),
        ("avg_pool2d_ceil", lambda F, a: F.avg_pool2d(a.reshape(10, 20, 10, 10), 4, 3, 1, ceil_mode=True)),
    ],
    ids=lambda p: p[0],
)
def test_avg_pool_float16_bit_for_bit_with_torch(torch, pool, data):
    x = LARGE if data == "large" else MIXED.reshape(10, 20, 100)
    _compare(torch, lambda lib, F, a: pool[1](F, a), x)  # large: was inf; mixed: up to 3868 ulps


@pytest.mark.parametrize("size", [3, 7], ids=["size3", "size7"])
def test_adaptive_avg_pool_float16_within_rounding_of_torch(torch, size):
    # float16 weights of 1/3 ... and a rounding per axis were up to 512 ulps off (128 for large);
    # left: PyTorch's 2-D backward rounds each window's share to float16 before adding the
    # overlaps (twice glassgrad's error against float64), so a fifth of those gradients differ by 1
    for x in (LARGE, MIXED.reshape(10, 20, 100)):
        _compare(
            torch,
            lambda lib, F, a: F.adaptive_avg_pool2d(a.reshape(10, 20, 10, 10), size),
            x,
            max_ulps=2,
            max_mismatched=0.2,
        )
        _compare(torch, lambda lib, F, a: F.adaptive_avg_pool1d(a, size), x, max_ulps=1, max_mismatched=0.02)


# ---- interpolate: weighed in float32, rounded once ----------------------------------------------


@pytest.mark.parametrize(
    "mode,align_corners,size",
    [("bilinear", False, (17, 13)), ("bilinear", True, (17, 13)), ("area", None, (3, 4))],
    ids=["bilinear", "bilinear_corners", "area"],
)
def test_interpolate_float16_within_rounding_of_torch(torch, mode, align_corners, size):
    # float16 weights and a rounding after each axis were up to 35,000 ulps off for large pixels
    for x in (LARGE, MIXED.reshape(10, 20, 100)):
        _compare(
            torch,
            lambda lib, F, a: F.interpolate(
                a.reshape(10, 20, 10, 10), size=size, mode=mode, align_corners=align_corners
            ),
            x,
            max_ulps=2,
            max_mismatched=0.1,
        )


@pytest.mark.parametrize("mode", ["bicubic", "linear"])
def test_interpolate_float16_as_accurate_as_float32_rounded(torch, mode):
    # PyTorch's float16 bicubic and 1-D linear kernels are themselves ~1e-1 off here (relative to
    # the largest value); glassgrad's answer is float32's rounded once: within float16 rounding of
    # float64's (bicubic was 4x PyTorch's error)
    shape, size = ((10, 20, 10, 10), (17, 13)) if mode == "bicubic" else ((10, 20, 100), (37,))

    def fn(lib, F, a):
        return F.interpolate(a.reshape(shape), size=size, mode=mode, align_corners=False)

    x = MIXED.reshape(10, 20, 100)
    for g, t in zip(_run(gg, fn, x), _run(torch, fn, x, dtype=np.float64)):
        # |error| <= one float16 rounding of the value, plus one of the largest (cancellation)
        assert (np.abs(g - t) <= 2**-11 * (np.abs(t) + 2**-4 * np.abs(t).max())).all()


# ---- scaled_dot_product_attention: float32 scores -----------------------------------------------


def _qkv(scale: float = 1.0) -> tuple:
    q = (np.random.default_rng(RNG_SEED).standard_normal((2, 2, 64, 32)) * 4).astype(np.float16)
    return (q * np.float16(scale), q[:, :, ::-1].copy() * np.float16(scale), q * np.float16(0.5))


@pytest.mark.parametrize("is_causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("scale", [1.0, 100.0], ids=["scores1e2", "scores1e6"])
def test_sdpa_float16_as_accurate_as_torch(torch, is_causal, scale):
    # scores of 1e6 were inf in float16 (NaN outputs); of 1e2, rounded before the softmax
    def fn(lib, F, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)

    arrays = _qkv(scale)
    want, got = _run(torch, fn, *arrays), _run(gg, fn, *arrays)
    truth = _run(torch, fn, *arrays, dtype=np.float64)
    if not is_causal:  # PyTorch's math kernel in float32, rounded once: the same output
        np.testing.assert_array_equal(got[0], want[0])
    for w, g, t in zip(want, got, truth):
        assert np.isfinite(g).all()
        top = max(np.abs(t).max(), 1.0)  # (saturated weights: the query and key gradients are 0)
        # no worse than PyTorch's float16 (whose query and key gradients are far off unmasked)
        assert np.abs(g - t).max() / top <= max(np.abs(w - t).max() / top, 2e-3)


def test_sdpa_float16_with_float16_mask_bit_for_bit(torch):
    mask = np.random.default_rng(3).standard_normal((64, 64)).astype(np.float16)

    def fn(lib, F, q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)

    _compare(torch, fn, *_qkv(), mask)


def test_sdpa_float16_refuses_float64_mask_as_before(torch):
    q = gg.zeros(1, 4, 8, dtype=gg.float16)
    with pytest.raises(gg.errors.DTypeError, match="attn_mask"):
        gg.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=gg.zeros(4, 4, dtype=gg.float64))


# ---- logcumsumexp backward: the reverse scan carried in float32 ---------------------------------


@pytest.mark.parametrize("dim", [0, 1])
def test_logcumsumexp_float16_backward_bit_for_bit(torch, dim):
    # the reverse scan ran in float16: 923 ulps and 20x PyTorch's error on mixed values
    _compare(torch, lambda lib, F, a: lib.logcumsumexp(a, dim), MIXED)


# ---- add / sub with alpha: one rounding ---------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.3, -1e-3, 7.7])
@pytest.mark.parametrize(
    "form",
    [
        ("add", lambda lib, a, b, al: lib.add(a, b, alpha=al)),
        ("sub", lambda lib, a, b, al: lib.sub(a, b, alpha=al)),
        ("method_add", lambda lib, a, b, al: a.add(b, alpha=al)),
        ("method_sub_broadcast", lambda lib, a, b, al: a.sub(b[0], alpha=al)),
    ],
    ids=lambda f: f[0],
)
def test_add_alpha_float16_rounds_once_as_torch(torch, form, alpha):
    # 64 x 128 elements: whole vector lanes (PyTorch's scalar tail rounds twice); a fifth of the
    # results were one ulp off, more where the sum cancels
    rng = np.random.default_rng(5)
    a, b = (rng.standard_normal((64, 128)).astype(np.float16) for _ in range(2))
    _compare(torch, lambda lib, F, x, y: form[1](lib, x, y, alpha), a, b)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ga, gb = gg.tensor(a, requires_grad=True), gg.tensor(b, requires_grad=True)
    assert form[1](gg, ga, gb, alpha).grad_fn.name() == form[1](torch, ta, tb, alpha).grad_fn.name()


def test_add_alpha_float16_in_place_step_as_torch(torch):
    # an optimizer-style p.add_(g, alpha=-lr) under no_grad
    rng = np.random.default_rng(6)
    p, g = rng.standard_normal(4096).astype(np.float16), (rng.standard_normal(4096) * 1e-2).astype(np.float16)
    tp, gp = torch.tensor(p), gg.tensor(p)
    with torch.no_grad():
        tp.add_(torch.tensor(g), alpha=-0.01)
    with gg.no_grad():
        gp.add_(gg.tensor(g), alpha=-0.01)
    np.testing.assert_array_equal(gp.numpy(), tp.numpy())


@pytest.mark.parametrize("op", ["add", "sub"])
def test_add_alpha_float16_past_range_refused_as_torch(torch, op):
    # alpha is read as a float16: past 65504 PyTorch's checked conversion refuses it (was inf)
    for lib in (torch, gg):
        a = lib.ones(4, dtype=lib.float16)
        with pytest.raises(RuntimeError, match="cannot be converted to type .*Half|float16 without overflow"):
            getattr(lib, op)(a, a, alpha=1e5)
    # inf itself converts: the result is inf, as PyTorch's
    a, t = gg.ones(4, dtype=gg.float16), torch.ones(4, dtype=torch.float16)
    np.testing.assert_array_equal(gg.add(a, a, alpha=np.inf).numpy(), torch.add(t, t, alpha=np.inf).numpy())


# ---- SGD on float16 parameters: PyTorch's single-tensor step ------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.01},
        {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4},
        {"lr": 0.03, "momentum": 0.9, "dampening": 0.1, "weight_decay": 3e-3, "maximize": True},
    ],
    ids=["plain", "nesterov_decay", "dampened_maximize"],
)
def test_sgd_float16_steps_bit_for_bit_with_torch(torch, kw):
    # NumPy's float16 theta -= lr * g rounded twice: up to 10 ulps off after three small steps
    rng = np.random.default_rng(7)
    p0 = rng.standard_normal(4096).astype(np.float16)
    grads = [(rng.standard_normal(4096) * s).astype(np.float16) for s in (1e-3, 1.0, 1e-4, 0.1)]
    results = []
    for lib in (torch, gg):
        p = lib.tensor(p0, requires_grad=True)
        opt = lib.optim.SGD([p], **kw)
        for g in grads:
            p.grad = lib.tensor(g)
            opt.step()
        buf = opt.state_dict()["state"].get(0, {}).get("momentum_buffer")
        results.append((p.detach().numpy(), None if buf is None else buf.numpy()))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    if results[0][1] is not None:
        assert results[1][1].dtype == np.float16
        np.testing.assert_array_equal(results[1][1], results[0][1])
    else:
        assert results[1][1] is None
