"""Round 61, LLM courses never ported before: jingyaogong/minimind (MoE model with RoPE/YaRN, LoRA,
the pretrain/SFT/LoRA/DPO/distillation trainers, GRPO/CISPO and PPO steps, ``generate``),
datawhalechina/happy-llm (the encoder-decoder Transformer of chapter 2, the LLaMA-2 ``k_model``
with its pretrain and SFT loops, greedy/sampled/beam generation) and datawhalechina/tiny-universe
(TinyLLM's ``train.py`` on its memory-mapped token shards, TinyTransformer).

They ran unchanged and agreed with PyTorch (float64 to 1e-12 where the programs keep float64, their
own float32 casts to float32 rounding). No glassgrad change came of them; these tests pin the
patterns the programs are built from (written fresh here), each against PyTorch in float64 with
gradients.
"""

from __future__ import annotations

import math

import numpy as np

import glassgrad as gg

RNG_SEED = 61


def _t(lib, a, grad=False):
    t = lib.tensor(np.asarray(a))
    return t.requires_grad_() if grad else t


def _close(a, b, tol=1e-12):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(b, a, rtol=tol, atol=tol * (np.abs(a).max() + 1e-300))


def _both(torch, fn, *arrays):
    """``fn(lib, *tensors)`` on both libraries from the same float64 arrays (all requiring grad):
    its outputs, and the inputs' gradients of their sum, agree."""
    outs, grads = [], []
    for lib in (torch, gg):
        xs = [_t(lib, a, grad=True) for a in arrays]
        out = fn(lib, *xs)
        out = out if isinstance(out, tuple) else (out,)
        sum(o.sum() for o in out if o.requires_grad).backward()
        outs.append(out)
        grads.append([x.grad for x in xs])
    for a, b in zip(*outs):
        _close(a, b)
    for a, b in zip(*grads):
        assert (a is None) == (b is None)
        if a is not None:
            _close(a, b)


# ---- minimind's MoE: top-k routing by index_add_, unused experts kept in the graph ------------------


def _moe(lib, x, gate_w, w1, w2, k=2, training=True):
    """(N, D) tokens through E experts ``w2[e] @ silu(w1[e] @ x)``, as minimind's MOEFeedForward."""
    F = lib.nn.functional
    scores = F.softmax(x @ gate_w.t(), dim=-1)  # (N, E)
    topk_weight, topk_idx = lib.topk(scores, k=k, dim=-1, sorted=False)
    topk_weight = topk_weight / (topk_weight.sum(dim=-1, keepdim=True) + 1e-20)
    y = lib.zeros_like(x)
    for i in range(gate_w.shape[0]):
        mask = topk_idx == i
        if mask.any():
            token_idx = mask.any(dim=-1).nonzero().flatten()
            weight = topk_weight[mask].view(-1, 1)
            h = F.silu(x[token_idx] @ w1[i].t()) @ w2[i].t()
            y.index_add_(0, token_idx, (h * weight).to(y.dtype))
        elif training:  # an expert no token chose still gets a (zero) gradient
            y[0, 0] += 0 * (w1[i].sum() + w2[i].sum())
    load = F.one_hot(topk_idx, gate_w.shape[0]).float().mean(0)
    aux = (load * scores.mean(0)).sum() * gate_w.shape[0] * 0.1
    return y, aux


def test_moe_routing_index_add_and_unused_experts(torch):
    rng = np.random.default_rng(RNG_SEED)
    x = rng.normal(size=(3, 6))
    gate = rng.normal(size=(8, 6))  # 8 experts, 3 tokens x 2 picks: some experts unused
    w1, w2 = rng.normal(size=(8, 5, 6)), rng.normal(size=(8, 6, 5))
    _both(torch, lambda lib, *a: _moe(lib, *a), x, gate, w1, w2)
    _both(torch, lambda lib, *a: _moe(lib, *a, k=1), x, gate, w1, w2)


def test_moe_unused_expert_gradient_is_zero_not_none(torch):
    rng = np.random.default_rng(RNG_SEED)
    x, gate = rng.normal(size=(1, 4)), rng.normal(size=(4, 4))
    w1, w2 = (_t(gg, rng.normal(size=s), grad=True) for s in ((4, 3, 4), (4, 4, 3)))
    y, aux = _moe(gg, _t(gg, x), _t(gg, gate), w1, w2, k=1)
    (y.sum() + aux).backward()
    chosen = int(gg.nn.functional.softmax(_t(gg, x) @ _t(gg, gate).t(), -1).argmax())
    unused = [e for e in range(4) if e != chosen]
    assert np.all(w1.grad.numpy()[unused] == 0) and np.any(w1.grad.numpy()[chosen] != 0)


# ---- RoPE with YaRN's ramp (minimind's precompute_freqs_cis) and rotate_half --------------------


