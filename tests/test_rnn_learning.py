"""Recurrent networks learn: long-range memory (LSTM yes, tanh RNN no), truncated BPTT, and a
character-level LSTM language model that beats the unigram baseline and samples with temperature.

Each test states its step budget; all run in a few seconds to ~20 s on one core.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
import glassgrad.optim as optim
from glassgrad.datasets import char_vocab, first_token
from glassgrad.train import tbptt

VOCAB, NOISE = 4, 4


class _Classifier(nn.Module):
    """One-hot tokens -> recurrent layer -> linear head on the final state."""

    def __init__(self, kind: str, hidden: int = 32) -> None:
        super().__init__()
        self.rnn = getattr(nn, kind)(VOCAB + NOISE, hidden, batch_first=True)
        self.head = nn.Linear(hidden, VOCAB)

    def forward(self, x: gg.Tensor) -> gg.Tensor:
        _, h = self.rnn(F.one_hot(x, VOCAB + NOISE).float())
        h = h[0] if isinstance(h, tuple) else h  # an LSTM's state is (h, c)
        return self.head(h[-1])


def _train_first_token(kind: str, steps: int, length: int = 50, forget_bias: float = 5.0) -> float:
    gg.manual_seed(0)
    model = _Classifier(kind)
    if kind == "LSTM":
        # A large forget-gate bias (Gers et al. 2000; Jozefowicz et al. 2015) starts the cell with
        # f = s(5) ~ 0.993, a memory of hundreds of steps, so the gradient from the label reaches
        # step 0. A tanh RNN has no gate that such a push could open.
        hid = model.rnn.hidden_size
        with gg.no_grad():
            model.rnn.bias_ih_l0[hid : 2 * hid] = forget_bias
            model.rnn.bias_hh_l0[hid : 2 * hid] = 0.0
    opt = optim.Adam(model.parameters(), lr=0.003)
    for _ in range(steps):
        x, y = first_token(64, length, VOCAB, NOISE)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    x, y = first_token(512, length, VOCAB, NOISE)
    with gg.no_grad():
        return (model(x).argmax(-1) == y).float().mean().item()


@pytest.mark.slow
def test_lstm_remembers_the_first_token_over_50_steps_where_a_tanh_rnn_cannot():
    """Budget: 200 Adam steps of batch 64 for each model; chance is 1/4."""
    assert _train_first_token("LSTM", 200) >= 0.95
    assert _train_first_token("RNN", 200) <= 0.35


def _corpus() -> str:
    """A small text with structure: a few sentences in a seeded random order."""
    sentences = [
        "the cat sat on the mat. ",
        "a dog ate the red log. ",
        "my hat is on the cat. ",
        "the sun is hot today. ",
    ]
    order = np.random.default_rng(0).integers(0, len(sentences), 120)
    return "".join(sentences[i] for i in order)


class _CharLM(nn.Module):
    def __init__(self, vocab: int, hidden: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 16)
        self.lstm = nn.LSTM(16, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids: gg.Tensor, state=None):
        out, state = self.lstm(self.embed(ids), state)  # (N, T, H)
        return self.head(out), state  # (N, T, V)


def _unigram_entropy(ids: np.ndarray) -> float:
    p = np.bincount(ids) / ids.size
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _sample(model: _CharLM, chars: list[str], prompt: str, n: int, temperature: float) -> str:
    """Feed the prompt, then draw each next character from softmax(logits / temperature)."""
    index = {c: i for i, c in enumerate(chars)}
    state = None
    ids = gg.tensor([[index[c] for c in prompt]])
    out = []
    with gg.no_grad():
        for _ in range(n):
            logits, state = model(ids, state)
            probs = F.softmax(logits[0, -1] / temperature, dim=-1)
            nxt = int(gg.multinomial(probs, 1).item())
            out.append(chars[nxt])
            ids = gg.tensor([[nxt]])
    return "".join(out)


@pytest.mark.slow
def test_char_lstm_language_model_beats_unigram_and_samples_with_temperature():
    """Budget: 250 Adam steps on random 32-character windows, batch 32."""
    text = _corpus()
    chars, ids = char_vocab(text)
    data = ids.numpy()
    unigram = _unigram_entropy(data)
    gg.manual_seed(0)
    model = _CharLM(len(chars))
    opt = optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(1)
    losses = []
    for _ in range(250):
        starts = rng.integers(0, data.size - 33, 32)
        window = np.stack([data[s : s + 33] for s in starts])  # (N, 33)
        logits, _ = model(gg.tensor(window[:, :-1]))
        loss = F.cross_entropy(
            logits.reshape(-1, len(chars)), gg.tensor(window[:, 1:].reshape(-1))
        )  # (N*T, V)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    final = float(np.mean(losses[-20:]))
    assert final < 0.4 * unigram, (final, unigram)

    words = set(text.split())
    cold = _sample(model, chars, "the ", 200, temperature=0.3)
    hot = _sample(model, chars, "the ", 200, temperature=2.0)
    assert set(cold) <= set(chars)
    cold_words = cold.split()[1:-1]  # the first and last may be cut
    assert sum(w in words for w in cold_words) >= 0.8 * len(cold_words)
    hot_words = hot.split()[1:-1]
    # A high temperature flattens the distribution: fewer real words than at a low one.
    assert sum(w in words for w in hot_words) / max(len(hot_words), 1) < sum(
        w in words for w in cold_words
    ) / max(len(cold_words), 1)


@pytest.mark.slow
def test_tbptt_trains_on_sequences_longer_than_the_chunk():
    """One stream of 1,200 characters per batch row cut into chunks of 25 steps (48 updates per
    pass); the state crosses chunk borders detached. Budget: 3 passes."""
    text = _corpus()
    chars, ids = char_vocab(text)
    data = ids.numpy()
    rows = 4
    length = data.size // rows - 1
    streams = np.stack([data[r * (length + 1) : (r + 1) * (length + 1)] for r in range(rows)])  # (4, L + 1)
    x, y = gg.tensor(streams[:, :-1]), gg.tensor(streams[:, 1:])
    assert x.shape[1] > 25
    gg.manual_seed(0)
    model = _CharLM(len(chars), hidden=48)
    opt = optim.Adam(model.parameters(), lr=0.01)
    vocab = len(chars)

    def loss_fn(logits, target):
        return F.cross_entropy(logits.reshape(-1, vocab), target.reshape(-1))  # (N, k, V) -> (N*k, V)

    first = None
    for _ in range(3):
        result = tbptt(model, x, y, loss_fn, opt, k=25, batch_first=True, max_norm=1.0)
        first = first if first is not None else result.losses
        assert len(result.losses) == math.ceil(x.shape[1] / 25)
        h, _c = result.state
        assert not h.requires_grad and h.grad_fn is None  # the cut between chunks
    assert np.mean(result.losses[-10:]) < 0.5 * np.mean(first[:3])
    assert np.mean(result.losses[-10:]) < 0.5 * _unigram_entropy(data)
    assert 0 <= result.clipped <= len(result.losses)
