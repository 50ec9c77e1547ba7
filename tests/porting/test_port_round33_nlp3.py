"""Round 33, NLP (Transformer-XL, Linformer, ELECTRA, Longformer): distilled repros.

The four programs agree with PyTorch; probing the API they lean on found one gap: reading ``.grad``
of a non-leaf tensor that keeps no gradient warns in PyTorch (the value is None whatever backward
does) and was silent here. The other tests pin what the programs rely on: Linformer's reversible
blocks read ``.grad`` of leaves made under ``no_grad``; Longformer's overlapping ``as_strided``
chunks and writes into ``new_empty``; Transformer-XL's relative shift, float32 masking round trip
and adaptive softmax with a 0-d index from ``nonzero().squeeze()``; ELECTRA's mask sampling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

NONLEAF = "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed"


def _grad_warnings(mod, read):
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        read(mod)
    return [str(w.message) for w in ws if issubclass(w.category, UserWarning)]


def test_nonleaf_grad_read_warns_as_torch(torch):
    for mod in (torch, gg):
        x = mod.ones(3, requires_grad=True)
        y = x * 2
        msgs = _grad_warnings(mod, lambda m, y=y: y.grad)
        assert len(msgs) == 1 and msgs[0].startswith(NONLEAF), (mod.__name__, msgs)
        y.retain_grad()
        assert y.grad is None  # retained but not yet computed: quiet
    msg = _grad_warnings(gg, lambda m: (gg.ones(2, requires_grad=True) * 3).grad)[0]
    assert "MulBackward0" in msg and "retain_grad()" in msg  # names the op and the way out


def test_no_warning_for_leaves_retained_or_assigned(torch):
    for mod in (torch, gg):
        x = mod.ones(3, requires_grad=True)
        kept = x * 2
        kept.retain_grad()
        given = x * 3
        given.grad = mod.ones(3)
        (kept.sum() + given.sum()).backward()
        plain = mod.ones(2) * 2  # a leaf: made from no tensor that requires grad
        msgs = _grad_warnings(mod, lambda m: (x.grad, kept.grad, given.grad, plain.grad))
        assert msgs == [], (mod.__name__, msgs)
        np.testing.assert_allclose(kept.grad.numpy(), [1.0, 1.0, 1.0])


def test_reversible_block_backward_reads_leaf_grads(torch):
    """Linformer's ReversibleBlock.backward_pass: outputs made under no_grad become leaves that
    require grad; their .grad is read after torch.autograd.backward (no warning)."""
    rng = np.random.RandomState(0)
    w = rng.randn(4, 4)
    y_np, dy_np = rng.randn(2, 4), rng.randn(2, 4)
    out = {}
    for mod in (torch, gg):
        lin = mod.tensor(w)
        with mod.no_grad():
            y1 = mod.tensor(y_np) * 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with mod.enable_grad():
                y1.requires_grad = True
                gy1 = mod.tanh(y1 @ lin)
                mod.autograd.backward(gy1, mod.tensor(dy_np))
            with mod.no_grad():
                out[mod.__name__] = (y1.grad + 1.0).numpy()
                y1.grad = None
    np.testing.assert_allclose(out["glassgrad"], out["torch"], rtol=1e-12)


def test_module_cast_with_nonleaf_buffer_is_quiet():
    class WithDerived(gg.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = gg.nn.Parameter(gg.ones(2))
            self.register_buffer("derived", self.w * 2)  # a non-leaf buffer

    m = WithDerived()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.double()
    assert m.derived.dtype == gg.float64


def _chunk(mod, x, w):
    x = x.view(x.size(0), x.size(1) // (w * 2), w * 2, x.size(2))
    size = list(x.size())
    size[1] = size[1] * 2 - 1
    stride = list(x.stride())
    stride[1] = stride[1] // 2
    return x.as_strided(size=size, stride=stride)


def test_longformer_overlapping_chunks_match_torch(torch):
    """sliding_chunks_matmul_qk's core: overlapping as_strided chunks, a skew by pad + view, and
    pieces written into new_empty, then masked_fill_ through a slice; float64 values and grads."""
    rng = np.random.RandomState(1)
    q_np, k_np, up = rng.randn(2, 8, 3), rng.randn(2, 8, 3), rng.randn(2, 4, 2, 5)
    res = {}
    for mod in (torch, gg):
        q = mod.tensor(q_np, requires_grad=True)
        k = mod.tensor(k_np, requires_grad=True)
        w = 2
        a = mod.einsum("bcxd,bcyd->bcxy", (_chunk(mod, q, w), _chunk(mod, k, w)))
        padded = mod.nn.functional.pad(a, (0, 0, 0, 1), value=0.0)
        skew = padded.view(*padded.size()[:-2], padded.size(-1), padded.size(-2))
        d = skew.new_empty((2, 4, w, 2 * w + 1))
        d[:, :-1, :, w:] = skew[:, :, :w, : w + 1]
        d[:, -1, :, w:] = skew[:, -1, w:, : w + 1]
        d[:, 1:, :, :w] = skew[:, :, -(w + 1) : -1, w + 1 :]
        d[:, 0, 1:w, 1:w] = skew[:, 0, : w - 1, 1 - w :]
        d[:, 0, :, :w].masked_fill_(mod.tensor([[True, True], [True, False]]), -1e4)
        (d * mod.tensor(up)).sum().backward()
        res[mod.__name__] = (d.detach().numpy(), q.grad.numpy(), k.grad.numpy())
    for got, want in zip(res["glassgrad"], res["torch"], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_transformer_xl_rel_shift_and_float_mask_round_trip(torch):
    rng = np.random.RandomState(2)
    x_np, up = rng.randn(3, 5, 2, 2), rng.randn(3, 5, 2, 2)
    res = {}
    for mod in (torch, gg):
        x = mod.tensor(x_np, requires_grad=True)
        zero_pad = mod.zeros((x.size(0), 1, *x.size()[2:]), dtype=x.dtype)
        xp = mod.cat([zero_pad, x], dim=1).view(x.size(1) + 1, x.size(0), *x.size()[2:])
        s = xp[1:].view_as(x)
        mask = mod.triu(mod.ones(3, 5), diagonal=1 + 2).bool()[:, :, None]
        s = s.float().masked_fill(mask[:, :, :, None], -float("inf")).type_as(s)
        p = mod.softmax(s, dim=1)
        (p * mod.tensor(up)).sum().backward()
        res[mod.__name__] = (p.dtype == mod.float64, p.detach().numpy(), x.grad.numpy())
    assert res["glassgrad"][0] and res["torch"][0]
    np.testing.assert_allclose(res["glassgrad"][1], res["torch"][1], rtol=1e-12)
    np.testing.assert_allclose(res["glassgrad"][2], res["torch"][2], rtol=1e-12, atol=1e-15)


def test_adaptive_softmax_single_index_cluster(torch):
    """ProjectedAdaptiveLogSoftmax: a cluster hit by one target gives a 0-d index from
    nonzero().squeeze(); index_select and index_copy_ (keep_order) take it as one row."""
    rng = np.random.RandomState(3)
    h_np = rng.randn(4, 6)
    res = {}
    for mod in (torch, gg):
        target = mod.tensor([0, 5, 1, 2])
        hidden = mod.tensor(h_np, requires_grad=True)
        mask = (target >= 4) & (target < 8)
        idx = mask.nonzero().squeeze()
        rows = hidden.index_select(0, idx)
        nll = mod.zeros_like(target, dtype=hidden.dtype)
        nll.index_copy_(0, idx, rows.sum(-1, keepdim=False).reshape(-1))
        lp = mod.nn.functional.log_softmax(hidden, dim=1).gather(1, target[:, None]).squeeze(1)
        (nll + lp).sum().backward()
        res[mod.__name__] = (tuple(idx.shape), tuple(rows.shape), nll.detach().numpy(), hidden.grad.numpy())
    assert res["glassgrad"][:2] == res["torch"][:2] == ((), (1, 6))
    np.testing.assert_allclose(res["glassgrad"][2], res["torch"][2], rtol=1e-12)
    np.testing.assert_allclose(res["glassgrad"][3], res["torch"][3], rtol=1e-12)


def test_electra_mask_subset_sampling(torch):
    """get_mask_subset_with_prob with a fixed draw: masked_fill of excluded tokens, topk,
    masked_fill_ of the excess and scatter_ into a (batch, seq_len + 1) buffer."""
    rng = np.random.RandomState(4)
    ids = rng.randint(0, 6, size=(3, 9))
    draw = rng.rand(3, 9)
    out = {}
    for mod in (torch, gg):
        t = mod.tensor(ids)
        no_mask = mod.full_like(t, False, dtype=mod.bool) | (t == 0) | (t == 1)
        mask = ~no_mask
        prob, max_masked = 0.3, 3
        num = mask.sum(dim=-1, keepdim=True)
        excess = (mask.cumsum(dim=-1) > (num * prob).ceil())[:, :max_masked]
        rand = mod.tensor(draw).masked_fill(~mask, -1e9)
        _, picked = rand.topk(max_masked, dim=-1)
        picked = (picked + 1).masked_fill_(excess, 0)
        new = mod.zeros((3, 10))
        new.scatter_(-1, picked, 1)
        out[mod.__name__] = new[:, 1:].bool().numpy()
    np.testing.assert_array_equal(out["glassgrad"], out["torch"])


def test_uint8_attention_mask_refused_in_both(torch):
    """Transformer-XL's original `.byte()` masks: masked_fill needs a bool mask in both."""
    with pytest.raises(RuntimeError):
        torch.zeros(2, 3).masked_fill(torch.ones(2, 3).byte(), 1.0)
    with pytest.raises(RuntimeError, match=r"masked_fill.*bool mask.*uint8"):
        gg.zeros(2, 3).masked_fill(gg.ones(2, 3).byte(), 1.0)
