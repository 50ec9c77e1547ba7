"""A character-level LSTM language model, trained with truncated BPTT, sampled with temperature.

Run it with ``.venv/bin/python examples/char_lm.py [text file]`` (without a file it uses a short
built-in text). The text is cut into a few long parallel streams; ``glassgrad.train.tbptt`` walks
them in chunks of 32 characters, carrying the LSTM state across chunks (detached), with gradients
clipped to a global norm of 1 (the number of clipped updates is reported). The loss is compared
with the unigram baseline (the entropy of the character frequencies: what a model that ignores
context achieves). Sampling divides the logits by a temperature before the softmax: below 1 it
sharpens the distribution (safer, repetitive text), above 1 it flattens it (more varied, more errors).
"""

from __future__ import annotations

import sys

import numpy as np

import glassgrad as gg
from glassgrad import nn, optim
from glassgrad.datasets import char_vocab
from glassgrad.nn import functional as F
from glassgrad.train import tbptt

__all__ = ["CharLM", "sample", "train", "main"]

TEXT = """\
the quick brown fox jumps over the lazy dog. the dog sleeps in the sun and the fox runs into the
wood. a bird sings on the branch of an old tree, and the wind moves the leaves. in the evening the
fox comes back to the river to drink, and the dog wakes up and barks at the moon. the moon is round
and white, and the stars are small. the bird sleeps in its nest until the sun comes up again.
"""


class CharLM(nn.Module):
    """Embedding -> LSTM -> Linear. ``forward(ids (N, T), state) -> (logits (N, T, V), state)``."""

    def __init__(self, vocab: int, emb: int = 32, hidden: int = 128) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids: gg.Tensor, state=None):
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


def sample(model: CharLM, chars: list[str], prompt: str, n: int, temperature: float = 1.0) -> str:
    """``n`` characters after ``prompt``, each drawn from softmax(logits / temperature)."""
    index = {c: i for i, c in enumerate(chars)}
    ids = gg.tensor([[index[c] for c in prompt]])
    state, out = None, []
    with gg.no_grad():
        for _ in range(n):
            logits, state = model(ids, state)
            nxt = int(gg.multinomial(F.softmax(logits[0, -1] / temperature, dim=-1), 1).item())
            out.append(chars[nxt])
            ids = gg.tensor([[nxt]])
    return "".join(out)


def train(
    text: str, passes: int = 30, streams: int = 4, k: int = 32, seed: int = 0
) -> tuple[CharLM, list[str], dict]:
    """Train with TBPTT over ``streams`` parallel slices of the text; returns model, vocabulary, report."""
    gg.manual_seed(seed)
    chars, ids = char_vocab(text)
    data = ids.numpy()
    length = data.size // streams - 1
    rows = np.stack([data[r * (length + 1) : (r + 1) * (length + 1)] for r in range(streams)])  # (S, L + 1)
    x, y = gg.tensor(rows[:, :-1]), gg.tensor(rows[:, 1:])
    model = CharLM(len(chars))
    opt = optim.Adam(model.parameters(), lr=5e-3)
    vocab = len(chars)

    def loss_fn(logits: gg.Tensor, target: gg.Tensor) -> gg.Tensor:
        return F.cross_entropy(logits.reshape(-1, vocab), target.reshape(-1))  # (S, k, V) -> (S*k, V)

    clipped, losses = 0, []
    for _ in range(passes):
        result = tbptt(model, x, y, loss_fn, opt, k=k, batch_first=True, max_norm=1.0)
        clipped += result.clipped
        losses.append(float(np.mean(result.losses)))
    p = np.bincount(data) / data.size
    unigram = float(-(p[p > 0] * np.log(p[p > 0])).sum())
    return (
        model,
        chars,
        {"losses": losses, "unigram": unigram, "clipped": clipped, "updates": passes * len(result.losses)},
    )


def main() -> None:
    text = TEXT
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as f:
            text = f.read()
    model, chars, report = train(text)
    print(f"unigram baseline: {report['unigram']:.3f} nats/char")
    print(f"mean loss per pass: first {report['losses'][0]:.3f}, last {report['losses'][-1]:.3f} nats/char")
    print(f"gradient clipped on {report['clipped']} of {report['updates']} updates")
    for temperature in (0.5, 1.0, 1.5):
        print(f"\ntemperature {temperature}:")
        print("the " + sample(model, chars, "the ", 200, temperature))


if __name__ == "__main__":
    main()
