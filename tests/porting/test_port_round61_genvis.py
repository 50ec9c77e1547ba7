"""Round 61, generative and matching models never ported before: FoundationVision/VAR, LTH14/mar,
willisma/SiT and cvg/LightGlue. The patterns below are written fresh here and compared with PyTorch in
float64 with gradients; the random draws the programs make inside come from NumPy on both sides.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

from .helpers import close_to as _close
from .helpers import tensor_of as _t

RNG_SEED = 61


# ---- VAR: gumbel_softmax_with_rng, PyTorch's F.gumbel_softmax body with torch.legacy_contiguous_format --


def test_legacy_contiguous_format_is_contiguous_format_as_torch(torch):
    assert torch.legacy_contiguous_format is torch.contiguous_format
    assert gg.legacy_contiguous_format is gg.contiguous_format
    # a name outside __all__ in both
    assert "legacy_contiguous_format" not in torch.__all__ and "legacy_contiguous_format" not in gg.__all__
    x = np.random.default_rng(RNG_SEED).standard_normal((2, 3, 4, 5))
    for make in ("empty_like", "zeros_like", "ones_like"):
        strides = []
        for lib in (torch, gg):
            cl = _t(lib, x).to(memory_format=lib.channels_last)
            strides.append(getattr(lib, make)(cl, memory_format=lib.legacy_contiguous_format).stride())
        assert strides[0] == strides[1], make
    for lib in (torch, gg):
        cl = _t(lib, x).to(memory_format=lib.channels_last)
        assert cl.contiguous(memory_format=lib.legacy_contiguous_format).is_contiguous()


def _gumbel_with_rng(lib, hard):
    """VAR's gumbel_softmax_with_rng with the exponential draws given (PyTorch's would come from the
    generator): the hard straight-through estimator and the soft one, with gradients."""
    rng = np.random.default_rng(RNG_SEED + 1)
    logits = _t(lib, rng.standard_normal((2, 3, 7)), grad=True)
    expo = _t(lib, rng.exponential(size=(2, 3, 7)))
    tau, dim = 0.3, -1
    noise = lib.empty_like(logits, memory_format=lib.legacy_contiguous_format).copy_(expo)
    gumbels = (logits + -noise.log()) / tau
    y_soft = gumbels.softmax(dim)
    if hard:
        index = y_soft.max(dim, keepdim=True)[1]
        y_hard = lib.zeros_like(logits, memory_format=lib.legacy_contiguous_format).scatter_(dim, index, 1.0)
        ret = y_hard - y_soft.detach() + y_soft
    else:
        ret = y_soft
    emb = _t(lib, rng.standard_normal((7, 4)), grad=True)
    h = ret @ emb.unsqueeze(0)  # VAR: gumbel weights @ the codebook
    (h * _t(lib, rng.standard_normal((2, 3, 4)))).sum().backward()
    return ret, h, logits.grad, emb.grad


@pytest.mark.parametrize("hard", [False, True], ids=["soft", "hard"])
def test_var_gumbel_softmax_with_rng_matches_torch(torch, hard):
    for a, b in zip(_gumbel_with_rng(torch, hard), _gumbel_with_rng(gg, hard)):
        _close(a, b)


# ---- LightGlue: ind0[k, m_indices] past the batch of the pruning index (an IndexError once) --------


def _index_errors(lib):
    ind0 = lib.arange(12)[None]  # (1, M): LightGlue's pruning index is for a batch of one
    picks = lib.tensor([1, 3])
    return [
        lambda: ind0[1, picks],  # int then tensor: a split key
        lambda: ind0[0, lib.tensor([13])],
        lambda: ind0.__setitem__((1, picks), 0),
    ]


def test_out_of_range_index_beside_an_index_tensor_is_an_index_error_as_torch(torch):
    for ref, mine in zip(_index_errors(torch), _index_errors(gg)):
        with pytest.raises(IndexError) as want:
            ref()
        with pytest.raises(IndexError) as got:
            mine()
        # the message names the bad index once (round 61 read "got getitem: expected ..., got index 1 ...")
        bad = str(want.value).split()[1]
        assert f"index {bad} is out of bounds" in str(got.value)
        assert str(got.value).count("expected a key that fits shape") == 1, str(got.value)
        assert str(got.value).count("out of bounds") == 1


def test_out_of_range_split_key_names_the_indexed_shape():
    x = gg.zeros(2, 5, 3)
    with pytest.raises(
        IndexError, match=r"^getitem: expected a key that fits shape \(2, 5, 3\), got index 5 "
    ):
        x[:, 5, gg.tensor([0])]
    with pytest.raises(
        IndexError, match=r"^getitem: expected a key that fits shape \(2, 5, 3\), got index 2 "
    ):
        x[2, :, gg.tensor([0, 1])]
    with pytest.raises(
        IndexError, match=r"^__setitem__: expected a key that fits shape \(2, 5, 3\), got index 2 "
    ):
        x[2, :, gg.tensor([0, 1])] = 1.0


# ---- VAR: top-k / top-p filtering and the block-wise causal attention with adaptive layer norm --------


def _top_k_top_p(lib, top_k, top_p):
    """VAR's sample_with_top_k_top_p_ up to the multinomial: the filtered probabilities."""
    logits = _t(lib, np.random.default_rng(RNG_SEED + 2).standard_normal((2, 3, 11)))
    if top_k > 0:
        remove = logits < logits.topk(top_k, largest=True, sorted=False, dim=-1)[0].amin(dim=-1, keepdim=True)
        logits.masked_fill_(remove, -lib.inf)
    if top_p > 0:
        sorted_logits, sorted_idx = logits.sort(dim=-1, descending=False)
        sorted_remove = sorted_logits.softmax(dim=-1).cumsum_(dim=-1) <= (1 - top_p)
        sorted_remove[..., -1:] = False
        logits.masked_fill_(sorted_remove.scatter(sorted_idx.ndim - 1, sorted_idx, sorted_remove), -lib.inf)
    return logits.softmax(dim=-1).view(-1, 11)


