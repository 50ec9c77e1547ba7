"""Round 48 (lucidrains vision blocks and small GANs): circular padding with negative sizes, and the
patterns lambda-networks, halonet, bottleneck-transformer, g-mlp, deformable-attention,
global-self-attention-network, lightweight-gan and enformer lean on, against PyTorch 2.13 in
float64.

The programs themselves ran unchanged; the padding fix came from a sweep of the ops they use.
PyTorch's circular padding crops by a negative size first and wraps within what is left
(``F.pad([0, 1, 2, 3, 4], (1, -1), mode="circular")`` is ``[3, 0, 1, 2, 3]``); glassgrad refused
every negative size. A pad longer than what the crop leaves is still refused: PyTorch's result
there reads uninitialised memory."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as ggnn
import glassgrad.nn.functional as ggF
from glassgrad.autograd import gradcheck
from glassgrad.errors import ShapeError


def _libs(torch):
    return (torch, torch.nn.functional), (gg, ggF)


def _run_both(torch, fn, *arrays):
    """fn(lib, F, *tensors) in both libraries; returns (outputs, input gradients) of each, the
    output weighted by one fixed random array before backward."""
    got = []
    for lib, F in _libs(torch):
        ts = [lib.tensor(a).requires_grad_(a.dtype.kind == "f") for a in arrays]
        out = fn(lib, F, *ts)
        w = np.random.default_rng(5).standard_normal(tuple(out.shape))
        (out * lib.tensor(w)).sum().backward()
        grads = [np.asarray(t.grad.detach()) if t.grad is not None else None for t in ts]
        got.append((np.asarray(out.detach()), grads))
    return got


def _assert_same(torch, fn, *arrays, tol=1e-12):
    (want, want_g), (have, have_g) = _run_both(torch, fn, *arrays)
    np.testing.assert_allclose(have, want, rtol=tol, atol=tol)
    for a, b in zip(have_g, want_g):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# ---------------------------------------------------------------- circular padding, negative sizes
def test_circular_negative_sizes_crop_then_wrap_by_hand():
    x = gg.arange(5.0).reshape(1, 1, 5)
    assert ggF.pad(x, (1, -1), mode="circular").tolist() == [[[3.0, 0.0, 1.0, 2.0, 3.0]]]
    assert ggF.pad(x, (-2, 1), mode="circular").tolist() == [[[2.0, 3.0, 4.0, 2.0]]]
    assert ggF.pad(x, (2, -3), mode="circular").tolist() == [[[0.0, 1.0, 0.0, 1.0]]]
    assert ggF.pad(x, (-1, -1), mode="circular").tolist() == [[[1.0, 2.0, 3.0]]]
    assert ggF.pad(x, (-2, -3), mode="circular").shape == (1, 1, 0)


def _defined(n, lo, hi):
    kept = n - max(-lo, 0) - max(-hi, 0)
    return kept >= 0 and max(lo, hi) <= min(n, kept)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_circular_negative_sizes_match_pytorch_1d(torch, n):
    rng = np.random.default_rng(n)
    for lo, hi in itertools.product(range(-n - 1, n + 2), repeat=2):
        x = rng.standard_normal((2, 3, n))
        if not _defined(n, lo, hi):
            with pytest.raises(ShapeError, match="wraps around more than once"):
                ggF.pad(gg.tensor(x), (lo, hi), mode="circular")
            continue
        _assert_same(torch, lambda lib, F, t: F.pad(t, (lo, hi), mode="circular"), x)


@pytest.mark.parametrize(
    ("shape", "pad"),
    [
        ((2, 3, 5, 6), (0, 0, 1, -1)),
        ((2, 3, 5, 6), (2, -1, -2, 1)),
        ((2, 3, 5, 6), (-3, 3, 0, 0)),
        ((3, 5, 6), (-1, 2, 1, -3)),
        ((1, 2, 4, 5, 6), (1, -2, -1, 2, 2, -1)),
    ],
)
def test_circular_negative_sizes_match_pytorch_nd(torch, shape, pad):
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    _assert_same(torch, lambda lib, F, t: F.pad(t, pad, mode="circular"), x)


def test_circular_pad_modules_with_negative_sizes(torch):
    rng = np.random.default_rng(1)
    for name, pad, shape in [
        ("CircularPad1d", (2, -1), (2, 3, 4)),
        ("CircularPad2d", (1, -1, -1, 2), (1, 2, 3, 4)),
        ("CircularPad3d", (1, -1, -1, 2, 0, -1), (1, 2, 3, 4, 5)),
    ]:
        x = rng.standard_normal(shape)
        want = getattr(torch.nn, name)(pad)(torch.tensor(x)).numpy()
        np.testing.assert_array_equal(getattr(ggnn, name)(pad)(gg.tensor(x)).numpy(), want)


def test_circular_pad_wrapping_more_than_what_is_left_is_refused():
    x = gg.zeros(1, 2, 5)
    for pad in [(6, 0), (0, 6), (-5, 1), (3, -3), (-4, 2)]:
        with pytest.raises(ShapeError, match=r"pad: circular padding .* dim 2 of shape \(1, 2, 5\)"):
            ggF.pad(x, pad, mode="circular")
    with pytest.raises(ShapeError, match="at most the 2 positions left"):
        ggF.pad(x, (3, -3), mode="circular")


def test_circular_negative_sizes_gradcheck():
    rng = np.random.default_rng(48)
    for _ in range(6):
        shape = tuple(int(s) for s in rng.integers(2, 6, 3))
        pad = []
        for n in reversed(shape[1:]):
            crop = int(rng.integers(0, n))  # crop one side, then pad the other within what is left
            wrap = int(rng.integers(0, n - crop + 1))
            pad += [-crop, wrap] if rng.random() < 0.5 else [wrap, -crop]
        x = gg.tensor(rng.standard_normal(shape), requires_grad=True)
        assert gradcheck(lambda t, p=tuple(pad): ggF.pad(t, p, mode="circular"), (x,))


# ---------------------------------------------------------------- the programs' patterns
def _rel_to_abs(lib, x):  # halonet / bottleneck-transformer: relative logits to absolute ones
    b, h, n, m = x.shape
    x = lib.cat((x, lib.zeros((b, h, n, 1), dtype=x.dtype)), dim=3).reshape(b, h, n * (m + 1))
    x = lib.cat((x, lib.zeros((b, h, n - 1), dtype=x.dtype)), dim=2).reshape(b, h, n + 1, m)
    return x[:, :, :n, (n - 1) :]


def test_halo_attention_pattern(torch):
    rng = np.random.default_rng(2)
    x, rel = rng.standard_normal((2, 4, 4, 6)), rng.standard_normal((2, 2, 9, 9 * 2 - 1))

    def fn(lib, F, x, rel):
        kv = F.unfold(x, kernel_size=4, stride=2, padding=1)  # blocks of 2 with a halo of 1
        kv = kv.reshape(2, 4, 16, 6).permute(0, 3, 2, 1)  # (b, blocks, window, c)
        q = x.unfold(2, 2, 2).unfold(3, 2, 2).permute(0, 2, 3, 4, 5, 1).reshape(2, 6, 4, 4)
        sim = lib.einsum("b n i d, b n j d -> b n i j", q, kv)[:, :2, :, :9].clone()
        sim += _rel_to_abs(lib, rel)[..., :4, :]
        mask = F.unfold(lib.ones(1, 1, 4, 6, dtype=x.dtype), kernel_size=4, stride=2, padding=1)[0, :9, :2]
        sim.masked_fill_(mask.t()[None, :, None, :] == 0, -lib.finfo(sim.dtype).max)
        return sim.softmax(dim=-1)

    _assert_same(torch, fn, x, rel)


def test_deformable_offsets_through_grid_sample(torch):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((2, 4, 3, 3)) * 0.3

    def fn(lib, F, x, w):
        offsets = F.conv2d(x, w, stride=2, padding=1).tanh() * 2  # (b, 2, 3, 3) in pixels
        h, wd = offsets.shape[-2:]
        gy, gx = lib.meshgrid(lib.arange(h, dtype=x.dtype), lib.arange(wd, dtype=x.dtype), indexing="ij")
        grid = lib.stack((gx, gy)) + offsets
        grid = lib.stack((2 * grid[:, 0] / (wd - 1) - 1, 2 * grid[:, 1] / (h - 1) - 1), dim=-1)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    _assert_same(torch, fn, x, w)


def test_lambda_local_context_conv3d_and_gmlp_shift(torch):
    rng = np.random.default_rng(4)
    v, w, b = (
        rng.standard_normal((2, 2, 3, 5, 4)),
        rng.standard_normal((4, 2, 1, 3, 3)),
        rng.standard_normal(4),
    )
    q = rng.standard_normal((2, 2, 4, 20))

    def lam(lib, F, v, w, b, q):
        lp = F.conv3d(v, w, b, padding=(0, 1, 1))  # (b, k, v, hh, ww)
        return lib.einsum("b h k n, b k v n -> b h v n", q, lp.flatten(3))

    _assert_same(torch, lam, v, w, b, q)

    x = rng.standard_normal((2, 6, 8))

    def shift(lib, F, x):  # token shift by a negative pad, as gMLP's PreShiftTokens
        a, c = x.split(4, dim=-1)
        return lib.cat((F.pad(a, (0, 0, 1, -1)), F.pad(c, (0, 0, -1, 1))), dim=-1)

    _assert_same(torch, shift, x)


def test_gradient_penalty_through_discriminator_ops(torch):
    rng = np.random.default_rng(5)
    img, w1, w2 = (
        rng.standard_normal((2, 3, 8, 8)),
        rng.standard_normal((4, 3, 3, 3)),
        rng.standard_normal((1, 4, 2, 2)),
    )
    got = []
    for lib, F in _libs(torch):
        x = lib.tensor(img, requires_grad=True)
        a, b = lib.tensor(w1, requires_grad=True), lib.tensor(w2, requires_grad=True)
        h = F.leaky_relu(F.conv2d(F.interpolate(x, size=(16, 16)), a, padding=1), 0.1)
        h = F.pixel_unshuffle(F.avg_pool2d(h, 2), 2)[:, :4]
        out = F.conv2d(h, b)
        (g,) = lib.autograd.grad(out, x, lib.ones_like(out), create_graph=True)
        gp = 10 * (g.reshape(2, -1).norm(2, dim=1) ** 2).mean()
        (gp + out.mean()).backward()
        got.append([np.asarray(t.detach()) for t in (gp, x.grad, a.grad, b.grad)])
    for have, want in zip(got[1], got[0]):
        np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-12)


def test_enformer_relative_shift_and_attention_pool(torch):
    rng = np.random.default_rng(6)
    x, logits_w = rng.standard_normal((2, 2, 5, 9)), rng.standard_normal((2, 3, 7))

    def rel_shift(lib, F, x):
        x = lib.cat((lib.zeros_like(x[..., :1]), x), dim=-1)
        _, h, t1, t2 = x.shape
        x = x.reshape(-1, h, t2, t1)[:, :, 1:, :].reshape(-1, h, t1, t2 - 1)
        return x[..., : (t2 + 1) // 2]

    _assert_same(torch, rel_shift, x)

    def pool(lib, F, x):  # an odd length: padded, the pad masked out of the softmax
        x = F.pad(x, (0, 1))
        mask = F.pad(lib.zeros((2, 1, 7), dtype=lib.bool), (0, 1), value=True)
        x, mask = x.reshape(2, 3, 4, 2), mask.reshape(2, 1, 4, 2)
        attn = (x * 2).masked_fill(mask, -lib.finfo(x.dtype).max).softmax(dim=-1)
        return (x * attn).sum(dim=-1)

    _assert_same(torch, pool, logits_w)
