"""AttentionInspector captures per-head maps through hooks and leaves the model's results alone.

The real ``nn.MultiheadAttention`` comes from the attention branch; until it is merged the first
tests use a small stand-in with PyTorch's forward signature.
"""

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn
from glassgrad.explain import AttentionInspector


class MultiheadAttention(nn.Module):
    """Stand-in with PyTorch's signature (batch_first=True, no masks)."""

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.embed_dim, self.num_heads, self.batch_first = embed_dim, num_heads, True
        self.in_proj_weight = nn.Parameter(gg.randn(3 * embed_dim, embed_dim) * 0.5)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
    ):
        N, L, E = query.shape
        h, d = self.num_heads, E // self.num_heads
        wq, wk, wv = self.in_proj_weight.chunk(3, 0)

        def heads(x, w):
            return (x @ w.t()).reshape(N, -1, h, d).transpose(1, 2)  # (N, L, E) -> (N, h, L, d)

        q, k, v = heads(query, wq), heads(key, wk), heads(value, wv)
        att = (q @ k.transpose(-2, -1) / math.sqrt(d)).softmax(-1)  # (N, h, L, S)
        out = self.out_proj((att @ v).transpose(1, 2).reshape(N, L, E))
        if not need_weights:
            return out, None
        return out, (att.mean(1) if average_attn_weights else att)


class EncoderLayer(nn.Module):
    def __init__(self, e, h):
        super().__init__()
        self.self_attn = MultiheadAttention(e, h)
        self.linear = nn.Linear(e, e)

    def forward(self, x):
        return self.linear(x + self.self_attn(x, x, x, need_weights=False)[0])


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(8, 2), EncoderLayer(8, 2)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def test_inspector_captures_every_layer_and_head():
    model = Encoder()
    x = gg.randn(3, 5, 8)
    before = model(x).detach().numpy()
    with AttentionInspector(model) as insp:
        after = model(x).detach().numpy()
        assert insp.layers() == ["layers.0.self_attn", "layers.1.self_attn"]
        w = insp.weights("layers.1.self_attn")
        assert w.shape == (3, 2, 5, 5)
        np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
        assert insp.weights(0).shape == (3, 2, 5, 5)
    np.testing.assert_array_equal(before, after)  # same computation with hooks on
    assert not model.layers[0].self_attn._forward_hooks and not model.layers[0].self_attn._forward_pre_hooks


def test_inspector_returns_what_the_caller_asked_for():
    mha = MultiheadAttention(4, 2)
    x = gg.randn(1, 3, 4)
    insp = AttentionInspector(mha)
    _, avg = mha(x, x, x)  # default: averaged weights
    assert avg.shape == (1, 3, 3)
    _, none = mha(x, x, x, None, False)  # need_weights=False given positionally
    assert none is None
    _, per_head = mha(x, x, x, average_attn_weights=False)
    assert per_head.shape == (1, 2, 3, 3)
    assert len(insp.maps["MultiheadAttention"]) == 3
    np.testing.assert_allclose(avg.detach().numpy(), insp.maps["MultiheadAttention"][0].mean(1), rtol=1e-6)
    with pytest.raises(KeyError, match="no call"):
        AttentionInspector(MultiheadAttention(4, 2)).weights(0)
    insp.remove()


def test_inspector_plot():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    model = Encoder()
    insp = AttentionInspector(model)
    model(gg.randn(1, 4, 8))
    fig = insp.plot(1, tokens_q=["a", "b", "c", "d"])
    assert len(fig.axes) == 2


def test_inspector_on_real_multihead_attention():
    if not hasattr(nn, "MultiheadAttention"):
        pytest.skip("nn.MultiheadAttention is not on this branch yet (attention branch)")
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = gg.randn(2, 5, 8)
    out_ref, _ = mha(x, x, x, need_weights=False)
    with AttentionInspector(mha) as insp:
        out, none = mha(x, x, x, need_weights=False)
        assert none is None
        np.testing.assert_allclose(out.detach().numpy(), out_ref.detach().numpy(), rtol=1e-5, atol=1e-6)
        assert insp.weights(0).shape == (2, 2, 5, 5)
        np.testing.assert_allclose(insp.weights(0).sum(-1), 1.0, rtol=1e-5)


def test_inspector_on_real_transformer_encoder():
    if not hasattr(nn, "TransformerEncoder"):
        pytest.skip("nn.TransformerEncoder is not on this branch yet (attention branch)")
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True, dropout=0.0)
    enc = nn.TransformerEncoder(layer, 2)
    x = gg.randn(2, 5, 8)
    ref = enc(x).detach().numpy()
    with AttentionInspector(enc) as insp:
        out = enc(x).detach().numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    assert insp.layers() == ["layers.0.self_attn", "layers.1.self_attn"]
    w = insp.weights("layers.1.self_attn")
    assert w.shape == (2, 2, 5, 5)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
