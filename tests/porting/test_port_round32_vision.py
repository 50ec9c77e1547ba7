"""Round 32, vision (openai/CLIP model.py, facebookresearch/segment-anything modeling + utils).

Both programs ran unchanged; these distilled repros pin what they lean on, each written the way
the program calls the API and compared with PyTorch: CLIP's AttentionPool2d (the functional
multi-head attention with separate projection weights and a mean-token query), its text tower's
int32 tokens, causal mask and end-of-text gather, the fp16 LayerNorm guard; SAM's windowed
attention with padding and decomposed relative positions (interpolated tables included), its mask
post-processing with 0-d tensor sizes and the int16/int32 stability-score sums."""

from __future__ import annotations

import copy

import numpy as np

import glassgrad as gg


def _pair(torch, *arrays, grad=True):
    """The same float64 arrays as glassgrad and PyTorch leaves."""
    g = [gg.tensor(a, requires_grad=grad) for a in arrays]
    t = [torch.tensor(a, requires_grad=grad) for a in arrays]
    return g, t


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


def _attnpool(lib, x, pos, qw, kw, vw, cw, qb, kb, vb, cb, heads):
    """CLIP's AttentionPool2d.forward, (N, C, H, W) -> (N, out)."""
    x = x.flatten(start_dim=2).permute(2, 0, 1)
    x = lib.cat([x.mean(dim=0, keepdim=True), x], dim=0)
    x = x + pos[:, None, :].to(x.dtype)
    out, w = lib.nn.functional.multi_head_attention_forward(
        query=x[:1],
        key=x,
        value=x,
        embed_dim_to_check=x.shape[-1],
        num_heads=heads,
        q_proj_weight=qw,
        k_proj_weight=kw,
        v_proj_weight=vw,
        in_proj_weight=None,
        in_proj_bias=lib.cat([qb, kb, vb]),
        bias_k=None,
        bias_v=None,
        add_zero_attn=False,
        dropout_p=0,
        out_proj_weight=cw,
        out_proj_bias=cb,
        use_separate_proj_weight=True,
        training=True,
        need_weights=False,
    )
    return out.squeeze(0), w


def test_clip_attention_pool_matches_torch(torch):
    rng = np.random.default_rng(0)
    c, out_dim = 8, 6
    arrays = [rng.standard_normal((2, c, 3, 3)), rng.standard_normal((10, c))]
    arrays += [rng.standard_normal((c, c)) for _ in range(3)] + [rng.standard_normal((out_dim, c))]
    arrays += [rng.standard_normal(c) for _ in range(3)] + [rng.standard_normal(out_dim)]
    g, t = _pair(torch, *arrays)
    go, gw = _attnpool(gg, *g, heads=2)
    to, tw = _attnpool(torch, *t, heads=2)
    assert gw is None and tw is None and go.shape == (2, out_dim)
    _close(go, to)
    go.square().sum().backward()
    to.square().sum().backward()
    for a, b in zip(g, t):
        _close(a.grad, b.grad, 1e-9)


def _text_tower(lib, emb_w, tokens_np, in_w, in_b, out_w, out_b, proj):
    """CLIP's encode_text essentials: int32 tokens, causal additive mask, EOT-token gather."""
    n, ctx = tokens_np.shape
    text = lib.zeros(n, ctx, dtype=lib.int)
    for i, row in enumerate(tokens_np):
        text[i, : len(row)] = lib.tensor(row)
    mask = lib.empty(ctx, ctx)
    mask.fill_(float("-inf"))
    mask.triu_(1)
    attn = lib.nn.MultiheadAttention(emb_w.shape[1], 2).double()
    with lib.no_grad():
        attn.in_proj_weight.copy_(in_w)
        attn.in_proj_bias.copy_(in_b)
        attn.out_proj.weight.copy_(out_w)
        attn.out_proj.bias.copy_(out_b)
    x = lib.nn.functional.embedding(text, emb_w).permute(1, 0, 2)
    mask = mask.to(dtype=x.dtype, device=x.device)
    x = x + attn(x, x, x, need_weights=False, attn_mask=mask)[0]
    x = x.permute(1, 0, 2)
    return text, x[lib.arange(x.shape[0]), text.argmax(dim=-1)] @ proj, attn


def test_clip_text_tower_int32_tokens_causal_mask_eot_gather(torch):
    rng = np.random.default_rng(1)
    d, vocab = 8, 20
    tokens = rng.integers(1, vocab - 1, (3, 5)).astype(np.int64)
    tokens[:, -1] = vocab - 1  # the end-of-text id is the largest
    arrays = [rng.standard_normal((vocab, d)), rng.standard_normal((3 * d, d)), rng.standard_normal(3 * d)]
    arrays += [rng.standard_normal((d, d)), rng.standard_normal(d), rng.standard_normal((d, 4))]
    g, t = _pair(torch, *arrays)
    gtext, go, gattn = _text_tower(gg, g[0], tokens, *g[1:])
    ttext, to, tattn = _text_tower(torch, t[0], tokens, *t[1:])
    assert gtext.dtype == gg.int32 and str(ttext.dtype) == "torch.int32"
    np.testing.assert_array_equal(gtext.numpy(), ttext.numpy())
    _close(go, to)
    go.sum().backward()
    to.sum().backward()
    for a, b in zip([g[0], g[-1], *gattn.parameters()], [t[0], t[-1], *tattn.parameters()]):
        _close(a.grad, b.grad, 1e-9)