def _yarn(lib, dim=16, end=96, base=1e4, orig=32, factor=4.0, fast=32.0, slow=1.0):
    freqs = 1.0 / (base ** (lib.arange(0, dim, 2, dtype=lib.float64)[: dim // 2] / dim))
    inv_dim = lambda b: (dim * math.log(orig / (b * 2 * math.pi))) / (2 * math.log(base))  # noqa: E731
    low, high = max(math.floor(inv_dim(fast)), 0), min(math.ceil(inv_dim(slow)), dim // 2 - 1)
    ramp = lib.clamp((lib.arange(dim // 2, dtype=lib.float64) - low) / max(high - low, 0.001), 0, 1)
    freqs = freqs * (1 - ramp + ramp / factor)
    f = lib.outer(lib.arange(end, dtype=lib.float64), freqs)
    return lib.cat([lib.cos(f), lib.cos(f)], dim=-1), lib.cat([lib.sin(f), lib.sin(f)], dim=-1)


def test_yarn_tables_and_rotate_half(torch):
    for a, b in zip(_yarn(torch), _yarn(gg)):
        _close(a, b)
    rng = np.random.default_rng(RNG_SEED)

    def rope(lib, q):
        cos, sin = _yarn(lib, end=5)

        def rotate_half(x):
            return lib.cat((-x[..., x.shape[-1] // 2 :], x[..., : x.shape[-1] // 2]), dim=-1)

        return (q * cos.unsqueeze(1)) + (rotate_half(q) * sin.unsqueeze(1))

    _both(torch, rope, rng.normal(size=(2, 5, 3, 16)))


# ---- minimind's generate: repetition penalty, top-k, top-p by sort/cumsum/scatter -----------------


def _process(lib, logits, input_ids, top_k=5, top_p=0.8, penalty=1.3):
    logits = logits.clone()
    for i in range(input_ids.shape[0]):
        seen = lib.unique(input_ids[i])
        score = logits[i, seen]
        logits[i, seen] = lib.where(score > 0, score / penalty, score * penalty)
    logits[logits < lib.topk(logits, top_k)[0][..., -1, None]] = -float("inf")
    sorted_logits, sorted_indices = lib.sort(logits, descending=True)
    mask = lib.cumsum(lib.softmax(sorted_logits, dim=-1), dim=-1) > top_p
    mask[..., 1:], mask[..., 0] = mask[..., :-1].clone(), 0
    logits[mask.scatter(1, sorted_indices, mask)] = -float("inf")
    return logits


def test_generate_logits_processing(torch):
    rng = np.random.default_rng(RNG_SEED)
    logits = rng.normal(size=(3, 20)) * 2
    ids = rng.integers(0, 20, size=(3, 7))
    a = _process(torch, _t(torch, logits), _t(torch, ids))
    b = _process(gg, _t(gg, logits), _t(gg, ids))
    np.testing.assert_array_equal(np.isinf(b.numpy()), np.isinf(a.numpy()))
    assert np.isinf(a.numpy()).any() and np.isfinite(a.numpy()).sum(axis=-1).min() >= 1
    _close(np.nan_to_num(a.numpy(), neginf=0.0), np.nan_to_num(b.numpy(), neginf=0.0))
    assert b.argmax(dim=-1, keepdim=True).tolist() == a.argmax(dim=-1, keepdim=True).tolist()


# ---- GRPO / CISPO and DPO losses, PPO's clipped value loss and GAE --------------------------------


def _grpo(lib, logits, ref_logits, cispo, n_gen=3, prompt=3):
    F = lib.nn.functional
    rng = np.random.default_rng(RNG_SEED)
    B, T = logits.shape[:2]
    outputs = _t(lib, rng.integers(3, logits.shape[-1], size=(B, T)))
    outputs[1, prompt + 1] = 2  # an eos inside the completion
    R = T - prompt
    logp_pos = _t(lib, np.full(B, prompt)).unsqueeze(1) - 1 + lib.arange(R).unsqueeze(0)
    tok = outputs[:, 1:].unsqueeze(-1)
    ptl = F.log_softmax(logits[:, :-1, :], dim=-1).gather(2, tok).squeeze(-1).gather(1, logp_pos)
    ref = F.log_softmax(ref_logits[:, :-1, :], dim=-1).gather(2, tok).squeeze(-1).gather(1, logp_pos)
    old = ptl.detach() + _t(lib, rng.normal(0, 0.1, size=(B, R)))
    rewards = _t(lib, rng.normal(size=B))
    grouped = rewards.view(-1, n_gen)
    mean_r = grouped.mean(dim=1).repeat_interleave(n_gen)
    std_r = grouped.std(dim=1, unbiased=False).repeat_interleave(n_gen)
    adv = (rewards - mean_r) / (std_r + 1e-4)
    is_eos = outputs[:, prompt:] == 2
    eos_idx = lib.full((B,), R - 1, dtype=lib.long)
    eos_idx[is_eos.any(dim=1)] = is_eos.int().argmax(dim=1)[is_eos.any(dim=1)]
    cm = (lib.arange(R).expand(B, -1) <= eos_idx.unsqueeze(1)).int()
    kl = ref - ptl
    per_kl = lib.exp(kl) - kl - 1
    ratio = lib.exp(ptl - old)
    if cispo:
        loss = -(lib.clamp(ratio, max=1.1).detach() * adv.unsqueeze(1) * ptl - 0.02 * per_kl)
    else:
        clipped = lib.clamp(ratio, 1 - 0.1, 1 + 0.1)
        loss = -(lib.min(ratio * adv.unsqueeze(1), clipped * adv.unsqueeze(1)) - 0.02 * per_kl)
    return ((loss * cm).sum(dim=1) / cm.sum(dim=1).clamp(min=1)).mean()


def test_grpo_and_cispo_losses(torch):
    rng = np.random.default_rng(RNG_SEED)
    logits, ref = rng.normal(size=(6, 8, 11)), rng.normal(size=(6, 8, 11))
    for cispo in (False, True):
        _both(torch, lambda lib, a, b, c=cispo: _grpo(lib, a, b.detach(), c), logits, ref)


def _dpo_distill(lib, logits, ref_logits, teacher):
    F = lib.nn.functional
    rng = np.random.default_rng(RNG_SEED)
    y = _t(lib, rng.integers(0, logits.shape[-1], size=logits.shape[:2]))
    mask = _t(lib, (rng.random(size=logits.shape[:2]) > 0.3).astype(np.int64))
    lp = lambda z: _gather_labels(lib, F.log_softmax(z, dim=2), y)  # noqa: E731
    pol, ref = (lp(logits) * mask).sum(dim=1), (lp(ref_logits.detach()) * mask).sum(dim=1)
    h = pol.shape[0] // 2
    dpo = -F.logsigmoid(0.1 * ((pol[:h] - pol[h:]) - (ref[:h] - ref[h:]))).mean()
    flat = mask.view(-1).float()
    s = logits.view(-1, logits.shape[-1])[flat == 1]
    with lib.no_grad():
        t = F.softmax(teacher.view(-1, teacher.shape[-1])[flat == 1] / 2.0, dim=-1)
    kd = 4.0 * F.kl_div(F.log_softmax(s / 2.0, dim=-1), t, reduction="batchmean")
    ce = F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1), reduction="none")
    ce = (ce * flat).sum() / (flat.sum() + 1e-8)
    return dpo, kd, ce


def _gather_labels(lib, log_probs, labels):
    return lib.gather(log_probs, dim=2, index=labels.unsqueeze(2)).squeeze(-1)


def test_dpo_distillation_losses(torch):
    rng = np.random.default_rng(RNG_SEED)
    shape = (4, 6, 9)
    _both(torch, _dpo_distill, *(rng.normal(size=shape) for _ in range(3)))


def _ppo(lib, values, old_values, rewards_tok, gamma=0.99, lam=0.95, clip=0.2):
    """PPO's GAE over a (B, R) response, the advantage whitening and the clipped value loss."""
    B, R = values.shape
    last, advs = lib.zeros(B, dtype=values.dtype), []
    for t in reversed(range(R)):
        nv = old_values[:, t + 1] if t < R - 1 else 0.0
        delta = rewards_tok[:, t] + gamma * nv - old_values[:, t]
        last = delta + gamma * lam * last
        advs.append(last)
    adv = lib.stack(advs[::-1], dim=1)
    returns = adv + old_values
    mean = adv.mean()
    adv = (adv - mean) * lib.rsqrt(((adv - mean) ** 2).mean() + 1e-8)
    lo, hi = old_values - clip, old_values + clip
    vloss = 0.5 * lib.max((values - returns) ** 2, (lib.clamp(values, lo, hi) - returns) ** 2).mean()
    return adv, vloss


def test_ppo_gae_and_clipped_value_loss(torch):
    rng = np.random.default_rng(RNG_SEED)
    v = rng.normal(size=(3, 5))
    _both(torch, _ppo, v, v + rng.normal(0, 0.3, size=v.shape), rng.normal(size=v.shape))


# ---- happy-llm's k_model: causal & key-padding bool mask into SDPA, left-padded rows ----------------


def test_padding_mask_sdpa_left_padded_rows(torch):
    rng = np.random.default_rng(RNG_SEED)
    keep = np.ones((2, 6), bool)
    keep[0, :2] = False  # left padding: the first queries of row 0 see no key at all

    def attend(lib, q, k, v):
        pad = _t(lib, keep)[:, None, None, :]
        causal = lib.ones((6, 6), dtype=lib.bool).tril()
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=causal[None, None] & pad)

    _both(torch, attend, *(rng.normal(size=(2, 3, 6, 4)) for _ in range(3)))
