"""Round 62, LLM and VLM model code: huggingface/nanoVLM (4e0c096) and rasbt/LLMs-from-scratch
(28c65cd: the ch05 standalone Qwen3 dense/MoE, Gemma 3, OLMo 3, Llama 3.2, Tiny Aya, Qwen3.5 and
Gemma 4 notebooks with and without KV cache; the ch04 GQA, MLA, SWA and MoE bonus GPTs).

All ran unchanged and agreed with PyTorch in float64 (outputs, gradients, parameters after AdamW
steps, greedy and cached generation). One difference was found around them: a grouped-query
key/value given to ``scaled_dot_product_attention`` without ``enable_gqa=True`` (a GQA port that
forgets its ``repeat_interleave``) raised glassgrad's matmul error where PyTorch raises its
broadcast sentence. The tests below are fresh programs of the patterns the programs are built
from, against PyTorch in float64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

_R = np.random.default_rng(62)


def _t(lib, a, grad=False):
    return lib.tensor(np.asarray(a), requires_grad=grad)


def _close(ours, theirs, tol=1e-12):
    a, b = ours.detach().numpy(), theirs.detach().numpy()
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# ---- SDPA: heads that do not broadcast -----------------------------------------------------------

_HEADS = [
    ((2, 4, 3, 8), (2, 2, 5, 8), (2, 2, 5, 8), False),
    ((2, 4, 3, 8), (2, 2, 5, 8), (2, 2, 5, 8), True),
    ((4, 3, 8), (2, 5, 8), (2, 5, 8), False),
    ((2, 4, 3, 8), (3, 4, 5, 8), (3, 4, 5, 8), False),
    ((2, 4, 3, 8), (2, 4, 5, 8), (2, 2, 5, 8), False),
    ((5, 2, 4, 3, 8), (2, 2, 5, 8), (2, 2, 5, 8), False),
]


@pytest.mark.parametrize("qs,ks,vs,causal", _HEADS, ids=[f"case{i}" for i in range(len(_HEADS))])
def test_sdpa_batch_dims_that_do_not_broadcast_raise_pytorchs_sentence(torch, qs, ks, vs, causal):
    q, k, v = (_R.standard_normal(s) for s in (qs, ks, vs))
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.functional.scaled_dot_product_attention(*(_t(torch, a) for a in (q, k, v)), is_causal=causal)
    with pytest.raises(RuntimeError) as ours:
        gg.nn.functional.scaled_dot_product_attention(*(_t(gg, a) for a in (q, k, v)), is_causal=causal)
    assert "scaled_dot_product_attention" in str(ours.value)
    assert str(ours.value).endswith(str(theirs.value))


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_sdpa_single_kv_head_still_broadcasts(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    q, k = _t(lib, _R.standard_normal((2, 4, 3, 8))), _t(lib, _R.standard_normal((2, 1, 5, 8)))
    assert tuple(lib.nn.functional.scaled_dot_product_attention(q, k, k).shape) == (2, 4, 3, 8)


# ---- nanoVLM's decoder attention: GQA by repeat_interleave, RoPE, padding mask + is_causal ----------


def _gqa_decoder_step(lib, x, wq, wk, wv, mask, n_heads=4, n_kv=2):
    b, t, c = x.shape
    hd = c // n_heads
    q = (x @ wq.T).view(b, t, n_heads, hd).transpose(1, 2)
    k = (x @ wk.T).view(b, t, n_kv, hd).transpose(1, 2)
    v = (x @ wv.T).view(b, t, n_kv, hd).transpose(1, 2)
    inv_freq = 1.0 / (10000 ** (lib.arange(0, hd, 2, dtype=lib.float64) / hd))
    pos = lib.arange(t, dtype=lib.float64).unsqueeze(0).expand(b, -1)
    emb = lib.cat([pos.unsqueeze(-1) * inv_freq, pos.unsqueeze(-1) * inv_freq], dim=-1)
    cos, sin = lib.cos(emb).unsqueeze(1), lib.sin(emb).unsqueeze(1)

    def rot(z):
        z1, z2 = z.chunk(2, dim=-1)
        return z * cos + lib.cat((-z2, z1), dim=-1) * sin

    q, k = rot(q), rot(k)
    k, v = k.repeat_interleave(n_heads // n_kv, dim=1), v.repeat_interleave(n_heads // n_kv, dim=1)
    add = (1.0 - mask.unsqueeze(1).unsqueeze(2).to(q.dtype)) * lib.finfo(q.dtype).min
    y = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=add, is_causal=True)
    return y.transpose(1, 2).contiguous().view(b, t, c)


def test_nanovlm_gqa_rope_padding_mask_matches_pytorch(torch):
    x = _R.standard_normal((2, 6, 16))
    ws = [_R.standard_normal(s) * 0.3 for s in ((16, 16), (8, 16), (8, 16))]
    mask = np.ones((2, 6), dtype=np.int64)
    mask[1, -2:] = 0  # right padding: every query keeps a key
    target = _R.standard_normal((2, 6, 16))
    res = {}
    for name, lib in (("torch", torch), ("gg", gg)):
        xs = _t(lib, x, grad=True)
        w = [_t(lib, a, grad=True) for a in ws]
        y = _gqa_decoder_step(lib, xs, *w, _t(lib, mask))
        ((y - _t(lib, target)) ** 2).mean().backward()
        res[name] = (y, xs.grad, *(p.grad for p in w))
    for ours, theirs in zip(res["gg"], res["torch"], strict=True):
        _close(ours, theirs)


# ---- nanoVLM's image tokens: pixel shuffle and a boolean-mask scatter into the embeddings ----------


def test_nanovlm_pixel_shuffle_and_image_token_scatter_gradients(torch):
    ids = np.array([[5, 9, 9, 9, 9, 3], [9, 9, 9, 9, 2, 4]])
    feats = _R.standard_normal((2, 16, 4))  # 2 images, a 4x4 patch grid, 4 channels
    table = _R.standard_normal((12, 8))
    wp = _R.standard_normal((8, 16))
    res = {}
    for name, lib in (("torch", torch), ("gg", gg)):
        f, emb, w = _t(lib, feats, True), _t(lib, table, True), _t(lib, wp, True)
        x = f.view(2, 4, 4, 4).reshape(2, 2, 2, 2, 2, 4).permute(0, 1, 3, 2, 4, 5).contiguous()
        img = x.reshape(2, 4, 16) @ w.T  # (images, 4 tokens, 8)
        tok = lib.nn.functional.embedding(_t(lib, ids), emb)
        out = tok.clone()
        out[_t(lib, ids) == 9] = img.view(-1, img.size(-1)).to(out.dtype)
        (out.sin() * _t(lib, np.arange(96.0).reshape(2, 6, 8) / 96)).sum().backward()
        res[name] = (out, f.grad, emb.grad, w.grad)
    for ours, theirs in zip(res["gg"], res["torch"], strict=True):
        _close(ours, theirs)


# ---- nanoVLM's sampling filter: top-k then nucleus through a boolean scatter ---------------------


def _top_k_top_p(lib, logits, top_k, top_p):
    top_k = min(top_k, logits.size(-1))
    if top_k > 0:
        logits = logits.masked_fill(logits < lib.topk(logits, top_k)[0][..., -1, None], -math.inf)
    if top_p < 1.0:
        sorted_logits, sorted_indices = lib.sort(logits, descending=True)
        remove = lib.softmax(sorted_logits, dim=-1).cumsum(dim=-1) > top_p
        remove[..., 0] = False
        logits = logits.masked_fill(remove.scatter(1, sorted_indices, remove), -math.inf)
    return logits


@pytest.mark.parametrize("top_k,top_p", [(50, 0.9), (0, 0.5), (3, 1.0), (200, 0.2)])
def test_nanovlm_top_k_top_p_filter_matches_pytorch(torch, top_k, top_p):
    logits = _R.standard_normal((3, 40))
    ours = _top_k_top_p(gg, _t(gg, logits), top_k, top_p)
    theirs = _top_k_top_p(torch, _t(torch, logits), top_k, top_p)
    _close(gg.softmax(ours / 0.5, dim=-1), torch.softmax(theirs / 0.5, dim=-1))


# ---- LLMs-from-scratch ch04 MoE: top-k routing with unique / nonzero / gather / index_add_ --------


def _moe(lib, x, gate, experts, k=2):
    scores = x @ gate.T
    topk_scores, topk_idx = lib.topk(scores, k, dim=-1)
    probs = lib.softmax(topk_scores, dim=-1)
    out = lib.zeros(x.shape[0], x.shape[1], dtype=x.dtype)
    for e in lib.unique(topk_idx):
        e = int(e.item())
        mask = topk_idx == e
        sel = mask.any(dim=-1).nonzero(as_tuple=False).squeeze(-1)
        h = lib.nn.functional.silu(x.index_select(0, sel) @ experts[e].T)
        slot = mask[sel].int().argmax(dim=-1, keepdim=True)
        p = lib.gather(probs.index_select(0, sel), dim=-1, index=slot).squeeze(-1)
        out.index_add_(0, sel, h * p.unsqueeze(-1))
    return out


def test_llms_from_scratch_moe_routing_matches_pytorch(torch):
    x, gate = _R.standard_normal((7, 6)), _R.standard_normal((4, 6))
    experts = [_R.standard_normal((6, 6)) * 0.5 for _ in range(4)]
    res = {}
    for name, lib in (("torch", torch), ("gg", gg)):
        xs, g = _t(lib, x, True), _t(lib, gate, True)
        ex = [_t(lib, a, True) for a in experts]
        y = _moe(lib, xs, g, ex)
        (y**2).sum().backward()
        res[name] = (y, xs.grad, g.grad, *(e.grad if e.grad is not None else lib.zeros(6, 6) for e in ex))
    for ours, theirs in zip(res["gg"], res["torch"], strict=True):
        _close(ours, theirs)
