"""Transformer layers, stacks and nn.Transformer against PyTorch, with state_dicts loaded from torch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F

RNG = np.random.default_rng(2)


def randn(*shape: int, dtype=np.float32) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def _convert(torch, a, lib):
    if a is None or isinstance(a, bool):
        return a
    return gg.tensor(a) if lib == "gg" else torch.tensor(a)


def parity(torch, ours, theirs, inputs, atol=1e-4, **masks):
    """Copy torch's weights through state_dict, run both (eval: no dropout), compare output and every gradient."""
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        for p in theirs.parameters():  # non-default LayerNorm weights and biases too
            p.add_(0.1 * torch.randn_like(p))
    ours.load_state_dict({n: t.detach().numpy() for n, t in theirs.state_dict().items()})
    ours.eval()
    theirs.eval()
    g_in = [gg.tensor(a, requires_grad=True) for a in inputs]
    t_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    out = ours(*g_in, **{k: _convert(torch, m, "gg") for k, m in masks.items()})
    tout = theirs(*t_in, **{k: _convert(torch, m, "torch") for k, m in masks.items()})
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=atol, rtol=1e-4)
    up = randn(*out.shape)
    out.backward(gg.tensor(up))
    tout.backward(torch.tensor(up))
    for g, t in zip(g_in, t_in):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), atol=atol, rtol=1e-3)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), tparams[name].grad.numpy(), atol=atol, rtol=1e-3, err_msg=name
        )


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(torch, norm_first, batch_first, activation):
    kw = dict(dim_feedforward=16, norm_first=norm_first, batch_first=batch_first, activation=activation)
    x = randn(3, 5, 8)
    N, L = (3, 5) if batch_first else (5, 3)
    kpm = np.zeros((N, L), bool)
    kpm[0, -1] = True
    parity(torch, nn.TransformerEncoderLayer(8, 2, **kw), torch.nn.TransformerEncoderLayer(8, 2, **kw), [x],
           src_key_padding_mask=kpm, src_mask=np.triu(np.ones((L, L), bool), 1))  # fmt: skip


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_matches_torch(torch, norm_first, batch_first):
    kw = dict(dim_feedforward=16, norm_first=norm_first, batch_first=batch_first)
    tgt, mem = (randn(2, 4, 8), randn(2, 6, 8)) if batch_first else (randn(4, 2, 8), randn(6, 2, 8))
    mkpm = np.zeros((2, 6), bool)
    mkpm[1, 4:] = True
    parity(torch, nn.TransformerDecoderLayer(8, 2, **kw), torch.nn.TransformerDecoderLayer(8, 2, **kw), [tgt, mem],
           tgt_mask=nn.Transformer.generate_square_subsequent_mask(4).numpy(), memory_key_padding_mask=mkpm)  # fmt: skip


def test_stacks_with_activation_callable_and_no_bias_match_torch(torch):
    kw = dict(dim_feedforward=12, batch_first=True, bias=False)
    enc = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 4, activation=F.gelu, **kw), 2, nn.LayerNorm(8, bias=False)
    )
    tenc = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 4, activation=torch.nn.functional.gelu, **kw), 2,
        torch.nn.LayerNorm(8, bias=False), enable_nested_tensor=False,
    )  # fmt: skip
    parity(torch, enc, tenc, [randn(2, 5, 8)], is_causal=True, mask=np.triu(np.ones((5, 5), bool), 1))
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 4, **kw), 2)
    tdec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 4, **kw), 2)
    parity(torch, dec, tdec, [randn(2, 3, 8), randn(2, 5, 8)], tgt_is_causal=True,
           tgt_mask=np.triu(np.ones((3, 3), bool), 1))  # fmt: skip


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's note about its fast path
@pytest.mark.parametrize("norm_first", [False, True])
def test_full_transformer_matches_torch(torch, norm_first):
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16,
              batch_first=True, norm_first=norm_first)  # fmt: skip
    src, tgt = randn(2, 6, 8), randn(2, 4, 8)
    skpm = np.zeros((2, 6), bool)
    skpm[0, 5] = True
    ours, theirs = nn.Transformer(**kw), torch.nn.Transformer(**kw)
    parity(torch, ours, theirs, [src, tgt], tgt_mask=nn.Transformer.generate_square_subsequent_mask(4).numpy(),
           src_key_padding_mask=skpm, memory_key_padding_mask=skpm)  # fmt: skip


def test_transformer_defaults_init_and_mask():
    t = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    keys = list(t.state_dict())
    assert keys[0] == "encoder.layers.0.self_attn.in_proj_weight" and keys[-1] == "decoder.norm.bias"
    assert "decoder.layers.0.multihead_attn.out_proj.weight" in keys
    w = t.encoder.layers[0].linear1.weight.detach().numpy()  # Xavier-uniform, not Linear's default
    assert np.abs(w).max() <= np.sqrt(6 / (16 + 32))
    m = nn.Transformer.generate_square_subsequent_mask(4).numpy()
    np.testing.assert_array_equal(m, np.where(np.triu(np.ones((4, 4)), 1) > 0, -np.inf, 0.0))
    assert m.dtype == np.float32
    # the layers are copies, not one shared layer
    assert (
        t.encoder.layers[0].linear1.weight
        is not nn.TransformerEncoder(t.encoder.layers[0], 2).layers[0].linear1.weight
    )


def test_decoder_causal_leak():
    """With a causal target mask, changing target token t never changes outputs before t."""
    model = nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, batch_first=True).eval()
    src, tgt = randn(1, 5, 8), randn(1, 6, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(6)  # the hint needs its mask, as PyTorch
    base = model(gg.tensor(src), gg.tensor(tgt), tgt_mask=mask, tgt_is_causal=True).detach().numpy()
    for t in range(6):
        tgt2 = tgt.copy()
        tgt2[0, t] += 3.0
        out = model(gg.tensor(src), gg.tensor(tgt2), tgt_mask=mask, tgt_is_causal=True).detach().numpy()
        np.testing.assert_allclose(out[0, :t], base[0, :t], rtol=0, atol=1e-6)
        assert not np.allclose(out[0, t], base[0, t])
