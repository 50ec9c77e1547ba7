"""Scaled dot-product attention and its masks: float64 gradchecks, PyTorch parity, hand examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd import gradcheck
from glassgrad.errors import ShapeError

RNG = np.random.default_rng(0)


def randn(*shape: int, dtype=np.float64) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def leaf(a: np.ndarray) -> gg.Tensor:
    return gg.tensor(a, requires_grad=True)


def _masks(L: int, S: int) -> dict:
    """One of each mask kind, shaped (L, S); none blocks a whole row except 'dead_row'."""
    bool_mask = RNG.random((L, S)) > 0.4
    bool_mask[:, 0] = True
    dead = bool_mask.copy()
    dead[1] = False
    return {
        "none": None,
        "bool": bool_mask,
        "float": randn(L, S),
        "float_inf": np.where(bool_mask, randn(L, S), -np.inf),
        "causal": "causal",
        "window": F.local_window_mask(L, 1, S).numpy(),
        "padding": np.broadcast_to(~F.padding_mask([S - 1], S).numpy(), (L, S)),  # last key is padding
        "dead_row": dead,
    }


# ------------------------------------------------------------------ gradchecks (float64)
@pytest.mark.parametrize(
    "kind", ["none", "bool", "float", "float_inf", "causal", "window", "padding", "dead_row"]
)
def test_sdpa_gradcheck_each_mask(kind):
    L, S = 4, 4 if kind in ("causal", "window") else 5
    mask = _masks(L, S)[kind]
    q, k, v = randn(2, L, 3), randn(2, S, 3), randn(2, S, 2)

    def fn(q, k, v):
        if isinstance(mask, str):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        m = None if mask is None else gg.tensor(mask)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)

    assert gradcheck(fn, (leaf(q), leaf(k), leaf(v)))


def test_sdpa_gradcheck_float_mask_is_differentiable():
    q, k, v, bias = randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 3), randn(3, 5)
    fn = lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, attn_mask=b)  # noqa: E731
    assert gradcheck(fn, (leaf(q), leaf(k), leaf(v), leaf(bias)))


def test_sdpa_gradcheck_gqa_and_scale():
    q, k, v = randn(1, 4, 3, 2), randn(1, 2, 3, 2), randn(1, 2, 3, 2)
    fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.7, enable_gqa=True)  # noqa: E731
    assert gradcheck(fn, (leaf(q), leaf(k), leaf(v)))


# ------------------------------------------------------------------ PyTorch parity
def _parity_sdpa(torch, q, k, v, mask=None, atol=1e-5, **kw):
    gq, gk, gv = (gg.tensor(a, requires_grad=True) for a in (q, k, v))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    out = F.scaled_dot_product_attention(
        gq, gk, gv, attn_mask=None if mask is None else gg.tensor(mask), **kw
    )
    tout = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=None if mask is None else torch.tensor(mask), **kw
    )
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=atol, rtol=1e-5)
    up = randn(*out.shape, dtype=q.dtype)
    out.backward(gg.tensor(up))
    tout.backward(torch.tensor(up))
    for g, t in ((gq, tq), (gk, tk), (gv, tv)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), atol=atol, rtol=1e-5)


@pytest.mark.parametrize("kind", ["none", "bool", "float", "float_inf", "window", "padding", "dead_row"])
def test_sdpa_masks_match_torch(torch, kind):
    mask = _masks(5, 6)[kind]
    _parity_sdpa(torch, randn(2, 3, 5, 4), randn(2, 3, 6, 4), randn(2, 3, 6, 7), mask)


@pytest.mark.parametrize("L,S", [(5, 5), (3, 6), (6, 3)])
def test_sdpa_causal_matches_torch(torch, L, S):
    _parity_sdpa(torch, randn(2, 2, L, 4), randn(2, 2, S, 4), randn(2, 2, S, 4), is_causal=True)


def test_sdpa_scale_gqa_float32_and_broadcast_mask_match_torch(torch):
    _parity_sdpa(torch, randn(2, 3, 4, 8), randn(2, 3, 4, 8), randn(2, 3, 4, 8), scale=0.3)
    _parity_sdpa(torch, randn(1, 6, 4, 8), randn(1, 2, 4, 8), randn(1, 2, 4, 8), enable_gqa=True)
    f32 = [randn(2, 4, 5, 8, dtype=np.float32) for _ in range(3)]
    _parity_sdpa(torch, *f32, mask=RNG.random((2, 1, 5, 5)) > 0.3, atol=1e-5)
    _parity_sdpa(torch, randn(5, 3), randn(4, 3), randn(4, 2))  # no batch dims


def test_sdpa_fully_masked_row_is_zero_with_zero_gradient():
    q, k, v = leaf(randn(1, 3, 4)), leaf(randn(1, 3, 4)), leaf(randn(1, 3, 4))
    mask = gg.tensor([[True, True, False], [False, False, False], [True, False, False]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert np.isfinite(out.detach().numpy()).all()
    np.testing.assert_array_equal(out.detach().numpy()[0, 1], 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(q.grad.numpy()[0, 1], 0.0)
    w = F.attention_weights(q, k, attn_mask=mask)
    np.testing.assert_allclose(w.detach().numpy()[0].sum(-1), [1.0, 0.0, 1.0])


def test_sdpa_rejects_bad_shapes_and_mask_with_causal():
    with pytest.raises(ShapeError, match=r"scaled_dot_product_attention: expected query \(\*, L, E\)"):
        F.scaled_dot_product_attention(gg.zeros(2, 3, 4), gg.zeros(2, 3, 5), gg.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="attn_mask=None with is_causal=True"):
        F.scaled_dot_product_attention(
            gg.zeros(3, 4), gg.zeros(3, 4), gg.zeros(3, 4), gg.ones(3, 3), is_causal=True
        )
    with pytest.raises(ShapeError, match="attn_mask broadcastable"):
        F.scaled_dot_product_attention(gg.zeros(3, 4), gg.zeros(3, 4), gg.zeros(3, 4), gg.ones(2, 2))


# ------------------------------------------------------------------ hand examples
def test_three_token_attention_matches_numpy():
    """The three 4-d tokens attending to each other with 4x2 projections, against NumPy by hand."""
    X = np.array([[1, -1, 0, 2], [0, -1, 2, 1], [-2, 2, -1, 0]], dtype=np.float64)
    W_Q = np.array([[1, 0], [0, 1], [1, 1], [0, -1]], dtype=np.float64)
    W_K = np.array([[0, 1], [1, 0], [1, -1], [1, 1]], dtype=np.float64)
    W_V = np.array([[1, 2], [0, 1], [-1, 0], [2, 1]], dtype=np.float64)
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    scores = Q @ K.T / np.sqrt(2.0)
    weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    expected = weights @ V
    x = gg.tensor(X)
    q, k, v = x @ gg.tensor(W_Q), x @ gg.tensor(W_K), x @ gg.tensor(W_V)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(F.attention_weights(q, k).numpy(), weights, rtol=1e-12)
    # worked by hand: token 3's query is (-3, 1), the keys (1, 3), (2, -1), (1, -1), so its scores
    # are (0, -7, -4) / sqrt 2 and it attends mostly to token 1
    np.testing.assert_array_equal(Q[2], [-3.0, 1.0])
    np.testing.assert_array_equal(K, [[1.0, 3.0], [2.0, -1.0], [1.0, -1.0]])
    np.testing.assert_allclose(scores[2] * np.sqrt(2.0), [0.0, -7.0, -4.0])
    assert weights[2].argmax() == 0


def test_causal_leak_changing_a_future_token_never_changes_earlier_outputs():
    q, k, v = randn(2, 2, 6, 4), randn(2, 2, 6, 4), randn(2, 2, 6, 4)
    base = F.scaled_dot_product_attention(gg.tensor(q), gg.tensor(k), gg.tensor(v), is_causal=True).numpy()
    for t in range(6):
        k2, v2, q2 = k.copy(), v.copy(), q.copy()
        k2[..., t, :] += 5.0
        v2[..., t, :] -= 3.0
        q2[..., t, :] *= -2.0
        out = F.scaled_dot_product_attention(
            gg.tensor(q2), gg.tensor(k2), gg.tensor(v2), is_causal=True
        ).numpy()
        np.testing.assert_array_equal(out[..., :t, :], base[..., :t, :])
        assert not np.allclose(out[..., t, :], base[..., t, :])


# ------------------------------------------------------------------ mask helpers
def test_mask_helpers():
    np.testing.assert_array_equal(F.causal_mask(3, 4).numpy(), np.tril(np.ones((3, 4), bool)))
    w = F.local_window_mask(5, 2).numpy()
    p, q = np.indices((5, 5))
    np.testing.assert_array_equal(w, np.abs(p - q) <= 2)
    np.testing.assert_array_equal(
        F.local_window_mask(5, 2, causal=True).numpy(), (np.abs(p - q) <= 2) & (q <= p)
    )
    np.testing.assert_array_equal(
        F.padding_mask(gg.tensor([1, 3, 0]), 4).numpy(),
        [[False, True, True, True], [False, False, False, True], [True, True, True, True]],
    )
    with pytest.raises(ValueError, match="window >= 0"):
        F.local_window_mask(3, -1)


def test_local_window_mask_limits_attention():
    x = randn(1, 7, 4)
    w = F.attention_weights(gg.tensor(x), gg.tensor(x), attn_mask=F.local_window_mask(7, 1)).numpy()[0]
    p, q = np.indices((7, 7))
    assert (w[np.abs(p - q) > 1] == 0).all() and np.allclose(w.sum(-1), 1.0)


def test_default_scale_is_inverse_sqrt_head_dim():
    q, k = randn(3, 16), randn(4, 16)
    s = q @ k.T / math.sqrt(16)
    expected = np.exp(s - s.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(F.attention_weights(gg.tensor(q), gg.tensor(k)).numpy(), expected, rtol=1e-12)
