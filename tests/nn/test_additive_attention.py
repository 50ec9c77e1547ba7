"""nn.AdditiveAttention: against the concatenated form v^T tanh(W [h_i; s_j]), masking, gradcheck."""

from __future__ import annotations

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.autograd import gradcheck


def _module(seed: int = 0) -> nn.AdditiveAttention:
    gg.manual_seed(seed)
    return nn.AdditiveAttention(3, 4, 5, dtype=gg.float64)


def test_scores_are_v_tanh_w_of_the_concatenation():
    att = _module()
    rng = np.random.default_rng(0)
    s = rng.standard_normal((2, 3))  # queries s_j (N, Dq)
    h = rng.standard_normal((2, 6, 4))  # keys h_i (N, Lk, Dk)
    ctx, w = att(gg.tensor(s), gg.tensor(h))
    big_w = np.concatenate(
        [att.W_k.weight.detach().numpy(), att.W_q.weight.detach().numpy()], axis=1
    )  # (A, Dk + Dq)
    b = att.W_k.bias.detach().numpy()
    v = att.v.weight.detach().numpy()[0]
    for n in range(2):
        scores = np.array([v @ np.tanh(big_w @ np.concatenate([h[n, i], s[n]]) + b) for i in range(6)])
        expected = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        np.testing.assert_allclose(w.detach().numpy()[n], expected, rtol=1e-12)
        np.testing.assert_allclose(ctx.detach().numpy()[n], expected @ h[n], rtol=1e-12)


def test_padding_keys_get_zero_weight_and_several_queries_at_once():
    att = _module(1)
    rng = np.random.default_rng(1)
    keys = gg.tensor(rng.standard_normal((2, 5, 4)))
    values = gg.tensor(rng.standard_normal((2, 5, 7)))
    mask = gg.tensor(np.array([[False] * 5, [False, False, True, True, True]]))
    ctx, w = att(gg.tensor(rng.standard_normal((2, 3, 3))), keys, values, key_padding_mask=mask)
    assert ctx.shape == (2, 3, 7) and w.shape == (2, 3, 5)
    np.testing.assert_array_equal(w.detach().numpy()[1, :, 2:], 0.0)
    np.testing.assert_allclose(w.detach().numpy().sum(-1), 1.0, rtol=1e-12)


def test_gradcheck():
    att = _module(2)
    rng = np.random.default_rng(2)
    q = gg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    k = gg.tensor(rng.standard_normal((2, 4, 4)), requires_grad=True)

    def fn(q, k, *params):
        ctx, w = att(q, k)
        return gg.cat([ctx, w], dim=1)

    assert gradcheck(fn, (q, k, *att.parameters()))


def test_state_dict_names():
    assert list(_module().state_dict()) == ["W_q.weight", "W_k.weight", "W_k.bias", "v.weight"]
