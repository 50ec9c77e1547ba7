"""The translation example: the model's masks, the cached and uncached decoders agree, and training
reaches >= 90% exact match on held-out dates with beam search."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.datasets import DateTranslation
from glassgrad.decode import beam_search
from tests.examples.load import load_example


@pytest.fixture(scope="module")
def ex():
    return load_example("translate")


@pytest.fixture(scope="module")
def task():
    return DateTranslation(n_train=2000, n_test=50, seed=0)


def test_decoder_is_causal_and_source_padding_is_ignored(ex, task):
    gg.manual_seed(0)
    model = ex.Translator(len(task.src_tokenizer), len(task.tgt_tokenizer), d_model=32).eval()
    src = gg.tensor([task.src_tokenizer.encode("march third, nineteen ninety")])
    a, b = gg.tensor([[1, 4, 5, 6, 7]]), gg.tensor([[1, 4, 5, 9, 9]])
    with gg.no_grad():
        la, lb = model(src, a).numpy(), model(src, b).numpy()
        padded = gg.tensor([[*src.tolist()[0], 0, 0, 0]])  # PAD = 0 at the end changes nothing
        lp = model(padded, a).numpy()
    np.testing.assert_allclose(la[:, :3], lb[:, :3], atol=1e-5)
    assert not np.allclose(la[:, 3:], lb[:, 3:])
    np.testing.assert_allclose(lp, la, atol=1e-5)


def test_cached_and_uncached_step_functions_agree(ex, task):
    gg.manual_seed(1)
    model = ex.Translator(len(task.src_tokenizer), len(task.tgt_tokenizer), d_model=32)
    ex.train(model, task, steps=5, batch_size=16)
    model.eval()
    src = task.src_tokenizer.encode(task.test[0][0])
    tok = task.tgt_tokenizer
    a = beam_search(ex.step_function(model, src, cache=True), tok.bos_id, tok.eos_id, 3, 12, n_best=3)
    b = beam_search(ex.step_function(model, src, cache=False), tok.bos_id, tok.eos_id, 3, 12, n_best=3)
    assert [t for t, _ in a] == [t for t, _ in b]
    np.testing.assert_allclose([s for _, s in a], [s for _, s in b], atol=1e-4)


def test_main_prints_greedy_and_beam_side_by_side(ex, capsys):
    ex.main(["--steps", "2", "--train-size", "100", "--test-size", "3", "--show", "2", "--beam", "2"])
    out = capsys.readouterr().out
    assert "greedy" in out and "beam" in out and "exact match on 3 held-out dates" in out


@pytest.mark.slow
def test_translation_reaches_90_percent_exact_match_with_beam_search(ex):
    # ~17 s of CPU on one thread (~13 s training, ~4 s beam decoding). 96% to 100% over seeds 0-16
    # on an AMD EPYC host; the earlier recipe (the paper's full schedule, 300 steps) gave 80% to 99%
    # by seed and CPU. Measured 26 s wall on 2 cores shared at load ~8 (300 steps).
    gg.manual_seed(0)
    task = DateTranslation(n_train=10_000, n_test=200, seed=0)
    model = ex.Translator(len(task.src_tokenizer), len(task.tgt_tokenizer))
    losses = ex.train(model, task, steps=400)
    assert np.mean(losses[-20:]) < 0.3 * np.mean(losses[:20])
    accuracy = ex.evaluate(model, task, beam_size=4)
    assert accuracy >= 0.9, accuracy
