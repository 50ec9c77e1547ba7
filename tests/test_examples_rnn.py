"""The recurrent-network examples run and show what they claim: the tanh RNN's gradient decays
over time far faster than an LSTM's, a deep sigmoid MLP's over depth far faster than a ReLU one's;
the attention seq2seq model learns reversal; the char LM beats the unigram baseline."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vanishing_gradients_example():
    ex = _load("vanishing_gradients")
    rnn, lstm = ex.time_profile("RNN", 30), ex.time_profile("LSTM", 30, forget_bias=3.0)
    assert rnn[0] / rnn[-1] < 1e-6  # 29 steps back: six orders of magnitude gone
    assert lstm[0] / lstm[-1] > 1e-2
    assert ex.time_profile("LSTM", 30)[0] > rnn[0]  # even at PyTorch's init
    sig, relu = ex.depth_profile("sigmoid"), ex.depth_profile("relu")
    assert sig[0] / sig[-1] < 1e-4 and relu[0] / relu[-1] > 1e-2


@pytest.mark.slow
def test_seq2seq_attention_example_learns_reversal():
    """Budget: 300 steps of batch 64 on length-6 sequences."""
    _, report = _load("seq2seq_attention").train(steps=300, length=6)
    assert report["token_accuracy"] > 0.9
    assert 0 <= report["clipped"] <= report["steps"]


@pytest.mark.slow
def test_char_lm_example_beats_unigram():
    ex = _load("char_lm")
    model, chars, report = ex.train(ex.TEXT, passes=15)
    assert report["losses"][-1] < 0.5 * report["unigram"]
    text = ex.sample(model, chars, "the ", 50, temperature=0.5)
    assert len(text) == 50 and set(text) <= set(chars)
