"""Round 58, LLM systems: pytorch/torchtitan (llama3, deepseek_v3 with MoE) and suno-ai/bark.

torchtitan's ``models/attention.py`` imports ``torch.nn.attention.varlen.varlen_attn`` and the
private ``_mask_mod_signature``/``_score_mod_signature`` of ``flex_attention`` at import time, so
no torchtitan model imported on glassgrad. Both now exist; ``varlen_attn`` (a CUDA-only flash
kernel in PyTorch) is computed through ``flex_attention`` with a mask built from the cumulative
sequence lengths. torchtitan's router counts int64 expert ids with ``torch.histc``, which PyTorch's
CPU build refuses with ``NotImplementedError``; glassgrad raised a ``DTypeError`` that an
``except NotImplementedError`` would not catch, and now raises a ``KernelDTypeError`` (both).

The tests are written fresh: varlen attention against PyTorch's per-sequence SDPA in float64 with
gradients, the error parity, and the MoE routing pattern (top-k of sigmoid scores, token counts,
stable sort, unsort by index assignment, score-weighted combine) against PyTorch.
"""

from __future__ import annotations

import importlib
import typing

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.nn.attention_varlen import AuxRequest, varlen_attn, varlen_attn_out

# ---- flex_attention's private signature names ---------------------------------------------------


def test_flex_attention_signature_names_import_as_torch(torch):
    for lib in (torch, gg):
        fa = importlib.import_module(lib.__name__ + ".nn.attention.flex_attention")
        assert typing.get_args(fa._mask_mod_signature) == ([lib.Tensor] * 4, lib.Tensor)
        assert typing.get_args(fa._score_mod_signature) == ([lib.Tensor] * 5, lib.Tensor)


# ---- varlen_attn ---------------------------------------------------------------------------------


def _reference(torch, q, k, v, cu_q, cu_k, window, scale, w):
    """PyTorch's SDPA per sequence, with flash attention's bottom-right window, in float64."""
    F = torch.nn.functional
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    groups = q.shape[1] // k.shape[1]
    outs, lses = [], []
    for n in range(len(cu_q) - 1):
        qs = tq[cu_q[n] : cu_q[n + 1]].transpose(0, 1)  # (Hq, Lq, D)
        ks, vs = (t[cu_k[n] : cu_k[n + 1]].transpose(0, 1).repeat_interleave(groups, 0) for t in (tk, tv))
        lq, lk = qs.shape[1], ks.shape[1]
        pos = torch.arange(lq)[:, None] + lk - lq
        j = torch.arange(lk)[None]
        allowed = torch.ones(lq, lk, dtype=torch.bool)
        if window[0] >= 0:
            allowed &= j >= pos - window[0]
        if window[1] >= 0:
            allowed &= j <= pos + window[1]
        out = F.scaled_dot_product_attention(qs, ks, vs, attn_mask=allowed, scale=scale)
        scores = (qs @ ks.transpose(-1, -2) * scale).masked_fill(~allowed, float("-inf"))
        outs.append(out.transpose(0, 1))
        lses.append(scores.logsumexp(-1))
    out = torch.cat(outs)
    (out * torch.tensor(w)).sum().backward()
    grads = [t.grad.numpy() for t in (tq, tk, tv)]
    return out.detach().numpy(), torch.cat(lses, 1).detach().numpy(), grads


@pytest.mark.parametrize("window", [(-1, -1), (-1, 0), (1, 0), (2, 1), (0, -1)])
def test_varlen_attn_is_per_sequence_attention_as_torch(torch, window):
    rng = np.random.default_rng(0)
    lens_q, lens_k = [3, 5, 1], [4, 5, 2]
    cu_q, cu_k = np.cumsum([0, *lens_q]), np.cumsum([0, *lens_k])
    q = rng.standard_normal((cu_q[-1], 4, 6))
    k, v = rng.standard_normal((cu_k[-1], 2, 6)), rng.standard_normal((cu_k[-1], 2, 5))
    w = rng.standard_normal((cu_q[-1], 4, 5))
    want, want_lse, want_grads = _reference(torch, q, k, v, cu_q, cu_k, window, 0.3, w)
    gq, gk, gv = (gg.tensor(a, requires_grad=True) for a in (q, k, v))
    out, lse = varlen_attn(
        gq, gk, gv, gg.tensor(cu_q, dtype=gg.int32), gg.tensor(cu_k, dtype=gg.int32), 5, 5,
        return_aux=AuxRequest(lse=True), scale=0.3, window_size=window, enable_gqa=True,
    )  # fmt: skip
    (out * gg.tensor(w)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12, atol=1e-13)
    assert tuple(lse.shape) == (4, cu_q[-1])  # (Hq, T_q), as the kernel's
    np.testing.assert_allclose(lse.detach().numpy(), want_lse, rtol=1e-12, atol=1e-13)
    for got, ref in zip((gq, gk, gv), want_grads, strict=True):
        np.testing.assert_allclose(got.grad.numpy(), ref, rtol=1e-11, atol=1e-12)


