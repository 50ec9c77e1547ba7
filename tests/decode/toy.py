"""Step functions over small next-token tables, shared by the decoding tests."""

from __future__ import annotations

import numpy as np

# The worked example of docs/decoding.md: greedy takes "I" (0.6) then "am" (0.3): 0.18; beam search
# with two beams keeps "You" (0.4) and finds "are" (0.9): 0.36.
BOS, EOS, I, YOU, AM, ARE, WAS, IS = range(8)
WORDS = ["<bos>", "<eos>", "I", "You", "am", "are", "was", "is"]
_TABLE = np.zeros((8, 8))
_TABLE[BOS, [I, YOU]] = [0.6, 0.4]
_TABLE[I, [AM, WAS, IS, ARE]] = [0.3, 0.25, 0.25, 0.2]
_TABLE[YOU, [ARE, WAS]] = [0.9, 0.1]
_TABLE[[AM, ARE, WAS, IS], EOS] = 1.0
_TABLE[EOS, EOS] = 1.0  # never asked for: a finished hypothesis is not extended
with np.errstate(divide="ignore"):
    TOY_LOGP = np.log(_TABLE)  # (V, V): row = last token, -inf where impossible


class MarkovStep:
    """``step_fn`` from a (V, V) table of log-probabilities given the last token; records its calls."""

    def __init__(self, logp: np.ndarray) -> None:
        self.logp = logp
        self.calls: list[np.ndarray] = []

    def __call__(self, prefixes):
        arr = prefixes.numpy()
        self.calls.append(arr.copy())
        return self.logp[arr[:, -1]]


def random_table(rng: np.random.Generator, vocab: int, sharp: float = 2.0) -> np.ndarray:
    """A random Markov table of log-probabilities, (V, V), with no exact ties."""
    z = rng.standard_normal((vocab, vocab)) * sharp
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


class PrefixStep:
    """``step_fn`` whose log-probabilities are drawn afresh for every whole prefix (no Markov ties)."""

    def __init__(self, seed: int, vocab: int, sharp: float = 1.0) -> None:
        self.seed, self.vocab, self.sharp = seed, vocab, sharp

    def row(self, prefix) -> np.ndarray:
        z = np.random.default_rng([self.seed, *map(int, prefix)]).standard_normal(self.vocab) * self.sharp
        return z - np.log(np.exp(z).sum())

    def __call__(self, prefixes):
        return np.stack([self.row(p) for p in prefixes.numpy()])  # (B, V)