@pytest.mark.parametrize("top_k,top_p", [(0, 0.8), (4, 0.0), (5, 0.9)], ids=["p", "k", "kp"])
def test_var_top_k_top_p_filter_matches_torch(torch, top_k, top_p):
    _close(_top_k_top_p(torch, top_k, top_p), _top_k_top_p(gg, top_k, top_p))


def _var_block(lib):
    """One AdaLNSelfAttn of VAR (attn_l2_norm, zero k bias, scale_mul clamp) over the block-wise causal
    mask of patch_nums (1, 2, 3), in float64 with gradients."""
    rng = np.random.default_rng(RNG_SEED + 3)
    F = lib.nn.functional
    B, C, H, pns = 2, 8, 2, (1, 2, 3)
    L = sum(p * p for p in pns)
    d = lib.cat([lib.full((p * p,), i) for i, p in enumerate(pns)]).view(1, L, 1)
    bias = lib.where(d >= d.transpose(1, 2), 0.0, -lib.inf).reshape(1, 1, L, L).double()
    x = x0 = _t(lib, rng.standard_normal((B, L, C)), grad=True)
    cond = _t(lib, rng.standard_normal((B, C)), grad=True)
    ada_w = _t(lib, rng.standard_normal((6 * C, C)) * 0.3, grad=True)
    qkv_w = _t(lib, rng.standard_normal((3 * C, C)) * 0.3, grad=True)
    q_bias, v_bias = _t(lib, rng.standard_normal(C), grad=True), _t(lib, rng.standard_normal(C), grad=True)
    proj_w = _t(lib, rng.standard_normal((C, C)) * 0.3, grad=True)
    scale_mul = _t(lib, np.log(np.full((1, H, 1, 1), 4.0)) + rng.standard_normal((1, H, 1, 1)), grad=True)
    g1, g2, s1, s2, sh1, sh2 = F.linear(F.silu(cond), ada_w).view(-1, 1, 6, C).unbind(2)
    h = F.layer_norm(x, (C,), eps=1e-6).mul(s1.add(1)).add_(sh1)
    qkv = F.linear(h, qkv_w, bias=lib.cat((q_bias, lib.zeros(C, dtype=lib.float64), v_bias))).view(
        B, L, 3, H, C // H
    )
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(dim=0)
    sm = scale_mul.clamp_max(math.log(100)).exp()
    q, k = F.normalize(q, dim=-1).mul(sm), F.normalize(k, dim=-1)
    att = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=1.0).transpose(1, 2).reshape(B, L, C)
    x = x + F.linear(att, proj_w).mul_(
        g1
    )  # the in-place mul on the projection, as VAR (not on the SDPA output)
    out = x + F.gelu(F.layer_norm(x, (C,), eps=1e-6).mul(s2.add(1)).add_(sh2), approximate="tanh").mul(g2)
    (out * _t(lib, rng.standard_normal((B, L, C)))).sum().backward()
    return out, *(t.grad for t in (x0, cond, ada_w, qkv_w, q_bias, v_bias, proj_w, scale_mul))


def test_var_adaln_block_with_blockwise_causal_mask_matches_torch(torch):
    for a, b in zip(_var_block(torch), _var_block(gg)):
        _close(a, b)


# ---- LightGlue: the log double-softmax assignment with matchability, and its NLL ---------------------


def _log_double_softmax(lib):
    rng = np.random.default_rng(RNG_SEED + 4)
    F = lib.nn.functional
    sim = _t(lib, rng.standard_normal((2, 5, 4)), grad=True)
    z0, z1 = (
        _t(lib, rng.standard_normal((2, 5, 1)), grad=True),
        _t(lib, rng.standard_normal((2, 4, 1)), grad=True),
    )
    b, m, n = sim.shape
    certainties = F.logsigmoid(z0) + F.logsigmoid(z1).transpose(1, 2)
    scores0 = F.log_softmax(sim, 2)
    scores1 = F.log_softmax(sim.transpose(-1, -2).contiguous(), 2).transpose(-1, -2)
    scores = sim.new_full((b, m + 1, n + 1), 0)
    scores[:, :m, :n] = scores0 + scores1 + certainties
    scores[:, :-1, -1] = F.logsigmoid(-z0.squeeze(-1))
    scores[:, -1, :-1] = F.logsigmoid(-z1.squeeze(-1))
    gt = _t(lib, np.array([[0, 4, 2, 4, 1], [3, 3, 4, 0, 2]]))  # 4: unmatched (the dustbin)
    nll = -scores[:, :m].gather(2, gt.unsqueeze(-1)).squeeze(-1)
    nll.mean().backward()
    return scores, nll, sim.grad, z0.grad, z1.grad


def test_lightglue_log_double_softmax_nll_matches_torch(torch):
    for a, b in zip(_log_double_softmax(torch), _log_double_softmax(gg)):
        _close(a, b)
