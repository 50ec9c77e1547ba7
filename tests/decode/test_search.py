"""Greedy and beam search: the toy table, exhaustive checks, length penalty, eos, batching, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.decode import beam_search, greedy_search
from glassgrad.errors import ShapeError
from tests.decode.toy import (
    AM,
    ARE,
    BOS,
    EOS,
    IS,
    TOY_LOGP,
    WAS,
    YOU,
    I,
    MarkovStep,
    PrefixStep,
    random_table,
)


def test_greedy_picks_i_am():
    tokens, score = greedy_search(MarkovStep(TOY_LOGP), BOS, EOS, max_len=10)
    assert tokens == [I, AM, EOS]
    assert np.isclose(score, np.log(0.6 * 0.3))


def test_beam_search_with_two_beams_finds_you_are():
    tokens, score = beam_search(MarkovStep(TOY_LOGP), BOS, EOS, beam_size=2, max_len=10)
    assert tokens == [YOU, ARE, EOS]
    assert np.isclose(score, np.log(0.4 * 0.9))


def test_n_best_is_sorted_and_complete():
    best = beam_search(MarkovStep(TOY_LOGP), BOS, EOS, beam_size=3, max_len=10, n_best=3)
    # after two tokens the three best are You are (.36), I am (.18), I was (.15; ties I is, lower id first)
    assert [t for t, _ in best] == [[YOU, ARE, EOS], [I, AM, EOS], [I, WAS, EOS]]
    np.testing.assert_allclose([s for _, s in best], np.log([0.36, 0.18, 0.15]))
    assert WAS < IS


def _all_outputs(step: PrefixStep, bos: int, eos: int, max_len: int):
    """Every output of at most max_len tokens (ending at the first eos or at max_len) with its log-prob."""
    for n in range(1, max_len + 1):
        for seq in itertools.product(range(step.vocab), repeat=n):
            if eos in seq[:-1] or (n < max_len and seq[-1] != eos):
                continue
            full = (bos, *seq)
            yield list(seq), float(sum(step.row(full[:i])[full[i]] for i in range(1, n + 1)))


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.5])
def test_a_beam_wide_enough_finds_the_exact_best_output(alpha):
    for seed in range(4):
        step = PrefixStep(seed, vocab=4)
        outputs = list(_all_outputs(step, bos=0, eos=1, max_len=4))
        ranked = sorted(outputs, key=lambda o: -o[1] / len(o[0]) ** alpha)
        best = beam_search(step, 0, 1, beam_size=4**4, max_len=4, length_penalty=alpha, n_best=3)
        assert [t for t, _ in best] == [t for t, _ in ranked[:3]]
        np.testing.assert_allclose([s for _, s in best], [s / len(t) ** alpha for t, s in ranked[:3]])


def test_beam_size_one_is_greedy():
    rng = np.random.default_rng(2)
    for _ in range(20):
        logp = random_table(rng, vocab=6)
        g_tokens, g_score = greedy_search(MarkovStep(logp), 0, 1, max_len=8)
        b_tokens, b_score = beam_search(MarkovStep(logp), 0, 1, beam_size=1, max_len=8)
        assert b_tokens == g_tokens and np.isclose(b_score, g_score)


def test_one_step_fn_call_per_step_for_all_beams():
    step = MarkovStep(random_table(np.random.default_rng(3), vocab=7))
    beam_search(step, [0, 2], eos=None, beam_size=3, max_len=5)
    assert len(step.calls) == 5
    assert [c.shape for c in step.calls] == [(1, 2), (3, 3), (3, 4), (3, 5), (3, 6)]
    assert all((c[:, :2] == [0, 2]).all() for c in step.calls)  # the prompt starts every row


def test_length_penalty_can_prefer_the_longer_output():
    table = np.zeros((4, 4))
    table[0, [1, 2]] = [0.55, 0.45]  # stop at once (.55) or say "2 3" then stop (.45)
    table[2, 3] = table[3, 1] = table[1, 1] = 1.0
    with np.errstate(divide="ignore"):
        step = MarkovStep(np.log(table))
    assert beam_search(step, 0, 1, beam_size=2, max_len=5)[0] == [1]
    tokens, score = beam_search(step, 0, 1, beam_size=2, max_len=5, length_penalty=1.0)
    assert tokens == [2, 3, 1] and np.isclose(score, np.log(0.45) / 3)


def test_eos_none_runs_max_len_and_unfinished_outputs_are_returned_without_eos():
    logp = random_table(np.random.default_rng(4), vocab=5)
    assert len(greedy_search(MarkovStep(logp), 0, None, max_len=6)[0]) == 6
    tokens, _ = beam_search(MarkovStep(logp), 0, None, beam_size=3, max_len=6)
    assert len(tokens) == 6
    # eos is impossible here, so max_len cuts every hypothesis
    never_eos = logp.copy()
    never_eos[:, 1] = -np.inf
    never_eos -= np.log(np.exp(never_eos).sum(axis=1, keepdims=True))
    tokens, score = beam_search(MarkovStep(never_eos), 0, 1, beam_size=2, max_len=3)
    assert len(tokens) == 3 and 1 not in tokens
    assert np.isclose(score, sum(never_eos[a, b] for a, b in zip([0, *tokens[:-1]], tokens)))


def test_finished_hypotheses_are_not_extended():
    step = MarkovStep(TOY_LOGP)
    beam_search(step, BOS, EOS, beam_size=2, max_len=10)
    assert all((c[:, 1:] != EOS).all() for c in step.calls)


def test_step_fn_may_return_a_tensor_and_gets_an_int64_tensor():
    seen = []

    def step(prefixes):
        seen.append(prefixes)
        return gg.tensor(TOY_LOGP[prefixes.numpy()[:, -1]].astype(np.float32))

    assert beam_search(step, BOS, EOS, beam_size=2, max_len=10)[0] == [YOU, ARE, EOS]
    assert all(isinstance(p, gg.Tensor) and p.dtype == gg.int64 and p.ndim == 2 for p in seen)


def test_bad_inputs_give_clear_errors():
    step = MarkovStep(TOY_LOGP)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(step, BOS, EOS, beam_size=0, max_len=5)
    with pytest.raises(ValueError, match="n_best <= beam_size"):
        beam_search(step, BOS, EOS, beam_size=2, max_len=5, n_best=3)
    with pytest.raises(ValueError, match="max_len"):
        greedy_search(step, BOS, EOS, max_len=0)
    with pytest.raises(ValueError, match="bos"):
        greedy_search(step, "a", EOS, max_len=3)
    with pytest.raises(ValueError, match="bos"):
        beam_search(step, [], EOS, beam_size=2, max_len=3)
    with pytest.raises(ValueError, match="eos"):
        greedy_search(step, BOS, -1, max_len=3)
    with pytest.raises(ValueError, match="eos < vocab size 8"):
        greedy_search(step, BOS, 8, max_len=3)
    with pytest.raises(ValueError, match="length_penalty"):
        beam_search(step, BOS, EOS, beam_size=2, max_len=5, length_penalty=-1)
    with pytest.raises(ValueError, match="log_softmax"):
        greedy_search(lambda p: np.ones((1, 8)), BOS, EOS, max_len=3)  # logits, not log-probs
    with pytest.raises(ShapeError, match=r"\(2, vocab\)"):
        beam_search(
            lambda p: TOY_LOGP[[BOS]], BOS, EOS, beam_size=2, max_len=3
        )  # right for the first call only
    with pytest.raises(ShapeError, match=r"\(1, vocab\).*got \(8,\)"):
        greedy_search(lambda p: TOY_LOGP[0], BOS, EOS, max_len=3)
    with pytest.raises(ValueError, match="NaN"):
        greedy_search(lambda p: np.full((1, 3), np.nan), BOS, EOS, max_len=3)
