"""glassgrad.gradflow (per-step and per-layer gradient norms) and glassgrad.train.tbptt mechanics."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
import glassgrad.optim as optim
from glassgrad.gradflow import layer_grad_norms, step_grad_norms, unroll
from glassgrad.train import TBPTTResult, detach_state, tbptt


def test_step_grad_norms_are_the_total_derivative_through_later_steps():
    gg.manual_seed(0)
    cell = nn.RNNCell(2, 3, dtype=gg.float64)
    x = gg.tensor(np.random.default_rng(0).standard_normal((4, 1, 2)))
    states = unroll(cell, x)
    states[-1].sum().backward()
    norms = step_grad_norms(states)
    # by hand: dL/dh_3 = 1, dL/dh_{t-1} = (dL/dh_t * (1 - h_t^2)) @ W_hh
    w = cell.weight_hh.detach().numpy()
    g = np.ones((1, 3))
    expected = [np.linalg.norm(g)]
    for t in range(3, 0, -1):
        h = states[t].detach().numpy()
        g = (g * (1 - h * h)) @ w
        expected.append(np.linalg.norm(g))
    np.testing.assert_allclose(norms, expected[::-1], rtol=1e-12)


def test_unroll_keeps_lstm_states_as_pairs():
    cell = nn.LSTMCell(2, 3)
    states = unroll(cell, gg.randn(5, 2, 2))
    assert len(states) == 5 and isinstance(states[0], tuple)
    (states[-1][0] ** 2).sum().backward()
    assert step_grad_norms(states).shape == (5,)


def test_layer_grad_norms_in_module_order():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))
    model(gg.randn(5, 3)).sum().backward()
    norms = layer_grad_norms(model)
    assert list(norms) == ["0", "2"]
    assert norms["2"] == pytest.approx(float(np.linalg.norm(model[2].weight.grad.numpy())))


def test_tbptt_chunks_detaches_and_counts_clipping():
    gg.manual_seed(0)
    lstm = nn.LSTM(2, 3)
    opt = optim.SGD(lstm.parameters(), lr=0.1)
    x, y = gg.randn(23, 2, 2), gg.randn(23, 2, 3)
    seen = []

    def model(chunk, state):
        seen.append((chunk.shape[0], state is None))
        return lstm(chunk, state)

    res = tbptt(model, x, y, F.mse_loss, opt, k=10, max_norm=1e-6)
    assert isinstance(res, TBPTTResult)
    assert seen == [(10, True), (10, False), (3, False)]
    assert len(res.losses) == 3 and res.clipped == 3 and len(res.grad_norms) == 3
    assert all(not s.requires_grad for s in res.state)
    with pytest.raises(ValueError, match="chunk length"):
        tbptt(model, x, y, F.mse_loss, opt, k=0)


def test_detach_state_nested():
    a = gg.ones(2, requires_grad=True) * 2
    out = detach_state((a, [a]))
    assert not out[0].requires_grad and not out[1][0].requires_grad
    assert detach_state(None) is None
