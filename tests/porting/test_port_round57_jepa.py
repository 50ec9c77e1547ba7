"""Round 57, joint-embedding and flow models (facebookresearch/ijepa, facebookresearch/jepa,
black-forest-labs/flux).

I-JEPA's and V-JEPA's training steps (masked context encoder, predictor with mask tokens, target
encoder moved by EMA under ``no_grad``, AdamW with cosine LR/WD schedules written into the param
groups) and Flux's transformer (RoPE, QK RMSNorm, modulation, a flow-matching loss) and autoencoder
ran unchanged and equal to PyTorch in float64. Two glassgrad defects came out of the resizing they
use: ``interpolate(antialias=True)`` resampled an axis whose size stays the same when a scale factor
other than 1 was given, where PyTorch's separable kernel leaves that axis alone; and a resize to the
same size (and a shuffle by 1) returned the input itself or a view of it, so an in-place op on the
result wrote into the input. The other tests keep the programs' patterns equal to PyTorch 2.13 in
float64 (values and gradients).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad

RS = np.random.RandomState(57)


# ------------------------------------------------------------------ interpolate(antialias=True)
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("scale", [(1.3, 2.1), (1.3, 1.3), (1.2, 0.6), (0.5, 1.0)], ids=str)
def test_antialias_keeps_an_unresized_axis_like_pytorch(torch, mode, align_corners, scale):
    # (3, 4) by 1.3 keeps 3 rows: PyTorch's forward copies that axis, whatever the factor
    x = RS.randn(2, 3, 3, 4)
    kw = dict(scale_factor=scale, mode=mode, antialias=True, align_corners=align_corners)
    want = torch.nn.functional.interpolate(torch.tensor(x), **kw).numpy()
    got = glassgrad.nn.functional.interpolate(glassgrad.tensor(x), **kw).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_antialias_gradient_is_the_vjp_of_the_pytorch_forward(torch):
    # PyTorch's own backward resamples the unresized axis (it is not the VJP of its forward); ours
    # is: the forward is linear, so its VJP is the transposed matrix of PyTorch's forward
    kw = dict(scale_factor=(1.3, 1.6), mode="bicubic", antialias=True)
    shape = (1, 1, 3, 4)
    n = int(np.prod(shape))
    cols = [torch.nn.functional.interpolate(torch.tensor(e.reshape(shape)), **kw) for e in np.eye(n)]
    jac = np.stack([c.numpy().ravel() for c in cols], axis=1)  # (n_out, n_in)
    up = RS.randn(jac.shape[0])
    x = glassgrad.tensor(RS.randn(*shape), requires_grad=True)
    y = glassgrad.nn.functional.interpolate(x, **kw)
    y.backward(glassgrad.tensor(up.reshape(y.shape)))
    np.testing.assert_allclose(x.grad.numpy().ravel(), jac.T @ up, rtol=1e-12, atol=1e-13)


def test_antialias_same_size_is_the_identity():
    x = glassgrad.tensor(RS.randn(1, 2, 3, 5))
    for mode in ("bilinear", "bicubic"):
        y = glassgrad.nn.functional.interpolate(x, scale_factor=1.2, mode=mode, antialias=True)
        assert tuple(y.shape) == (1, 2, 3, 6)
        z = glassgrad.nn.functional.interpolate(x, size=(3, 5), mode=mode, antialias=True)
        np.testing.assert_array_equal(z.numpy(), x.numpy())


def test_antialias_unresized_image_keeps_its_non_finite_pixels_like_pytorch(torch):
    x = RS.randn(1, 1, 3, 4)
    x[0, 0, 1, 2] = np.inf
    x[0, 0, 2, 0] = np.nan
    kw = dict(scale_factor=1.2, mode="bicubic", antialias=True)  # 3 x 4 stays 3 x 4
    want = torch.nn.functional.interpolate(torch.tensor(x), **kw).numpy()
    got = glassgrad.nn.functional.interpolate(glassgrad.tensor(x), **kw).numpy()
    np.testing.assert_array_equal(got, want)


_SAME_SIZE = {
    "bilinear": lambda F, x: F.interpolate(x, size=(3, 4), mode="bilinear"),
    "nearest": lambda F, x: F.interpolate(x, scale_factor=1.0),
    "nearest-exact": lambda F, x: F.interpolate(x, size=(3, 4), mode="nearest-exact"),
    "antialias": lambda F, x: F.interpolate(x, size=(3, 4), mode="bicubic", antialias=True),
    "pixel_shuffle": lambda F, x: F.pixel_shuffle(x, 1),
    "pixel_unshuffle": lambda F, x: F.pixel_unshuffle(x, 1),
    "channel_shuffle": lambda F, x: F.channel_shuffle(x, 1),
}


@pytest.mark.parametrize("op", sorted(_SAME_SIZE))
def test_resize_or_shuffle_to_the_same_layout_is_a_new_tensor_like_pytorch(torch, op):
    # `up = F.interpolate(p, size=skip.shape[-2:]); up += skip` must not write into p when the
    # sizes already agree: PyTorch's result is a new tensor, and it may be modified in place
    x = RS.randn(2, 4, 3, 4)
    res = []
    for lib in (torch, glassgrad):
        leaf = lib.tensor(x, requires_grad=True)
        y = _SAME_SIZE[op](lib.nn.functional, leaf)
        y += 1.0
        (y * y).sum().backward()
        res.append((leaf.detach().numpy(), y.detach().numpy(), leaf.grad.numpy()))
    for a, g in zip(*res):
        np.testing.assert_allclose(g, a, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(res[1][0], x)


# ------------------------------------------------------------------ I-JEPA's masked prediction
def _apply_masks(lib, x, masks):
    """[B, N, D] -> [len(masks) * B, K, D]: the kept patch indices of each mask, batch by batch."""
    out = []
    for m in masks:
        keep = m.unsqueeze(-1).repeat(1, 1, x.size(-1))
        out += [lib.gather(x, dim=1, index=keep)]
    return lib.cat(out, dim=0)


def _repeat_interleave_batch(lib, x, b, repeat):
    n = len(x) // b
    return lib.cat([lib.cat([x[i * b : (i + 1) * b] for _ in range(repeat)], dim=0) for i in range(n)], dim=0)


def _jepa_step(lib, arrays, masks_enc, masks_pred):
    F = lib.nn.functional
    x, w_enc, w_pred, token, pos = (lib.tensor(a, requires_grad=True) for a in arrays)
    pos.requires_grad_(False)
    me = [lib.tensor(m) for m in masks_enc]
    mp = [lib.tensor(m) for m in masks_pred]
    b = x.shape[0]
    with lib.no_grad():  # the target encoder: normalized features of the whole image
        h = F.layer_norm(x @ w_enc, (w_enc.size(-1),))
        h = _repeat_interleave_batch(lib, _apply_masks(lib, h, mp), b, repeat=len(me))
    z = _apply_masks(lib, x + pos, me) @ w_enc  # the context encoder sees the kept patches only
    z = z @ w_pred
    z += _apply_masks(lib, pos.repeat(b, 1, 1), me)[..., : z.shape[-1]]
    n_ctxt = z.shape[1]
    pos_embs = _repeat_interleave_batch(lib, _apply_masks(lib, pos.repeat(b, 1, 1), mp), b, repeat=len(me))
    pred = token.repeat(pos_embs.size(0), pos_embs.size(1), 1)
    pred += pos_embs[..., : pred.shape[-1]]
    z = lib.cat([z.repeat(len(mp), 1, 1), pred], dim=1)
    z = lib.softmax(z @ z.transpose(1, 2) / math.sqrt(z.shape[-1]), dim=-1) @ z
    loss = F.smooth_l1_loss(z[:, n_ctxt:] @ w_pred.t(), h)
    loss.backward()
    return [loss.detach().numpy()] + [t.grad.numpy() for t in (x, w_enc, w_pred, token)]


def test_ijepa_masked_prediction_like_pytorch(torch):
    b, n, d, e = 3, 9, 6, 4
    arrays = [
        RS.randn(b, n, d),
        RS.randn(d, d) * 0.4,
        RS.randn(d, e) * 0.4,
        RS.randn(1, 1, e),
        RS.randn(1, n, d),
    ]
    masks_enc = [np.stack([RS.permutation(n)[:5] for _ in range(b)])]
    masks_pred = [np.stack([RS.permutation(n)[:3] for _ in range(b)]) for _ in range(2)]
    want = _jepa_step(torch, arrays, masks_enc, masks_pred)
    got = _jepa_step(glassgrad, arrays, masks_enc, masks_pred)
    for a, g in zip(want, got):
        np.testing.assert_allclose(g, a, rtol=1e-12, atol=1e-14)


def _adamw_with_schedules(lib):
    """I-JEPA's optimizer: four param groups (two with an extra ``WD_exclude`` key), the LR and the
    weight decay rewritten in every group before each step, then an EMA of the weights."""
    torch_rs = np.random.RandomState(3)
    w = lib.tensor(torch_rs.randn(4, 3), requires_grad=True)
    bias = lib.tensor(torch_rs.randn(3), requires_grad=True)
    target = [w.detach().clone(), bias.detach().clone()]
    groups = [
        {"params": (p for p in [w])},
        {"params": (p for p in [bias]), "WD_exclude": True, "weight_decay": 0},
    ]
    opt = lib.optim.AdamW(groups)
    x = lib.tensor(torch_rs.randn(5, 4))
    for step in range(1, 5):
        lr = 1e-3 + 0.5 * (1e-2 - 1e-3) * (1 + math.cos(math.pi * step / 5))
        wd = 0.4 + (0.04 - 0.4) * 0.5 * (1 + math.cos(math.pi * step / 5))
        for g in opt.param_groups:
            g["lr"] = lr
            if not g.get("WD_exclude", False):
                g["weight_decay"] = wd
        loss = (lib.tanh(x @ w + bias) ** 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        with lib.no_grad():
            m = 0.9 + 0.02 * step
            for q, k in zip([w, bias], target):
                k.data.mul_(m).add_((1.0 - m) * q.detach().data)
    return [w.detach().numpy(), bias.detach().numpy()] + [t.numpy() for t in target]


def test_ijepa_adamw_schedules_and_ema_like_pytorch(torch):
    for a, g in zip(_adamw_with_schedules(torch), _adamw_with_schedules(glassgrad)):
        np.testing.assert_allclose(g, a, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ Flux's RoPE transformer parts
def _rope(lib, pos, dim, theta):
    scale = lib.arange(0, dim, 2, dtype=pos.dtype) / dim
    omega = 1.0 / (theta**scale)
    out = lib.einsum("...n,d->...nd", pos, omega)
    out = lib.stack([lib.cos(out), -lib.sin(out), lib.sin(out), lib.cos(out)], dim=-1)
    return out.reshape(*out.shape[:-1], 2, 2)  # "b n d (i j) -> b n d i j"


def _apply_rope(xq, freqs):
    xq_ = xq.reshape(*xq.shape[:-1], -1, 1, 2)
    return (freqs[..., 0] * xq_[..., 0] + freqs[..., 1] * xq_[..., 1]).reshape(*xq.shape)


def _timestep_embedding(lib, t, dim, max_period=10000, time_factor=1000.0):
    t = time_factor * t
    half = dim // 2
    freqs = lib.exp(-math.log(max_period) * lib.arange(start=0, end=half, dtype=t.dtype) / half)
    args = t[:, None] * freqs[None]
    return lib.cat([lib.cos(args), lib.sin(args)], dim=-1)


def _flux_block(lib, arrays, ids):
    F = lib.nn.functional
    x, t, w_mod, w_qkv, scale = (lib.tensor(a, requires_grad=True) for a in arrays)
    ids = lib.tensor(ids)
    heads, axes = 2, [2, 4, 2]
    pe = lib.cat([_rope(lib, ids[..., i], axes[i], 10000) for i in range(3)], dim=-3).unsqueeze(1)
    vec = F.silu(_timestep_embedding(lib, t, 16)) @ w_mod
    shift, sc, gate = vec[:, None, :].chunk(3, dim=-1)
    h = (1 + sc) * F.layer_norm(x, (x.shape[-1],), eps=1e-6) + shift
    qkv, mlp = lib.split(h @ w_qkv, [3 * x.shape[-1], 8], dim=-1)
    b, n, _ = qkv.shape
    q, k, v = qkv.reshape(b, n, 3, heads, -1).permute(2, 0, 3, 1, 4)  # "B L (K H D) -> K B H L D"
    rms = [lib.rsqrt(lib.mean(u**2, dim=-1, keepdim=True) + 1e-6) * scale for u in (q, k)]
    q, k = q * rms[0], k * rms[1]
    o = F.scaled_dot_product_attention(_apply_rope(q, pe), _apply_rope(k, pe), v)
    o = o.permute(0, 2, 1, 3).reshape(b, n, -1)
    out = x + gate * lib.cat((o, F.gelu(mlp, approximate="tanh")), 2)[..., : x.shape[-1]]
    loss = F.mse_loss(out, lib.zeros_like(out))
    loss.backward()
    return [out.detach().numpy()] + [a.grad.numpy() for a in (x, t, w_mod, w_qkv, scale)]


def test_flux_rope_modulation_block_like_pytorch(torch):
    b, n, d = 2, 6, 16
    arrays = [
        RS.randn(b, n, d),
        RS.rand(b),
        RS.randn(16, 3 * d) * 0.3,
        RS.randn(d, 3 * d + 8) * 0.3,
        RS.rand(8) + 0.5,
    ]
    ids = np.zeros((b, n, 3))
    ids[..., 1] = np.arange(n)[None] // 3
    ids[..., 2] = np.arange(n)[None] % 3
    want = _flux_block(torch, arrays, ids)
    got = _flux_block(glassgrad, arrays, ids)
    for a, g in zip(want, got):
        np.testing.assert_allclose(g, a, rtol=1e-11, atol=1e-13)


def test_flux_schedule_shift_like_pytorch(torch):
    # get_schedule: linspace(1, 0) through exp(mu) / (exp(mu) + (1 / t - 1) ** sigma), t = 0 included
    mu = 0.5 + (1.15 - 0.5) / (4096 - 256) * (64 - 256)
    vals = []
    for lib in (torch, glassgrad):
        t = lib.linspace(1, 0, 5)
        vals.append((math.exp(mu) / (math.exp(mu) + (1 / t - 1) ** 1.0)).tolist())
    assert vals[1] == vals[0]
    assert all(type(v) is float for v in vals[1])


# ------------------------------------------------------------------ V-JEPA's loss and pos-embed resize
def _vjepa_loss(lib, arrays):
    F = lib.nn.functional
    z1, z2, h1, h2, pos = (lib.tensor(a, requires_grad=True) for a in arrays)
    loss = 0.0
    for zi, hi in zip((z1, z2), (h1, h2)):
        loss += lib.mean(lib.abs(zi - hi) ** 1.0) / 1.0
    loss /= 2
    pstd = sum([lib.sqrt(zi.var(dim=1) + 0.0001) for zi in (z1, z2)]) / 2
    loss = loss + 0.1 * lib.mean(F.relu(1.0 - pstd))
    # a longer clip: the (T, H, W) grid of position embeddings resized by a factor per axis
    grid = F.interpolate(
        pos.reshape(1, 2, 2, 2, 4).permute(0, 4, 1, 2, 3), scale_factor=(2.0, 1.5, 1.0), mode="trilinear"
    )
    loss = loss + (grid.permute(0, 2, 3, 4, 1).reshape(1, -1, 4) ** 2).mean()
    loss.backward()
    return [loss.detach().numpy()] + [a.grad.numpy() for a in (z1, z2, pos)]


def test_vjepa_loss_and_trilinear_pos_embed_like_pytorch(torch):
    arrays = [
        RS.randn(2, 5, 4) * 0.3,
        RS.randn(2, 5, 4),
        RS.randn(2, 5, 4),
        RS.randn(2, 5, 4),
        RS.randn(1, 8, 4),
    ]
    for a, g in zip(_vjepa_loss(torch, arrays), _vjepa_loss(glassgrad, arrays)):
        np.testing.assert_allclose(g, a, rtol=1e-12, atol=1e-14)
