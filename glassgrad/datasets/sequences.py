"""Synthetic sequence tasks made on the fly, for recurrent networks.

- :func:`adding_problem`: add the two marked numbers of a long sequence (a long-range regression).
- :func:`first_token`: name the first token after a long stretch of noise (long-range memory).
- :func:`reversal`: a seq2seq task, output the input sequence reversed.
- :func:`char_vocab`: a character vocabulary and the text as ids, for character language models.

Each function stands alone. Random ones draw from ``glassgrad.random`` (``generator=`` or the global
generator that ``manual_seed`` seeds), so a seed reproduces them.
"""

from __future__ import annotations

import numpy as np

from glassgrad.random import Generator, get_generator
from glassgrad.tensor import Tensor

__all__ = ["adding_problem", "first_token", "reversal", "char_vocab"]


def _positive(op: str, **sizes: int) -> None:
    for key, v in sizes.items():
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{op}: expected {key} to be a positive int, got {v!r}")


def adding_problem(n: int, length: int, generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """The adding problem (Hochreiter & Schmidhuber, 1997).

    Each step carries a value drawn from U(0, 1) and a marker; exactly two steps are marked, one in
    each half of the sequence, and the target is the sum of their values. Predicting the mean
    (1.0) gives a mean squared error of about 1/6; solving it needs memory over ``length`` steps.

    Shape:
        returns ``x`` ``(n, length, 2)`` float32 (value, marker) and ``y`` ``(n,)`` float32.
    """
    _positive("adding_problem", n=n, length=length)
    if length < 2:
        raise ValueError(f"adding_problem: expected length >= 2, got {length}")
    rng = get_generator(generator)
    values = rng.uniform(0.0, 1.0, (n, length))
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    marks = np.zeros((n, length))
    rows = np.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    x = np.stack([values, marks], axis=2).astype(np.float32)  # 2 x (n, L) -> (n, L, 2)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)
    return Tensor(x, _wrap=True), Tensor(y, _wrap=True)


def first_token(
    n: int, length: int, vocab: int = 4, noise: int = 4, generator: Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Remember the first token: a token from ``[0, vocab)``, then ``length - 1`` distractors drawn
    from ``[vocab, vocab + noise)``; the label is the first token.

    Chance accuracy is ``1 / vocab``. The distractors are tokens of their own, so a model can learn
    to ignore them; what it must learn is to carry one token across ``length - 1`` steps, which a
    tanh RNN's vanishing gradient prevents and gated cells (GRU, LSTM) allow.

    Shape:
        returns ``x`` ``(n, length)`` int64 tokens in ``[0, vocab + noise)`` and ``y`` ``(n,)`` int64.
    """
    _positive("first_token", n=n, length=length, vocab=vocab, noise=noise)
    rng = get_generator(generator)
    x = rng.integers(vocab, vocab + noise, (n, length)).astype(np.int64)
    x[:, 0] = rng.integers(0, vocab, n)
    return Tensor(x, _wrap=True), Tensor(x[:, 0].copy(), _wrap=True)


def reversal(
    n: int, length: int, vocab: int = 8, generator: Generator | None = None
) -> tuple[Tensor, Tensor]:
    """A seq2seq task: the target is the source reversed.

    Tokens are in ``[1, vocab]``; id 0 is left free for a start-of-sequence token, which a decoder
    reads first (its inputs are then ``[0, y_0, ..., y_{L-2}]``, "teacher forcing"). The first
    output token depends on the last input and the last on the first, so an encoder-decoder must
    carry the whole sequence, and attention helps it look back at the right step.

    Shape:
        returns ``src`` and ``tgt``, both ``(n, length)`` int64.
    """
    _positive("reversal", n=n, length=length, vocab=vocab)
    src = get_generator(generator).integers(1, vocab + 1, (n, length)).astype(np.int64)
    return Tensor(src, _wrap=True), Tensor(src[:, ::-1].copy(), _wrap=True)


def char_vocab(text: str) -> tuple[list[str], Tensor]:
    """The sorted characters of ``text`` and the text as their ids.

    Shape:
        returns ``chars`` (a list of V characters) and ``ids`` ``(len(text),)`` int64.

    >>> chars, ids = char_vocab("abba")
    >>> chars, ids.tolist()
    (['a', 'b'], [0, 1, 1, 0])
    """
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    return chars, Tensor(np.array([index[c] for c in text], dtype=np.int64), _wrap=True)
