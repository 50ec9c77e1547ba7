"""The key/value cache for nn.TransformerDecoder: the same log-probabilities as rerunning the decoder."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.decode import beam_search, cached_transformer_step, encoder_decoder_step, greedy_search, sample
from glassgrad.errors import ShapeError

V, E = 9, 16


class Tiny(nn.Module):
    def __init__(self, norm_first: bool, activation: str = "relu", final_norm: bool = True) -> None:
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.pos = nn.Embedding(20, E)
        layer = nn.TransformerDecoderLayer(
            E, 4, 32, dropout=0.1, activation=activation, batch_first=True, norm_first=norm_first
        )
        self.decoder = nn.TransformerDecoder(layer, 2, nn.LayerNorm(E) if final_norm else None)
        self.out = nn.Linear(E, V)

    def embed(self, ids, start=0):
        return self.emb(ids) + self.pos(gg.arange(start, start + ids.shape[1]))

    def decode(self, tgt, memory, pad=None):
        mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
        h = self.decoder(self.embed(tgt), memory, tgt_mask=mask, memory_key_padding_mask=pad)
        return self.out(h)


def _steps(model, memory, pad):
    def full(tgt, mem):
        p = None if pad is None else gg.tensor(np.broadcast_to(pad, (tgt.shape[0], pad.size)).copy())
        return model.decode(tgt, mem, p)

    uncached = encoder_decoder_step(lambda s: memory, full, [0])
    cached = cached_transformer_step(model.decoder, memory, model.embed, model.out, pad)
    return uncached, cached


@pytest.mark.parametrize(
    ("norm_first", "activation", "final_norm", "padded"),
    [(False, "relu", True, False), (True, "gelu", True, True), (True, "relu", False, True)],
)
def test_cached_steps_equal_rerunning_the_decoder(norm_first, activation, final_norm, padded):
    gg.manual_seed(1)
    model = Tiny(norm_first, activation, final_norm).eval()
    memory = gg.randn(1, 5, E)
    pad = np.array([False, False, False, True, True]) if padded else None
    uncached, cached = _steps(model, memory, pad)
    rng = np.random.default_rng(0)
    prefix = rng.integers(0, V, size=(3, 1))
    for _ in range(6):  # grow three hypotheses, reordering them as beam search does
        np.testing.assert_allclose(cached(gg.tensor(prefix)), uncached(gg.tensor(prefix)), atol=1e-5)
        parents = rng.integers(0, prefix.shape[0], size=4)
        prefix = np.concatenate([prefix[parents], rng.integers(0, V, size=(4, 1))], axis=1)
    # prefixes that extend nothing cached: the cache is rebuilt
    fresh = rng.integers(0, V, size=(2, 4))
    np.testing.assert_allclose(cached(gg.tensor(fresh)), uncached(gg.tensor(fresh)), atol=1e-5)
    if padded:  # the mask matters: a padded memory position changed would change nothing
        memory2 = memory.clone()
        memory2[0, 4] = 100.0
        np.testing.assert_allclose(
            _steps(model, memory2, pad)[1](gg.tensor(fresh)), cached(gg.tensor(fresh)), atol=1e-5
        )


def test_searches_give_the_same_answers_with_and_without_the_cache():
    gg.manual_seed(2)
    model = Tiny(norm_first=True).eval()
    memory = gg.randn(1, 4, E)
    for search in (
        lambda s: greedy_search(s, 0, 1, max_len=8),
        lambda s: beam_search(s, 0, 1, beam_size=3, max_len=8, n_best=3),
        lambda s: sample(s, 0, 1, max_len=8, num_samples=5, generator=gg.Generator(0)),
    ):
        uncached, cached = _steps(model, memory, None)
        a, b = search(uncached), search(cached)
        a, b = (a, b) if isinstance(a, list) else ([a], [b])
        assert [t for t, _ in a] == [t for t, _ in b]
        np.testing.assert_allclose([s for _, s in a], [s for _, s in b], atol=1e-4)


def test_cache_refuses_training_mode_and_odd_inputs():
    model = Tiny(norm_first=False)
    with pytest.raises(ValueError, match="eval mode"):
        cached_transformer_step(model.decoder, gg.randn(1, 3, E), model.embed, model.out)
    model.eval()
    with pytest.raises(ShapeError, match=r"\(1, S, E\)"):
        cached_transformer_step(model.decoder, gg.randn(2, 3, E), model.embed, model.out)
    with pytest.raises(ShapeError, match="3 positions"):
        cached_transformer_step(model.decoder, gg.randn(1, 3, E), model.embed, model.out, [True, False])
