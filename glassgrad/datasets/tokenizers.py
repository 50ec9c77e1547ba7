"""Character and word tokenizers with the special ids sequence models need: PAD, BOS, EOS.

Ids 0, 1, 2 are always ``<pad>``, ``<bos>``, ``<eos>``; the symbols follow in the order given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from glassgrad.tensor import Tensor

__all__ = ["Tokenizer", "CharTokenizer", "WordTokenizer", "PAD", "BOS", "EOS"]

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
_WORD = re.compile(r"\w+|[^\w\s]")  # words, and each punctuation mark on its own


class Tokenizer:
    """Maps symbols to ids and back; subclasses say how text splits into symbols.

    Args:
        symbols: the vocabulary (distinct, without the three specials).

    Attributes:
        pad_id, bos_id, eos_id: 0, 1, 2.
        itos: id -> symbol, the specials first.
    """

    pad_id, bos_id, eos_id = 0, 1, 2
    joiner = ""

    def __init__(self, symbols: Iterable[str]) -> None:
        symbols = list(symbols)
        if len(set(symbols)) != len(symbols) or {PAD, BOS, EOS} & set(symbols):
            raise ValueError(
                f"{type(self).__name__}: expected distinct symbols without the specials, got {symbols}"
            )
        self.itos = [PAD, BOS, EOS, *symbols]
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab={len(self)})"

    def split(self, text: str) -> list[str]:
        raise NotImplementedError

    def encode(self, text: str, bos: bool = False, eos: bool = False) -> list[int]:
        """The ids of ``text``, optionally framed by BOS and EOS; an unknown symbol is a ``KeyError``."""
        try:
            ids = [self.stoi[s] for s in self.split(text)]
        except KeyError as e:
            raise KeyError(
                f"{type(self).__name__}.encode: symbol {e.args[0]!r} is not in the vocabulary"
            ) from None
        return [self.bos_id] * bos + ids + [self.eos_id] * eos

    def decode(self, ids: Iterable[int] | Tensor) -> str:
        """The text of ``ids``: stops at the first EOS, skips PAD and BOS."""
        out = []
        for i in ids.tolist() if isinstance(ids, Tensor) else ids:
            if i == self.eos_id:
                break
            if i not in (self.pad_id, self.bos_id):
                out.append(self.itos[i])
        return self.joiner.join(out)

    def batch(
        self, texts: Sequence[str], bos: bool = False, eos: bool = False, length: int | None = None
    ) -> Tensor:
        """Encode several texts and pad them with PAD to one length (the longest, or ``length``).

        Shape:
            returns ``(N, L)`` int64.
        """
        rows = [self.encode(t, bos, eos) for t in texts]
        L = max((len(r) for r in rows), default=0) if length is None else length
        if any(len(r) > L for r in rows):
            raise ValueError(
                f"{type(self).__name__}.batch: expected texts of at most {L} ids, got {max(map(len, rows))}"
            )
        out = np.full((len(rows), L), self.pad_id, dtype=np.int64)  # (N, L)
        for i, r in enumerate(rows):
            out[i, : len(r)] = r
        return Tensor(out, _wrap=True)


class CharTokenizer(Tokenizer):
    """One id per character.

    >>> tok = CharTokenizer("0123456789-")
    >>> tok.encode("19-3", eos=True), tok.decode(tok.encode("19-3", bos=True, eos=True))
    ([4, 12, 13, 6, 2], '19-3')
    """

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """A tokenizer for every character that occurs in ``text``, in sorted order."""
        return cls(sorted(set(text)))

    def split(self, text: str) -> list[str]:
        return list(text)


class WordTokenizer(Tokenizer):
    """One id per word; punctuation marks are words of their own, whitespace separates.

    >>> tok = WordTokenizer(["march", "third", ","])
    >>> tok.encode("march third,"), tok.decode([3, 4, 5])
    ([3, 4, 5], 'march third ,')
    """

    joiner = " "

    def split(self, text: str) -> list[str]:
        return _WORD.findall(text)
