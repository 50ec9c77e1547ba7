"""Step functions from models: decoder-only (with context cropping) and encoder-decoder (encode once)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.decode import beam_search, causal_lm_step, encoder_decoder_step, greedy_search
from glassgrad.errors import ShapeError
from tests.decode.toy import MarkovStep


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def test_causal_lm_step_is_the_last_positions_log_softmax():
    bigram = nn.Embedding(6, 6)  # logits for the next token = the row of the current one
    step = causal_lm_step(bigram)
    prefixes = gg.tensor([[0, 3, 2], [1, 1, 5]])
    np.testing.assert_allclose(
        step(prefixes), _log_softmax(bigram.weight.detach().numpy()[[2, 5]]), atol=1e-6
    )
    table = _log_softmax(bigram.weight.detach().numpy())
    for ours, by_table in [
        ([greedy_search(step, 0, 1, max_len=6)], [greedy_search(MarkovStep(table), 0, 1, 6)]),
        (beam_search(step, 0, 1, 3, 6, n_best=3), beam_search(MarkovStep(table), 0, 1, 3, 6, n_best=3)),
    ]:
        assert [t for t, _ in ours] == [t for t, _ in by_table]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in by_table], atol=1e-5)


def test_causal_lm_step_crops_to_the_context_and_takes_a_tuples_logits():
    seen = []
    bigram = nn.Embedding(5, 5)

    def model(tokens):
        seen.append(tokens.shape)
        return bigram(tokens), None  # (logits, loss) as many GPT models return

    greedy_search(causal_lm_step(model, context_size=3), [0, 1, 2, 3], None, max_len=3)
    assert seen == [(1, 3), (1, 3), (1, 3)]
    assert not gg.is_grad_enabled() or all(p.grad is None for p in bigram.parameters())


def test_encoder_decoder_step_encodes_once_and_expands_the_memory():
    gg.manual_seed(0)
    src_emb, tgt_emb, proj = nn.Embedding(7, 4), nn.Embedding(5, 4), nn.Linear(4, 5)
    encodes, memories = [], []

    def encode(src):
        encodes.append(src.shape)
        return src_emb(src)  # (1, S, 4)

    def decode(tgt, memory):
        memories.append(memory.shape)
        return proj(tgt_emb(tgt) + memory.mean(dim=1, keepdim=True))  # (B, t, 5)

    step = encoder_decoder_step(encode, decode, [3, 1, 4, 6])
    tokens, _ = beam_search(step, 0, 1, beam_size=3, max_len=4)
    assert encodes == [(1, 4)] and memories[0] == (1, 4, 4) and all(m[0] <= 3 for m in memories)
    assert max(m[0] for m in memories) == 3
    # the same answer as running the decoder by hand on the prefixes
    mem = src_emb(gg.tensor([[3, 1, 4, 6]])).mean(dim=1, keepdim=True).detach().numpy()
    by_hand = _log_softmax(proj(tgt_emb(gg.tensor([[0, 2]])) + gg.tensor(mem)).detach().numpy()[:, -1])
    np.testing.assert_allclose(step(gg.tensor([[0, 2]])), by_hand, atol=1e-6)
    assert tokens and all(0 <= t < 5 for t in tokens)


def test_adapters_refuse_what_they_cannot_use():
    with pytest.raises(ShapeError, match=r"\(B, T, vocab\)"):
        causal_lm_step(lambda t: gg.zeros(t.shape[0], 5))(gg.tensor([[0]]))
    with pytest.raises(ValueError, match="context_size"):
        causal_lm_step(lambda t: t, context_size=0)
    with pytest.raises(ShapeError, match="one source"):
        encoder_decoder_step(lambda s: s, lambda t, m: t, gg.zeros(2, 3, dtype=gg.long))
    with pytest.raises(ShapeError, match=r"batch-first \(1, \.\.\.\) memory"):
        encoder_decoder_step(lambda s: gg.zeros(3, 2), lambda t, m: t, [1, 2])
