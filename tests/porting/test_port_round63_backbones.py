"""Round 63, vision backbones (raoyongming/GFNet, Visual-Attention-Network/VAN-Classification,
facebookresearch/ConvNeXt-V2, microsoft/FocalNet, yitu-opensource/T2T-ViT, whai362/PVT): all six
ran unchanged and matched PyTorch (float64 outputs/gradients to ~1e-14, parameters after AdamW to
~1e-11). Pinned here, written fresh after their op mixes, at float64 rounding against PyTorch:
GFNet's global filter (``rfft2`` / complex product with a learned ``view_as_complex`` filter /
``irfft2(s=)`` under ``norm='ortho'``) and its fine-tune resizing of filters and position
embeddings (bicubic, both ``align_corners``); VAN's large-kernel attention (depthwise 5x5, dilated
depthwise 7x7, 1x1 gating); ConvNeXt-V2's GRN and channels-first LayerNorm and FCMAE's mask
upsampling (``repeat_interleave(axis=)``) and patchify (``reshape(shape=)``, einsum); FocalNet's
focal modulation (tuple ``split``, gated depthwise contexts, global mean); T2T-ViT's soft split
(``nn.Unfold``) and performer random features; PVTv2's linear SRA (``AdaptiveAvgPool2d(7)`` on maps
smaller, larger and not a multiple of 7).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

RNG_SEED = 63


def _both(torch, program, *arrays):
    """Runs ``program(lib, *tensors)`` (one output tensor) in PyTorch and glassgrad on float64
    leaves; returns [(output, grads...)] per library, gradients of a fixed random projection."""
    outs = []
    for lib in (torch, gg):
        leaves = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        y = program(lib, *leaves)
        w = np.random.default_rng(RNG_SEED + 1).standard_normal(tuple(y.shape))
        (y * lib.tensor(w)).sum().backward()
        outs.append([y.detach().numpy()] + [t.grad.numpy() for t in leaves])
    return outs


def _assert_same(outs, rtol=1e-10, atol=1e-12):
    ref, got = outs
    for a, b in zip(ref, got, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)


# ---- GFNet ------------------------------------------------------------------------------------


def _global_filter(lib, x, weight):
    B, N, C = x.shape
    a = b = int(math.sqrt(N))
    x = x.view(B, a, b, C)
    x = lib.fft.rfft2(x, dim=(1, 2), norm="ortho")
    x = x * lib.view_as_complex(weight)
    x = lib.fft.irfft2(x, s=(a, b), dim=(1, 2), norm="ortho")
    return x.reshape(B, N, C)


@pytest.mark.parametrize("side", [4, 5], ids=["even", "odd"])
def test_gfnet_global_filter_values_and_complex_weight_gradient(torch, side):
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((2, side * side, 3))
    w = rng.standard_normal((side, side // 2 + 1, 3, 2))
    _assert_same(_both(torch, _global_filter, x, w))


def test_gfnet_float32_spectrum_times_float64_filter_promotes_like_torch(torch):
    dtypes = []
    for lib in (torch, gg):
        spec = lib.fft.rfft2(lib.ones(2, 4, 4, 3, dtype=lib.float32), dim=(1, 2), norm="ortho")
        filt = lib.view_as_complex(lib.ones(4, 3, 3, 2, dtype=lib.float64))
        out = lib.fft.irfft2(spec * filt, s=(4, 4), dim=(1, 2), norm="ortho")
        dtypes.append((str(spec.dtype), str((spec * filt).dtype), str(out.dtype)))
    assert [d.split(".")[-1] for d in dtypes[1]] == [d.split(".")[-1] for d in dtypes[0]]


@pytest.mark.parametrize(("size", "align"), [((6, 6), False), ((7, 4), True)], ids=["pos-embed", "filter"])
def test_gfnet_finetune_bicubic_resize_matches_torch(torch, size, align):
    rng = np.random.default_rng(RNG_SEED)

    def program(lib, w):
        grid = w.reshape(1, 4, 3, 6).permute(0, 3, 1, 2)
        up = lib.nn.functional.interpolate(grid, size=size, mode="bicubic", align_corners=align)
        return up.permute(0, 2, 3, 1).flatten(1, 2)

    _assert_same(_both(torch, program, rng.standard_normal((4, 3, 3, 2))))


# ---- VAN --------------------------------------------------------------------------------------


def test_van_large_kernel_attention_matches_torch(torch):
    rng = np.random.default_rng(RNG_SEED)
    arrays = [
        rng.standard_normal((2, 4, 6, 5)),
        rng.standard_normal((4, 1, 5, 5)) * 0.2,
        rng.standard_normal((4, 1, 7, 7)) * 0.2,
        rng.standard_normal((4, 4, 1, 1)),
        rng.standard_normal(4),
    ]

    def program(lib, x, w0, ws, w1, b1):
        F = lib.nn.functional
        u = x.clone()
        attn = F.conv2d(x, w0, padding=2, groups=4)
        attn = F.conv2d(attn, ws, padding=9, dilation=3, groups=4)
        attn = F.conv2d(attn, w1, b1)
        return u * attn

    _assert_same(_both(torch, program, *arrays))


# ---- ConvNeXt-V2 ------------------------------------------------------------------------------


def test_convnextv2_grn_and_channels_first_layernorm_match_torch(torch):
    rng = np.random.default_rng(RNG_SEED)
    arrays = [
        rng.standard_normal((2, 5, 3, 4)),
        rng.standard_normal(5),
        rng.standard_normal(5),
        rng.standard_normal((1, 1, 1, 5)),
        rng.standard_normal((1, 1, 1, 5)),
    ]

    def program(lib, x, weight, bias, gamma, beta):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / lib.sqrt(s + 1e-6)
        x = weight[:, None, None] * x + bias[:, None, None]
        x = x.permute(0, 2, 3, 1)
        gx = lib.norm(x, p=2, dim=(1, 2), keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        return gamma * (x * nx) + beta + x

    _assert_same(_both(torch, program, *arrays))


def test_fcmae_mask_upsampling_and_patchify_match_torch(torch):
    rng = np.random.default_rng(RNG_SEED)
    mask = (rng.random((2, 4)) > 0.5).astype(np.float64)
    imgs = rng.standard_normal((2, 3, 8, 8))
    outs = []
    for lib in (torch, gg):
        m = lib.tensor(mask).reshape(-1, 2, 2).repeat_interleave(4, axis=1)
        m = m.repeat_interleave(4, axis=2)
        x = lib.tensor(imgs).reshape(shape=(2, 3, 2, 4, 2, 4))
        x = lib.einsum("nchpwq->nhwpqc", x).reshape(shape=(2, 4, 48))
        back = lib.einsum("nhwpqc->nchpwq", x.reshape(shape=(2, 2, 2, 4, 4, 3)))
        outs.append([m.numpy(), x.numpy(), back.reshape(shape=(2, 3, 8, 8)).numpy()])
    for a, b in zip(*outs, strict=True):
        np.testing.assert_array_equal(b, a)
    np.testing.assert_array_equal(outs[1][2], imgs)


# ---- FocalNet ---------------------------------------------------------------------------------


def test_focalnet_focal_modulation_matches_torch(torch):
    rng = np.random.default_rng(RNG_SEED)
    C, L = 4, 2
    arrays = [
        rng.standard_normal((2, 5, 5, C)),
        rng.standard_normal((2 * C + L + 1, C)) * 0.5,
        rng.standard_normal((C, 1, 3, 3)) * 0.3,
        rng.standard_normal((C, 1, 5, 5)) * 0.3,
        rng.standard_normal((C, C, 1, 1)),
    ]

    def program(lib, x, wf, k0, k1, wh):
        F = lib.nn.functional
        x = F.linear(x, wf).permute(0, 3, 1, 2).contiguous()
        q, ctx, gates = lib.split(x, (C, C, L + 1), 1)
        ctx_all = 0
        for lvl, k in enumerate((k0, k1)):
            ctx = F.gelu(F.conv2d(ctx, k, padding=k.shape[-1] // 2, groups=C))
            ctx_all = ctx_all + ctx * gates[:, lvl : lvl + 1]
        ctx_global = F.gelu(ctx.mean(2, keepdim=True).mean(3, keepdim=True))
        ctx_all = ctx_all + ctx_global * gates[:, L:]
        return (q * F.conv2d(ctx_all, wh)).permute(0, 2, 3, 1).contiguous()

    _assert_same(_both(torch, program, *arrays))


# ---- T2T-ViT ----------------------------------------------------------------------------------


def test_t2t_soft_split_and_performer_features_match_torch(torch):
    rng = np.random.default_rng(RNG_SEED)
    m, emb = 3, 6
    arrays = [rng.standard_normal((2, 3, 12, 12)), rng.standard_normal((3 * 49, 3 * emb)) * 0.1]
    feat_w = rng.standard_normal((m, emb))

    def program(lib, img, wkqv):
        x = lib.nn.Unfold(kernel_size=(7, 7), stride=(4, 4), padding=(2, 2))(img).transpose(1, 2)
        k, q, v = lib.split(x @ wkqv, emb, dim=-1)
        w = lib.tensor(feat_w)

        def prm_exp(t):
            xd = ((t * t).sum(dim=-1, keepdim=True)).repeat(1, 1, m) / 2
            return lib.exp(lib.einsum("bti,mi->btm", t, w) - xd) / math.sqrt(m)

        kp, qp = prm_exp(k), prm_exp(q)
        D = lib.einsum("bti,bi->bt", qp, kp.sum(dim=1)).unsqueeze(dim=2)
        kptv = lib.einsum("bin,bim->bnm", v, kp)
        y = lib.einsum("bti,bni->btn", qp, kptv) / (D.repeat(1, 1, emb) + 1e-8)
        B, hw, c = y.shape
        grid = y.transpose(1, 2).reshape(B, c, int(np.sqrt(hw)), int(np.sqrt(hw)))
        return lib.nn.Unfold(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))(grid)

    _assert_same(_both(torch, program, *arrays))


# ---- PVTv2 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", [16, 9, 4, 2], ids=["16", "9", "4", "2"])
def test_pvtv2_linear_sra_adaptive_pool_matches_torch(torch, side):
    rng = np.random.default_rng(RNG_SEED)
    arrays = [rng.standard_normal((2, side * side, 4)), rng.standard_normal((4, 4, 1, 1))]

    def program(lib, x, w_sr):
        B, _, C = x.shape
        x_ = x.permute(0, 2, 1).reshape(B, C, side, side)
        x_ = lib.nn.functional.conv2d(lib.nn.AdaptiveAvgPool2d(7)(x_), w_sr)
        x_ = lib.nn.functional.layer_norm(x_.reshape(B, C, -1).permute(0, 2, 1), (C,))
        return lib.nn.functional.gelu(x_)

    _assert_same(_both(torch, program, *arrays))