def test_varlen_attn_packed_documents_as_torchtitan_block_causal(torch):
    """torchtitan's VarlenAttentionWrapper: (B, H, S, D) packed to (B*S, H, D), causal per document,
    the output .view()ed straight back to (B, S, H*D); PyTorch's reference is one SDPA per row with
    a block-causal mask."""
    rng = np.random.default_rng(1)
    B, H, S, D = 2, 2, 6, 4
    x = rng.standard_normal((3, B, H, S, D))
    docs = [[0, 2, 6], [0, 5, 6]]  # each row: document boundaries
    cu = np.array([0, 2, 6, 11, 12])
    seg = np.array([np.searchsorted(d[1:], np.arange(S), side="right") for d in docs])  # (B, S)
    mask = (seg[:, :, None] == seg[:, None, :]) & np.tril(np.ones((S, S), bool))  # (B, S, S)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in x)
    want = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(mask)[:, None])
    want = want.transpose(1, 2).reshape(B, S, H * D)
    want.pow(2).sum().backward()
    gq, gk, gv = (gg.tensor(a, requires_grad=True) for a in x)
    packed = [t.transpose(1, 2).flatten(0, 1) for t in (gq, gk, gv)]  # (B*S, H, D)
    cu_t = gg.tensor(cu, dtype=gg.int32)
    out = varlen_attn(*packed, cu_t, cu_t, 4, 4, window_size=(-1, 0)).view(B, S, -1)
    out.pow(2).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-13)
    for got, ref in zip((gq, gk, gv), (tq, tk, tv), strict=True):
        np.testing.assert_allclose(got.grad.numpy(), ref.grad.numpy(), rtol=1e-11, atol=1e-12)


def test_varlen_attn_queries_without_keys_get_zeros_and_inf_lse():
    """Causal with more queries than keys (bottom-right aligned): the first queries see no key; a
    row past the last sequence sees none either. Flash attention gives them 0 and an lse of +inf."""
    rng = np.random.default_rng(2)
    q, k = gg.tensor(rng.standard_normal((5, 1, 3))), gg.tensor(rng.standard_normal((2, 1, 3)))
    cu_q, cu_k = gg.tensor([0, 4], dtype=gg.int32), gg.tensor([0, 2], dtype=gg.int32)
    out, lse = varlen_attn(q, k, k, cu_q, cu_k, 4, 2, window_size=(-1, 0), return_aux=AuxRequest(lse=True))
    np.testing.assert_array_equal(out.numpy()[[0, 1, 4]], 0.0)
    assert np.isposinf(lse.numpy()[0, [0, 1, 4]]).all() and np.isfinite(lse.numpy()[0, [2, 3]]).all()
    # query 2 sees key 0 alone: its output is that key's value
    np.testing.assert_allclose(out.numpy()[2], k.numpy()[0])


def test_varlen_attn_seqused_k_is_attention_to_the_first_keys():
    """``seqused_k`` (a KV cache larger than its contents): the same as packing only the used keys."""
    rng = np.random.default_rng(5)
    q, k = gg.tensor(rng.standard_normal((3, 2, 4))), gg.tensor(rng.standard_normal((9, 2, 4)))
    cu_q, cu_k = gg.tensor([0, 1, 3], dtype=gg.int32), gg.tensor([0, 4, 9], dtype=gg.int32)
    used = gg.tensor([2, 3], dtype=gg.int32)
    got = varlen_attn(q, k, k, cu_q, cu_k, 2, 5, window_size=(-1, 0), seqused_k=used)
    kept = k[[0, 1, 4, 5, 6]]
    want = varlen_attn(q, kept, kept, cu_q, gg.tensor([0, 2, 5], dtype=gg.int32), 2, 3, window_size=(-1, 0))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-14, atol=1e-15)  # other matmul sizes


def test_varlen_attn_out_writes_into_out():
    rng = np.random.default_rng(3)
    q = gg.tensor(rng.standard_normal((4, 2, 3)))
    cu = gg.tensor([0, 1, 4], dtype=gg.int32)
    out = gg.empty(4, 2, 3, dtype=gg.float64)
    assert varlen_attn_out(out, q, q, q, cu, cu, 3, 3) is out
    np.testing.assert_array_equal(out.numpy(), varlen_attn(q, q, q, cu, cu, 3, 3).numpy())


