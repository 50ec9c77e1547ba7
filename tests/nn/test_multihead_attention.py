"""nn.MultiheadAttention against PyTorch (weights through state_dict; outputs, weights and all gradients)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.autograd import gradcheck
from glassgrad.errors import ShapeError

RNG = np.random.default_rng(1)


def randn(*shape: int, dtype=np.float32) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def _tt(torch, a):
    return None if a is None else torch.tensor(a)


def _gt(a):
    return None if a is None else gg.tensor(a)


def mha_parity(torch, ours, theirs, q, k, v, atol=2e-5, same=None, **kw):
    """Copy weights, run both, compare output, weights and every gradient."""
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({n: t.detach().numpy() for n, t in theirs.state_dict().items()})
    masks = {n: kw.pop(n) for n in ("key_padding_mask", "attn_mask") if n in kw}
    gq = gg.tensor(q, requires_grad=True)
    tq = torch.tensor(q, requires_grad=True)
    if same == "self":
        gk = gv = gq
        tk = tv = tq
    else:
        gk, gv = gg.tensor(k, requires_grad=True), gg.tensor(v, requires_grad=True)
        tk, tv = torch.tensor(k, requires_grad=True), torch.tensor(v, requires_grad=True)
    out, w = ours(gq, gk, gv, **{n: _gt(m) for n, m in masks.items()}, **kw)
    tout, tw = theirs(tq, tk, tv, **{n: _tt(torch, m) for n, m in masks.items()}, **kw)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=atol, rtol=1e-4)
    if tw is None:
        assert w is None
    else:
        np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), atol=atol, rtol=1e-4)
    up = randn(*out.shape)
    loss, tloss = (out * gg.tensor(up)).sum(), (tout * torch.tensor(up)).sum()
    if tw is not None:
        upw = randn(*w.shape)
        loss, tloss = loss + (w * gg.tensor(upw)).sum(), tloss + (tw * torch.tensor(upw)).sum()
    loss.backward()
    tloss.backward()
    for g, t in ((gq, tq), (gk, tk), (gv, tv)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), atol=atol, rtol=1e-4)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), tparams[name].grad.numpy(), atol=atol, rtol=1e-4, err_msg=name
        )


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("average", [True, False])
def test_self_attention_matches_torch(torch, batch_first, average):
    kw = dict(batch_first=batch_first)
    x = randn(3, 5, 8)
    mha_parity(
        torch, nn.MultiheadAttention(8, 2, **kw), torch.nn.MultiheadAttention(8, 2, **kw), x, x, x,
        same="self", average_attn_weights=average,
    )  # fmt: skip


@pytest.mark.parametrize("batch_first", [False, True])
def test_cross_attention_with_masks_matches_torch(torch, batch_first):
    L, S, N = 4, 6, 3
    q = randn(N, L, 8) if batch_first else randn(L, N, 8)
    mem = randn(N, S, 8) if batch_first else randn(S, N, 8)
    kpm = np.zeros((N, S), bool)
    kpm[1, 4:] = True
    attn = RNG.random((L, S)) > 0.7
    attn[:, 0] = False
    for ours_kw in (
        {"key_padding_mask": kpm},
        {"attn_mask": attn},
        {"key_padding_mask": kpm, "attn_mask": attn},
    ):
        ours, theirs = (
            nn.MultiheadAttention(8, 4, batch_first=batch_first),
            torch.nn.MultiheadAttention(8, 4, batch_first=batch_first),
        )
        mha_parity(torch, ours, theirs, q, mem, mem, **dict(ours_kw))


def test_float_masks_and_per_head_masks_match_torch(torch):
    q, k, v = randn(2, 3, 8), randn(2, 5, 8), randn(2, 5, 8)
    fm = randn(3, 5)
    per_head = randn(2 * 2, 3, 5)
    fkpm = np.where(RNG.random((2, 5)) > 0.8, -np.inf, 0.0).astype(np.float32)
    fkpm[:, 0] = 0.0
    for kw in ({"attn_mask": fm}, {"attn_mask": per_head}, {"key_padding_mask": fkpm, "attn_mask": fm}):
        mha_parity(
            torch, nn.MultiheadAttention(8, 2, batch_first=True), torch.nn.MultiheadAttention(8, 2, batch_first=True),
            q, k, v, **dict(kw),
        )  # fmt: skip


def test_kdim_vdim_bias_kv_zero_attn_no_bias_match_torch(torch):
    kw = dict(kdim=6, vdim=5, add_bias_kv=True, add_zero_attn=True, batch_first=True)
    q, k, v = randn(2, 3, 8), randn(2, 4, 6), randn(2, 4, 5)
    kpm = np.zeros((2, 4), bool)
    kpm[0, 3] = True
    mha_parity(torch, nn.MultiheadAttention(8, 2, **kw), torch.nn.MultiheadAttention(8, 2, **kw), q, k, v,
               key_padding_mask=kpm, attn_mask=RNG.random((3, 4)) > 0.8)  # fmt: skip
    kw = dict(bias=False, batch_first=True)
    mha_parity(torch, nn.MultiheadAttention(8, 4, **kw), torch.nn.MultiheadAttention(8, 4, **kw), q, randn(2, 4, 8),
               randn(2, 4, 8), need_weights=False)  # fmt: skip


def test_unbatched_and_causal_match_torch(torch):
    x = randn(5, 8)
    causal = ~np.tril(np.ones((5, 5), bool))
    mha_parity(torch, nn.MultiheadAttention(8, 2), torch.nn.MultiheadAttention(8, 2), x, x, x, same="self",
               attn_mask=causal, is_causal=True, key_padding_mask=np.array([False] * 4 + [True]))  # fmt: skip


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_is_causal_without_mask_raises_as_pytorch(torch, lib_name):
    """``is_causal`` is a hint about the mask given: without one PyTorch raises (outside its
    inference fast path; tests/nn/test_attention_round59.py has that case)."""
    lib = torch if lib_name == "torch" else gg
    mha = lib.nn.MultiheadAttention(8, 2, batch_first=True)
    x = lib.tensor(randn(2, 5, 8))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)


def test_parameter_count_head_dim_and_init():
    mha = nn.MultiheadAttention(768, 12)
    assert sum(p.numel() for p in mha.parameters()) == 4 * 768 * 768 + 4 * 768
    assert mha.head_dim == 64
    assert list(mha.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert not mha.in_proj_bias.detach().numpy().any() and not mha.out_proj.bias.detach().numpy().any()
    bound = np.sqrt(6 / (768 + 3 * 768))  # xavier_uniform on the (3E, E) in_proj_weight
    w = mha.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound


def test_fully_masked_query_gives_zeros_without_weights():
    """Through SDPA (``need_weights=False``) PyTorch gives 0 for a query with no key and passes
    it no gradient; with the weights it gives NaN (tests/nn/test_attention_round59.py)."""
    mha = nn.MultiheadAttention(4, 2, batch_first=True, bias=False)
    x = gg.tensor(randn(2, 3, 4), requires_grad=True)
    kpm = gg.tensor([[False, False, False], [True, True, True]])
    out, w = mha(x, x, x, key_padding_mask=kpm, need_weights=False)
    assert w is None and np.isfinite(out.detach().numpy()).all() and not out.detach().numpy()[1].any()
    out.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_gradcheck_float64():
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=gg.float64)
    q, k = (
        gg.tensor(randn(2, 3, 4, dtype=np.float64), requires_grad=True),
        gg.tensor(randn(2, 5, 4, dtype=np.float64), requires_grad=True),
    )
    kpm = gg.tensor(np.array([[False] * 5, [False, False, False, True, True]]))
    assert gradcheck(lambda q, k: mha(q, k, k, key_padding_mask=kpm)[0], (q, k))


def test_errors():
    with pytest.raises(ValueError, match="embed_dim divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2)
    with pytest.raises(ShapeError, match=r"expected query \(\.\.\., 8\)"):
        mha(gg.zeros(3, 2, 6), gg.zeros(3, 2, 6), gg.zeros(3, 2, 6))
    with pytest.raises(ShapeError, match="attn_mask of shape"):
        mha(gg.zeros(3, 2, 8), gg.zeros(4, 2, 8), gg.zeros(4, 2, 8), attn_mask=gg.zeros(3, 3))


def test_causal_hint_without_weights_replaces_the_mask_as_pytorch(torch):
    """With ``is_causal=True``, no padding mask and ``need_weights=False`` PyTorch gives SDPA the
    hint instead of the mask: the top-left triangle over every key column, so bias_k's and the
    zero column (after the real keys) are masked too, where the given mask, padded, allows them.
    Found by a module fuzz (add_bias_kv, add_zero_attn, a causal float mask)."""
    E, L = 4, 4
    for need_weights in (False, True):
        torch.manual_seed(0)
        theirs = torch.nn.MultiheadAttention(
            E, 2, add_bias_kv=True, add_zero_attn=True, batch_first=True
        ).double()
        ours = gg.nn.MultiheadAttention(
            E, 2, add_bias_kv=True, add_zero_attn=True, batch_first=True, dtype=gg.float64
        )
        ours.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
        x = np.random.default_rng(0).standard_normal((2, L, E))
        tm = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)
        gm = gg.nn.Transformer.generate_square_subsequent_mask(L, dtype=gg.float64)
        a = theirs(*[torch.tensor(x)] * 3, attn_mask=tm, need_weights=need_weights, is_causal=True)[0]
        b = ours(*[gg.tensor(x)] * 3, attn_mask=gm, need_weights=need_weights, is_causal=True)[0]
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12, atol=1e-14)
