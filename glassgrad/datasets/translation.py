"""A synthetic translation task made on the fly: dates written in words -> ISO dates.

``"march third, nineteen ninety"`` -> ``"1990-03-03"``, or ``"the twenty first of june, two
thousand five"`` -> ``"2005-06-21"``. Small enough to train an encoder-decoder on a CPU in a minute,
yet it needs what translation needs: reordering (day and month swap places), one word becoming
several characters and several words one character, and variants with the same meaning.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np

from glassgrad.datasets.tokenizers import CharTokenizer, WordTokenizer
from glassgrad.tensor import Tensor

__all__ = ["date_in_words", "year_in_words", "DateTranslation"]

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL_ONES = [
    "_",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
_ORDINAL_TENS = {20: "twentieth", 30: "thirtieth"}
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_START, _END = datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)


def _number(n: int) -> str:
    """0..99 in words: ``"ninety five"``."""
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")


def _ordinal(n: int) -> str:
    """1..31 as an ordinal: ``"twenty first"``."""
    if n < 20:
        return _ORDINAL_ONES[n]
    tens, ones = divmod(n, 10)
    return _ORDINAL_TENS[n] if not ones else f"{_TENS[tens]} {_ORDINAL_ONES[ones]}"


def year_in_words(year: int, variant: int = 0) -> str:
    """A year of 1900..2099 as read aloud; ``variant`` 1 reads 2010..2099 as ``"twenty ten"``.

    >>> year_in_words(1905), year_in_words(1990), year_in_words(2005), year_in_words(2012, variant=1)
    ('nineteen oh five', 'nineteen ninety', 'two thousand five', 'twenty twelve')
    """
    century, rest = divmod(year, 100)
    if century == 20 and (rest < 10 or not variant):
        return "two thousand" + (f" {_number(rest)}" if rest else "")
    head = _number(century)
    if rest == 0:
        return f"{head} hundred"
    return f"{head} oh {_ONES[rest]}" if rest < 10 else f"{head} {_number(rest)}"


def date_in_words(date: datetime.date, style: int = 0, year_variant: int = 0) -> str:
    """``style`` 0: ``"march third, nineteen ninety"``; 1: ``"the third of march, nineteen ninety"``.

    >>> date_in_words(datetime.date(1990, 3, 3), style=1)
    'the third of march, nineteen ninety'
    """
    day, month, year = _ordinal(date.day), _MONTHS[date.month - 1], year_in_words(date.year, year_variant)
    return f"{month} {day}, {year}" if style == 0 else f"the {day} of {month}, {year}"


def _source_words() -> list[str]:
    words = {*_ONES, *_TENS[2:], *_ORDINAL_ONES[1:], *_ORDINAL_TENS.values(), *_MONTHS}
    return sorted(words | {"hundred", "thousand", "oh", "the", "of", ","})


@dataclass
class DateTranslation:
    """The dates task, split into training and held-out dates that never overlap.

    Distinct dates between 1900-01-01 and 2099-12-31 are drawn without replacement from a seeded
    generator; the first ``n_test`` are held out, so no held-out date appears in training under
    any wording. Each date gets a random wording (style and year variant).

    Args:
        n_train: training pairs.
        n_test: held-out pairs.
        seed: the seed of the draw (the task is the same for the same arguments).

    Attributes:
        train, test: lists of ``(words, iso)`` pairs.
        src_tokenizer: a ``WordTokenizer`` for the words; tgt_tokenizer: a ``CharTokenizer`` for
            ``0-9`` and ``-``. Both have PAD = 0, BOS = 1, EOS = 2.

    >>> task = DateTranslation(n_train=3, n_test=2, seed=0)
    >>> len(task.train), len(task.test), len(task.tgt_tokenizer)
    (3, 2, 14)
    >>> src, tgt = task.tensors("test")
    >>> tuple(tgt.shape)  # BOS, ten characters, EOS
    (2, 12)
    """

    n_train: int
    n_test: int
    seed: int = 0
    train: list[tuple[str, str]] = field(init=False, repr=False)
    test: list[tuple[str, str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n_days = (_END - _START).days + 1
        for name in ("n_train", "n_test"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0:
                raise ValueError(f"DateTranslation: expected {name} to be a non-negative int, got {v!r}")
        if self.n_train + self.n_test > n_days:
            raise ValueError(
                f"DateTranslation: expected n_train + n_test <= {n_days} distinct dates, got {self.n_train + self.n_test}"
            )
        rng = np.random.default_rng(self.seed)
        offsets = rng.choice(n_days, size=self.n_train + self.n_test, replace=False)
        styles = rng.integers(0, 2, size=(offsets.size, 2))  # (N, 2): wording, year variant
        pairs = []
        for off, (style, variant) in zip(offsets.tolist(), styles.tolist()):
            d = _START + datetime.timedelta(days=off)
            pairs.append((date_in_words(d, style, variant), d.isoformat()))
        self.test, self.train = pairs[: self.n_test], pairs[self.n_test :]
        self.src_tokenizer = WordTokenizer(_source_words())
        self.tgt_tokenizer = CharTokenizer("0123456789-")

    def tensors(self, split: str = "train") -> tuple[Tensor, Tensor]:
        """The split as padded id tensors: sources (no BOS/EOS) and targets framed by BOS ... EOS.

        Shape:
            src ``(N, S)`` (S: the longest wording), tgt ``(N, 12)``; both int64, padded with 0.
        """
        if split not in ("train", "test"):
            raise ValueError(f"DateTranslation.tensors: expected split 'train' or 'test', got {split!r}")
        pairs = self.train if split == "train" else self.test
        src = self.src_tokenizer.batch([w for w, _ in pairs])
        tgt = self.tgt_tokenizer.batch([iso for _, iso in pairs], bos=True, eos=True)
        return src, tgt
