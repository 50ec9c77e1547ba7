"""The char-level GPT example: weight tying, causality, and training well below the unigram baseline."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.datasets import CharTokenizer
from tests.examples.load import load_example


@pytest.fixture(scope="module")
def ex():
    return load_example("gpt_char")


def test_weight_tying_shares_one_parameter(ex):
    model = ex.GPT(vocab_size=11, block_size=8, d_model=16, n_head=2, n_layer=1)
    assert model.head.weight is model.tok_emb.weight
    names = [n for n, _ in model.named_parameters()]
    assert "tok_emb.weight" in names and "head.weight" not in names  # counted once
    logits = model(gg.tensor([[1, 2, 3]]))
    logits.sum().backward()
    assert model.tok_emb.weight.grad is not None


def test_future_tokens_never_change_earlier_logits(ex):
    model = ex.GPT(vocab_size=11, block_size=8, d_model=16, n_head=2, n_layer=2).eval()
    a = gg.tensor([[4, 5, 6, 7, 8, 9]])
    b = gg.tensor([[4, 5, 6, 1, 2, 3]])
    with gg.no_grad():
        la, lb = model(a).numpy(), model(b).numpy()
    np.testing.assert_allclose(la[:, :3], lb[:, :3], atol=1e-6)
    assert not np.allclose(la[:, 3:], lb[:, 3:])
    with pytest.raises(ValueError, match="block_size=8"):
        model(gg.zeros(1, 9, dtype=gg.long))


def test_unigram_loss_is_the_entropy_of_character_frequencies(ex):
    assert np.isclose(ex.unigram_loss(np.array([0, 0, 1, 1])), np.log(2))
    assert np.isclose(ex.unigram_loss(np.array([3, 3, 3])), 0.0)


@pytest.mark.slow
def test_gpt_learns_the_corpus_far_below_unigram_and_generates_it(ex):
    # 300 steps (the example's default), ~7 s of CPU on one thread. Varying the seeds of the init, the
    # batches and the sampling on an AMD EPYC host: with 150 steps 80-93 % of the sampled words were
    # real over seeds 0-7 (one below the 0.8 bar); with 300 they are 92-100 % over seeds 0-15, and the
    # held-out loss is 0.10-0.11 of the unigram baseline.
    gg.manual_seed(0)
    text = ex.make_corpus(2000, seed=0)
    tok = CharTokenizer.from_text(text)
    ids = np.asarray(tok.encode(text), dtype=np.int64)
    train_ids, val_ids = ids[: int(0.9 * ids.size)], ids[int(0.9 * ids.size) :]
    model = ex.GPT(len(tok))
    baseline = ex.unigram_loss(train_ids)  # ~2.75 nats/char
    losses = ex.train(model, train_ids, steps=300)
    held_out = ex.evaluate(model, val_ids)
    assert held_out < 0.35 * baseline, (held_out, baseline)
    assert np.mean(losses[-10:]) < 0.35 * baseline
    lines = ex.generate(model, tok, "the ", length=120, num_samples=4, generator=gg.Generator(0))
    assert all(line.startswith("the ") and len(line) == 124 for line in lines), lines
    words = {w.strip(".") for w in text.split()}
    generated = [w.strip(".") for line in lines for w in line.split()[:-1]]  # the last may be cut off
    known = np.mean([w in words for w in generated])
    assert known > 0.8, (known, lines)