def test_clip_fp16_layernorm_guard(torch):
    """convert_weights halves Linear weights; CLIP's LayerNorm runs in float32 and casts back."""
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((4, 8)), rng.standard_normal((8, 8)) / 3, rng.standard_normal(8)
    outs = []
    for lib in (gg, torch):
        lin = lib.nn.Linear(8, 8)
        ln = lib.nn.LayerNorm(8)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w))
            lin.bias.copy_(lib.tensor(b))
        lin.weight.data = lin.weight.data.half()
        lin.bias.data = lin.bias.data.half()
        h = lin(lib.tensor(x).type(lin.weight.dtype))
        y = ln(h.type(lib.float32)).type(h.dtype)
        assert str(y.dtype).endswith("float16")
        outs.append(y.float().detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=0, atol=4e-3)


def _windowed(lib, x, ws, rel_h, rel_w):
    """SAM's window_partition -> attention with decomposed rel pos -> window_unpartition.

    x is (B, H, W, C); the rel tables may be shorter than 2 * ws - 1 (then they are resized
    linearly, as SAM does for checkpoints trained at another size)."""
    b, h, w, c = x.shape
    ph, pw = (ws - h % ws) % ws, (ws - w % ws) % ws
    xp = lib.nn.functional.pad(x, (0, 0, 0, pw, 0, ph)) if ph or pw else x
    hp, wp = h + ph, w + pw
    win = xp.view(b, hp // ws, ws, wp // ws, ws, c).permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, c)

    def rel(size, table):
        n = 2 * size - 1
        if table.shape[0] != n:
            table = (
                lib.nn.functional.interpolate(
                    table.reshape(1, table.shape[0], -1).permute(0, 2, 1), size=n, mode="linear"
                )
                .reshape(-1, n)
                .permute(1, 0)
            )
        coords = lib.arange(size)[:, None] - lib.arange(size)[None, :] + (size - 1)
        return table[coords.long()]

    q = win.reshape(win.shape[0], ws * ws, c)
    attn = q @ q.transpose(-2, -1) * c**-0.5
    r_q = q.reshape(-1, ws, ws, c)
    rh = lib.einsum("bhwc,hkc->bhwk", r_q, rel(ws, rel_h))
    rw = lib.einsum("bhwc,wkc->bhwk", r_q, rel(ws, rel_w))
    attn = (attn.view(-1, ws, ws, ws, ws) + rh[:, :, :, :, None] + rw[:, :, :, None, :]).view(
        -1, ws * ws, ws * ws
    )
    out = (attn.softmax(dim=-1) @ q).view(-1, ws, ws, c)
    out = (
        out.view(b, hp // ws, wp // ws, ws, ws, -1).permute(0, 1, 3, 2, 4, 5).contiguous().view(b, hp, wp, -1)
    )
    return out[:, :h, :w, :].contiguous()


def test_sam_windowed_attention_rel_pos_with_padding_and_resized_tables(torch):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((2, 5, 7, 4)), rng.standard_normal((5, 4)), rng.standard_normal((3, 4))]
    g, t = _pair(torch, *arrays)
    go, to = _windowed(gg, *g[:1], 3, *g[1:]), _windowed(torch, *t[:1], 3, *t[1:])
    assert go.shape == (2, 5, 7, 4)
    _close(go, to)
    go.sin().sum().backward()
    to.sin().sum().backward()
    for a, b in zip(g, t):
        _close(a.grad, b.grad, 1e-9)


def _postprocess(lib, low, orig, img_size):
    """SAM's SamOnnxModel.mask_postprocessing: sizes and slice bounds are 0-d int64 tensors."""
    masks = lib.nn.functional.interpolate(
        low, size=(img_size, img_size), mode="bilinear", align_corners=False
    )
    size = orig.to(lib.float32)
    pre = lib.floor(img_size / lib.max(size) * size + 0.5).to(lib.int64)
    masks = masks[..., : pre[0], : pre[1]]
    orig = orig.to(lib.int64)
    return lib.nn.functional.interpolate(masks, size=(orig[0], orig[1]), mode="bilinear", align_corners=False)


def test_sam_mask_postprocessing_with_tensor_sizes_and_stability_sums(torch):
    rng = np.random.default_rng(4)
    low = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    go = _postprocess(gg, gg.tensor(low), gg.tensor([25.0, 35.0]), 32)
    to = _postprocess(torch, torch.tensor(low), torch.tensor([25.0, 35.0]), 32)
    assert go.shape == tuple(to.shape) == (1, 3, 25, 35)
    np.testing.assert_allclose(go.numpy(), to.numpy(), rtol=1e-6, atol=1e-6)
    # calculate_stability_score: bool sums in int16 then int32, ratio in float32
    for lib, m in ((gg, go), (torch, to)):
        inter = (m > 1.0).sum(-1, dtype=lib.int16).sum(-1, dtype=lib.int32)
        union = (m > -1.0).sum(-1, dtype=lib.int16).sum(-1, dtype=lib.int32)
        assert str(inter.dtype).endswith("int32")
        if lib is gg:
            got = (inter.numpy(), (inter / union).numpy())
        else:
            np.testing.assert_array_equal(got[0], inter.numpy())
            np.testing.assert_allclose(got[1], (inter / union).numpy(), rtol=1e-7)


def test_sam_apply_boxes_torch_deepcopy_and_column_writes(torch):
    boxes = [[5, 3, 40, 30], [20, 10, 69, 49]]
    outs = []
    for lib in (gg, torch):
        b = lib.tensor(boxes)
        coords = copy.deepcopy(b.reshape(-1, 2, 2)).to(lib.float)
        coords[..., 0] = coords[..., 0] * (64 / 70)
        coords[..., 1] = coords[..., 1] * (46 / 50)
        assert b.dtype == lib.int64  # the deep copy left the original alone
        outs.append(coords.reshape(-1, 4).numpy())
    assert outs[0].dtype == outs[1].dtype == np.float32
    np.testing.assert_array_equal(outs[0], outs[1])
