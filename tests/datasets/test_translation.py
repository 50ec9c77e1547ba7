"""Tokenizers and the dates-in-words task: round trips, specials, padding, seeding, disjoint splits."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.datasets import CharTokenizer, DateTranslation, WordTokenizer, date_in_words, year_in_words


def test_char_tokenizer_round_trip_and_specials():
    tok = CharTokenizer.from_text("hello world")
    assert len(tok) == 3 + len(set("hello world")) and tok.itos[:3] == ["<pad>", "<bos>", "<eos>"]
    ids = tok.encode("low", bos=True, eos=True)
    assert ids[0] == tok.bos_id == 1 and ids[-1] == tok.eos_id == 2 and len(ids) == 5
    assert tok.decode(ids) == "low"
    assert tok.decode([*tok.encode("he"), tok.eos_id, *tok.encode("llo")]) == "he"  # stops at EOS
    assert tok.decode(gg.tensor([1, *tok.encode("lo"), 0, 0])) == "lo"
    with pytest.raises(KeyError, match="'z' is not in the vocabulary"):
        tok.encode("z")
    with pytest.raises(ValueError, match="distinct"):
        CharTokenizer("aa")


def test_word_tokenizer_splits_punctuation_and_pads_batches():
    tok = WordTokenizer(["march", "third", ",", "nineteen", "ninety"])
    assert tok.split("march third, nineteen ninety") == ["march", "third", ",", "nineteen", "ninety"]
    batch = tok.batch(["march third", "nineteen ninety , march"], eos=True)
    assert batch.dtype == gg.int64 and batch.shape == (2, 5)
    assert batch.tolist()[0] == [*tok.encode("march third"), tok.eos_id, 0, 0]
    assert tok.decode(batch[1]) == "nineteen ninety , march"
    assert tok.batch(["march"], length=4).shape == (1, 4)
    with pytest.raises(ValueError, match="at most 1 ids"):
        tok.batch(["march third"], length=1)


@pytest.mark.parametrize(
    ("date", "style", "variant", "words"),
    [
        ((1990, 3, 3), 0, 0, "march third, nineteen ninety"),
        ((1905, 11, 30), 1, 0, "the thirtieth of november, nineteen oh five"),
        ((1900, 1, 1), 0, 1, "january first, nineteen hundred"),
        ((2000, 12, 31), 0, 1, "december thirty first, two thousand"),
        ((2009, 5, 20), 1, 1, "the twentieth of may, two thousand nine"),
        ((2012, 6, 22), 0, 0, "june twenty second, two thousand twelve"),
        ((2012, 6, 22), 0, 1, "june twenty second, twenty twelve"),
        ((2099, 2, 11), 0, 1, "february eleventh, twenty ninety nine"),
    ],
)
def test_dates_in_words(date, style, variant, words):
    assert date_in_words(datetime.date(*date), style, variant) == words


def test_every_year_reads_differently():
    for variant in (0, 1):
        readings = [year_in_words(y, variant) for y in range(1900, 2100)]
        assert len(set(readings)) == 200


def test_task_is_seeded_disjoint_and_encodes_every_date():
    task = DateTranslation(n_train=3000, n_test=500, seed=1)
    assert len(task.train) == 3000 and len(task.test) == 500
    train_dates = {iso for _, iso in task.train}
    assert len(train_dates) == 3000 and not train_dates & {iso for _, iso in task.test}
    again = DateTranslation(n_train=3000, n_test=500, seed=1)
    assert again.train == task.train and again.test == task.test
    assert DateTranslation(n_train=3000, n_test=500, seed=2).test != task.test
    for words, iso in task.train[:200]:
        d = datetime.date.fromisoformat(iso)
        assert words in {date_in_words(d, s, v) for s in (0, 1) for v in (0, 1)}
    src, tgt = task.tensors("train")
    assert src.shape[0] == tgt.shape[0] == 3000 and tgt.shape[1] == 12
    t = tgt.numpy()
    assert (t[:, 0] == 1).all() and (t[:, -1] == 2).all()
    assert [task.tgt_tokenizer.decode(row) for row in t[:5]] == [iso for _, iso in task.train[:5]]
    assert [task.src_tokenizer.decode(row) for row in src.numpy()[:5]] == [
        w.replace(",", " ,") for w, _ in task.train[:5]
    ]
    styles = {w.startswith("the ") for w, _ in task.train}
    assert styles == {True, False}
    assert np.isin(src.numpy(), np.arange(len(task.src_tokenizer))).all()


def test_task_refuses_impossible_sizes():
    with pytest.raises(ValueError, match="distinct dates"):
        DateTranslation(n_train=80_000, n_test=0)
    with pytest.raises(ValueError, match="n_test"):
        DateTranslation(n_train=10, n_test=-1)
    with pytest.raises(ValueError, match="split"):
        DateTranslation(10, 2).tensors("valid")
