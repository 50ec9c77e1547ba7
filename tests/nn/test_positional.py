"""Position encodings (sinusoidal, learned, rotary) and RMSNorm / tanh-GELU against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.autograd import gradcheck
from glassgrad.errors import ShapeError

RNG = np.random.default_rng(3)


def randn(*shape: int, dtype=np.float64) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------ sinusoidal and learned
def test_sinusoidal_table_d4_matches_the_formula():
    pe = nn.SinusoidalPositionalEncoding(4, max_len=6).pe.numpy()
    assert pe.shape == (6, 4) and pe.dtype == np.float32
    for pos in range(6):
        for i in range(2):
            angle = pos / 10000 ** (2 * i / 4)
            assert pe[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-7)
            assert pe[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-7)
    np.testing.assert_allclose(pe[1], [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)], rtol=1e-6)


def test_sinusoidal_adds_the_table_in_both_layouts_with_offset():
    enc = nn.SinusoidalPositionalEncoding(5, max_len=10)  # odd d: one more sine than cosines
    assert "pe" in enc.state_dict()
    x = randn(2, 3, 5, dtype=np.float32)
    np.testing.assert_allclose(enc(gg.tensor(x)).numpy(), x + enc.pe.numpy()[:3], rtol=1e-6)
    np.testing.assert_allclose(enc(gg.tensor(x), offset=4).numpy(), x + enc.pe.numpy()[4:7], rtol=1e-6)
    tf = nn.SinusoidalPositionalEncoding(5, max_len=10, batch_first=False)
    np.testing.assert_allclose(tf(gg.tensor(x)).numpy(), x + tf.pe.numpy()[:2, None], rtol=1e-6)
    with pytest.raises(ShapeError, match="max_len=10"):
        enc(gg.tensor(x), offset=8)


def test_learned_positional_embedding_gets_gradients_for_used_rows_only():
    emb = nn.LearnedPositionalEmbedding(8, 4)
    x = gg.tensor(randn(2, 3, 4, dtype=np.float32))
    emb(x, offset=2).sum().backward()
    g = emb.weight.grad.numpy()
    assert (g[2:5] == 2.0).all() and not g[:2].any() and not g[5:].any()


# ------------------------------------------------------------------ rotary
def test_rope_scores_depend_only_on_relative_position():
    rope = nn.RotaryEmbedding(8)
    q, k = randn(8), randn(8)
    T = 12
    qs = rope(gg.tensor(np.tile(q, (1, 1, T, 1)))).numpy()[0, 0]  # the same q at every position
    ks = rope(gg.tensor(np.tile(k, (1, 1, T, 1)))).numpy()[0, 0]
    scores = qs @ ks.T  # (T, T): q at m against k at n
    for d in range(-3, 4):
        diag = np.diagonal(scores, offset=d)
        np.testing.assert_allclose(diag, diag[0], rtol=1e-10, atol=1e-12)
    assert not np.allclose(scores[0, 0], scores[0, 1])


def test_rope_keeps_norms_offset_and_position_zero():
    rope = nn.RotaryEmbedding(6, base=100.0)
    x = randn(2, 3, 5, 6)
    y = rope(gg.tensor(x)).numpy()
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(y[..., 0, :], x[..., 0, :], rtol=1e-12)  # position 0: no rotation
    tail = rope(gg.tensor(x[..., 3:, :]), offset=3).numpy()  # decoding with a cache of 3 tokens
    np.testing.assert_allclose(tail, y[..., 3:, :], rtol=1e-12)
    assert list(rope.state_dict()) == []


def test_rope_matches_a_complex_rotation_by_hand():
    """Pair j = (x_j, x_{j+D/2}) as a complex number, times e^(i pos theta_j)."""
    D, T = 4, 3
    x = randn(T, D)
    theta = 10000.0 ** (-np.arange(0, D, 2) / D)
    z = (x[:, : D // 2] + 1j * x[:, D // 2 :]) * np.exp(1j * np.arange(T)[:, None] * theta)
    np.testing.assert_allclose(
        nn.RotaryEmbedding(D)(gg.tensor(x)).numpy(), np.hstack([z.real, z.imag]), rtol=1e-12
    )


def test_rope_gradcheck():
    rope = nn.RotaryEmbedding(4)
    x = gg.tensor(randn(2, 3, 4), requires_grad=True)
    assert gradcheck(lambda a: rope(a, offset=2), (x,))
    with pytest.raises(ValueError, match="even head_dim"):
        nn.RotaryEmbedding(5)


def test_rope_inside_attention_gradcheck():
    rope = nn.RotaryEmbedding(4)
    q, k, v = (gg.tensor(randn(1, 2, 3, 4), requires_grad=True) for _ in range(3))
    fn = lambda q, k, v: F.scaled_dot_product_attention(rope(q), rope(k), v, is_causal=True)  # noqa: E731
    assert gradcheck(fn, (q, k, v))


# ------------------------------------------------------------------ RMSNorm, GELU tanh
@pytest.mark.parametrize("eps", [None, 1e-6])
def test_rms_norm_matches_torch(torch, eps):
    x = randn(3, 4, 5, dtype=np.float32)
    ours, theirs = nn.RMSNorm((4, 5), eps=eps), torch.nn.RMSNorm((4, 5), eps=eps)
    with torch.no_grad():
        theirs.weight.normal_()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    gx, tx = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(gx), theirs(tx)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    up = randn(*out.shape, dtype=np.float32)
    out.backward(gg.tensor(up))
    tout.backward(torch.tensor(up))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    f = F.rms_norm(gg.tensor(x), (5,)).numpy()
    np.testing.assert_allclose(f, torch.nn.functional.rms_norm(torch.tensor(x), (5,)).numpy(), rtol=1e-5)


def test_rms_norm_gradcheck_and_errors():
    x, w = gg.tensor(randn(2, 3), requires_grad=True), gg.tensor(randn(3), requires_grad=True)
    assert gradcheck(lambda a, b: F.rms_norm(a, (3,), b, eps=1e-3), (x, w))
    with pytest.raises(ShapeError, match=r"rms_norm: expected input of shape \(\*, 4\)"):
        F.rms_norm(x, (4,))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(torch, approximate):
    x = np.concatenate([np.linspace(-8, 8, 401), randn(100) * 3]).astype(np.float32)
    gx, tx = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = F.gelu(gx, approximate=approximate)
    tout = torch.nn.functional.gelu(tx, approximate=approximate)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-6, atol=1e-6)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_sinusoidal_dropout_only_while_training():
    enc = nn.SinusoidalPositionalEncoding(8, max_len=16, dropout=0.5)
    x = gg.zeros(4, 16, 8)
    train_out = enc(x).numpy()
    assert (train_out == 0).mean() > 0.3  # about half dropped (pe itself is 0 only at sin(0), 2% of it)
    np.testing.assert_allclose(enc.eval()(x).numpy(), np.broadcast_to(enc.pe.numpy(), (4, 16, 8)))
