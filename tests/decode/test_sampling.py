"""Sampling: what temperature, top-k and top-p keep; the limits that are greedy; frequencies; seeding."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.decode import greedy_search, next_token_probs, sample
from tests.decode.toy import BOS, EOS, TOY_LOGP, MarkovStep, random_table

P = np.array([[0.5, 0.3, 0.15, 0.05]])
LOGP = np.log(P)


def test_temperature_one_is_the_model_and_others_reshape_it():
    np.testing.assert_allclose(next_token_probs(LOGP), P)
    hot = next_token_probs(LOGP, temperature=2.0)
    np.testing.assert_allclose(hot, np.sqrt(P) / np.sqrt(P).sum())  # p^(1/T), renormalized
    cold = next_token_probs(LOGP, temperature=0.5)
    np.testing.assert_allclose(cold, P**2 / (P**2).sum())
    assert np.array_equal(next_token_probs(LOGP, temperature=0), [[1.0, 0, 0, 0]])


def test_top_k_keeps_the_k_most_probable_and_their_ties():
    np.testing.assert_allclose(next_token_probs(LOGP, top_k=2), [[0.5 / 0.8, 0.3 / 0.8, 0, 0]])
    np.testing.assert_allclose(next_token_probs(LOGP, top_k=1), [[1.0, 0, 0, 0]])
    np.testing.assert_allclose(next_token_probs(LOGP, top_k=10), P)  # more than the vocabulary: all
    tied = np.log([[0.4, 0.2, 0.2, 0.2]])
    np.testing.assert_allclose(next_token_probs(tied, top_k=2), [[0.4, 0.2, 0.2, 0.2]])


def test_top_p_keeps_the_smallest_set_reaching_p():
    np.testing.assert_allclose(next_token_probs(LOGP, top_p=0.5), [[1.0, 0, 0, 0]])  # 0.5 reaches 0.5
    np.testing.assert_allclose(next_token_probs(LOGP, top_p=0.51), [[0.5 / 0.8, 0.3 / 0.8, 0, 0]])
    np.testing.assert_allclose(next_token_probs(LOGP, top_p=0.9), [[0.5, 0.3, 0.15, 0]] / np.float64(0.95))
    np.testing.assert_allclose(next_token_probs(LOGP, top_p=1.0), P)
    np.testing.assert_allclose(next_token_probs(LOGP, top_p=1e-9), [[1.0, 0, 0, 0]])  # the top one stays
    # unsorted rows, several at once
    rows = np.log([[0.1, 0.6, 0.3], [0.3, 0.3, 0.4]])
    np.testing.assert_allclose(next_token_probs(rows, top_p=0.7), [[0, 2 / 3, 1 / 3], [3 / 7, 0, 4 / 7]])


def test_filters_apply_in_order_temperature_top_k_top_p():
    # T = 0.5 squares the probabilities: q = .25 .09 .0225 .0025 over .365; top_k=3 drops the last;
    # top_p then sees .25 .09 .0225 over .3625 = .690 .248 .062
    q = P[0, :3] ** 2 / (P[0, :3] ** 2).sum()
    np.testing.assert_allclose(next_token_probs(LOGP, temperature=0.5, top_k=3), [[*q, 0]])
    got = next_token_probs(LOGP, temperature=0.5, top_k=3, top_p=0.6)
    np.testing.assert_allclose(got, [[1.0, 0, 0, 0]])  # .690 alone reaches .6
    got = next_token_probs(LOGP, temperature=0.5, top_k=3, top_p=0.9)  # .690 + .248 = .938 reaches .9
    np.testing.assert_allclose(got, [[q[0] / (q[0] + q[1]), q[1] / (q[0] + q[1]), 0, 0]])
    # top_p on the untempered distribution would have kept three tokens for 0.9
    assert np.count_nonzero(next_token_probs(LOGP, top_p=0.9)) == 3


def test_frequencies_follow_the_filtered_distribution():
    gen = gg.Generator(5)
    table = np.tile(LOGP, (4, 1))  # the same next-token distribution after every token
    n = 20_000
    for kw, probs in [({}, P[0]), ({"top_k": 2}, next_token_probs(LOGP, top_k=2)[0])]:
        draws = sample(MarkovStep(table), 0, None, max_len=1, generator=gen, num_samples=n, **kw)
        counts = np.bincount([t[0] for t, _ in draws], minlength=4)
        sigma = np.sqrt(n * probs * (1 - probs))
        assert (np.abs(counts - n * probs) <= 5 * sigma + 1e-9).all(), (kw, counts)
        assert (counts[probs == 0] == 0).all()


@pytest.mark.parametrize("kw", [{"temperature": 0}, {"temperature": 1e-4}, {"top_k": 1}, {"top_p": 1e-6}])
def test_the_greedy_limits_of_sampling_equal_greedy_search(kw):
    rng = np.random.default_rng(6)
    for _ in range(10):
        logp = random_table(rng, vocab=6)
        tokens, score = greedy_search(MarkovStep(logp), 0, 1, max_len=8)
        drawn, drawn_score = sample(MarkovStep(logp), 0, 1, max_len=8, **kw)
        assert drawn == tokens and np.isclose(drawn_score, score)


def test_samples_stop_at_eos_each_on_its_own_and_score_under_the_model():
    step = MarkovStep(TOY_LOGP)
    draws = sample(step, BOS, EOS, max_len=10, num_samples=50, generator=gg.Generator(0))
    for tokens, score in draws:
        assert tokens[-1] == EOS and EOS not in tokens[:-1] and len(tokens) == 3
        full = [BOS, *tokens]
        assert np.isclose(score, sum(TOY_LOGP[a, b] for a, b in itertools.pairwise(full)))
    assert len({tuple(t) for t, _ in draws}) > 1
    assert all(c.shape[0] <= 50 for c in step.calls) and len(step.calls) == 3  # one call per step


def test_a_generator_seed_repeats_the_samples_and_the_global_seed_too():
    logp = random_table(np.random.default_rng(7), vocab=6, sharp=0.5)

    def draw(**kw):
        return sample(MarkovStep(logp), [0, 2], None, max_len=12, num_samples=4, **kw)

    assert draw(generator=gg.Generator(3)) == draw(generator=gg.Generator(3))
    assert draw(generator=gg.Generator(3)) != draw(generator=gg.Generator(4))
    gg.manual_seed(11)
    first = draw()
    gg.manual_seed(11)
    assert draw() == first


def test_bad_sampling_inputs_give_clear_errors():
    step = MarkovStep(TOY_LOGP)
    for kw, match in [
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": float("inf")}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_k": 1.5}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"num_samples": 0}, "num_samples"),
    ]:
        with pytest.raises(ValueError, match=match):
            sample(step, BOS, EOS, max_len=3, **kw)
    with pytest.raises(ValueError, match=r"\(B, V\)"):
        next_token_probs(np.zeros(3))
