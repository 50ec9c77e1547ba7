"""datasets.sequences: shapes, dtypes, labels and seeding of the synthetic sequence tasks."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.datasets import adding_problem, char_vocab, first_token, reversal


def test_adding_problem_targets_are_the_sum_of_the_two_marked_values():
    x, y = adding_problem(16, 20)
    assert x.shape == (16, 20, 2) and x.dtype == gg.float32 and y.shape == (16,)
    xa = x.numpy()
    assert (xa[:, :, 1].sum(axis=1) == 2).all()
    assert (xa[:, :10, 1].sum(axis=1) == 1).all()  # one marker in each half
    np.testing.assert_allclose((xa[:, :, 0] * xa[:, :, 1]).sum(axis=1), y.numpy(), rtol=1e-6)


def test_first_token_label_and_distractors():
    x, y = first_token(32, 10, vocab=3, noise=5)
    xa = x.numpy()
    assert (xa[:, 0] == y.numpy()).all() and (xa[:, 0] < 3).all()
    assert ((xa[:, 1:] >= 3) & (xa[:, 1:] < 8)).all()


def test_reversal_and_seeding():
    gg.manual_seed(3)
    src, tgt = reversal(4, 6, vocab=5)
    np.testing.assert_array_equal(tgt.numpy(), src.numpy()[:, ::-1])
    assert src.numpy().min() >= 1 and src.numpy().max() <= 5
    gg.manual_seed(3)
    np.testing.assert_array_equal(reversal(4, 6, vocab=5)[0].numpy(), src.numpy())
    with pytest.raises(ValueError, match="positive"):
        reversal(0, 3)


def test_char_vocab():
    chars, ids = char_vocab("hello")
    assert chars == ["e", "h", "l", "o"] and ids.tolist() == [1, 0, 2, 2, 3]