def test_varlen_attn_head_errors_as_torch(torch):
    """PyTorch checks the heads in Python before its (CUDA-only) kernel: the same ValueErrors."""
    for lib in (torch, gg):
        va = importlib.import_module(lib.__name__ + ".nn.attention.varlen").varlen_attn
        cu = lib.tensor([0, 3], dtype=lib.int32)
        q, k = lib.zeros(3, 4, 2), lib.zeros(3, 3, 2)
        with pytest.raises(ValueError, match=r"same number of heads but got Hq=4 and Hkv=3\. Try setting"):
            va(q, k, k, cu, cu, 3, 3)
        with pytest.raises(ValueError, match=r"multiple of kv heads for GQA but got Hq=4 and Hkv=3\.$"):
            va(q, k, k, cu, cu, 3, 3, enable_gqa=True)


def test_varlen_attn_refuses_bad_offsets():
    q = gg.zeros(3, 1, 2)
    with pytest.raises(gg.errors.DTypeError, match="varlen_attn: expected cu_seq_q a 1-D integer tensor"):
        varlen_attn(q, q, q, gg.tensor([0.0, 3.0]), None, 3, 3)
    with pytest.raises(gg.errors.ShapeError, match=r"cu_seq_k to rise from 0 to at most the 3 .* \[0, 4\]"):
        varlen_attn(q, q, q, gg.tensor([0, 3]), gg.tensor([0, 4]), 3, 3)
    with pytest.raises(NotImplementedError, match="block_table"):
        varlen_attn(q, q, q, gg.tensor([0, 3]), None, 3, 3, block_table=gg.zeros(1, 1, dtype=gg.int32))


# ---- histc / histogram / histogramdd of inputs their kernels do not take -----------------------

_NO_KERNEL = [
    ("histc", "int64", lambda lib, x: lib.histc(x, bins=4, min=0, max=4)),
    ("histc", "int32", lambda lib, x: x.histc(bins=4, min=0, max=4)),
    ("histc", "uint8", lambda lib, x: lib.histc(x, bins=4)),
    ("histc", "bool", lambda lib, x: lib.histc(x, bins=4)),
    ("histogram", "int64", lambda lib, x: lib.histogram(x, bins=3)),
    ("histogram", "float16", lambda lib, x: lib.histogram(x, bins=3)),
    ("histogramdd", "int64", lambda lib, x: lib.histogramdd(x.reshape(-1, 1), bins=3)),
]


@pytest.mark.parametrize(("op", "dtype", "call"), _NO_KERNEL, ids=[f"{o}-{d}" for o, d, _ in _NO_KERNEL])
def test_histogram_ops_raise_not_implemented_as_torch(torch, op, dtype, call):
    """torchtitan's router calls histc on int64 expert ids (CUDA has that kernel, the CPU not)."""
    messages = []
    for lib in (torch, gg):
        x = lib.tensor([0, 1, 3, 3, 2]).to(getattr(lib, dtype))
        with pytest.raises(NotImplementedError) as info:
            call(lib, x)
        messages.append(str(info.value))
    assert messages[1] == f"{op}: {messages[0]}"
    with pytest.raises(gg.errors.DTypeError):  # glassgrad's own dtype refusals still catch it
        call(gg, gg.tensor([0, 1]).to(getattr(gg, dtype)))


# ---- the MoE routing pattern ---------------------------------------------------------------------


def _moe(lib, x, gate, w_up, w_down, top_k):
    """Token-choice top-k routing: sigmoid scores, top-k (unsorted), token counts per expert, tokens
    sorted by expert (stable), experts run per group, outputs unsorted by index assignment and
    combined with the scores through bmm; the counts under no_grad, as a load-balance buffer."""
    n, dim = x.shape
    n_exp = w_up.shape[0]
    scores = lib.sigmoid(x @ gate.t())  # (N, E)
    _, chosen = lib.topk(scores, k=top_k, dim=-1, sorted=False)  # (N, K)
    top = scores.gather(1, chosen)
    top = top / (top.sum(-1, keepdim=True) + 1e-20)
    with lib.no_grad():
        counts = lib.histc(chosen.view(-1).double(), bins=n_exp, min=0, max=n_exp)
    order = lib.argsort(chosen.view(-1), stable=True)
    routed = x[order // top_k]  # (N*K, dim)
    outs = [
        lib.nn.functional.silu(part @ w_up[e].t()) @ w_down[e].t()
        for e, part in enumerate(lib.split(routed, counts.long().tolist()))
    ]
    unsorted = lib.zeros(n * top_k, dim, dtype=x.dtype)
    unsorted[order] = lib.cat(outs)
    out = lib.bmm(top.reshape(-1, 1, top_k), unsorted.reshape(-1, top_k, dim)).squeeze(1)
    return out, counts


def test_moe_routing_pattern_as_torch(torch):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in [(12, 6), (4, 6), (4, 5, 6), (4, 6, 5)]]
    results = []
    for lib in (torch, gg):
        leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
        out, counts = _moe(lib, *leaves, top_k=2)
        (out * lib.tensor(arrays[0])).sum().backward()
        results.append([out.detach().numpy(), counts.numpy()] + [t.grad.numpy() for t in leaves])
    for got, want in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
