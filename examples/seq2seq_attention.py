"""An encoder-decoder with additive (Bahdanau) attention learns to reverse sequences.

Run it with ``.venv/bin/python examples/seq2seq_attention.py``. The encoder is a GRU over the
source tokens; the decoder is a ``GRUCell`` that, at every output step, attends over all encoder
outputs with ``nn.AdditiveAttention`` (score = v^T tanh(W [h_i; s_{j-1}])), reads the weighted
context, and predicts the next token. It trains with teacher forcing (the decoder reads the true
previous token), gradients clipped to a global norm of 1 (the number of clipped steps is
reported), then decodes greedily. For reversal the learned attention is close to anti-diagonal:
output step j mostly looks at input step L - 1 - j (or its neighbour), as the printed weights show.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad import nn, optim
from glassgrad.datasets import reversal
from glassgrad.nn import functional as F

__all__ = ["Seq2Seq", "train", "main"]

BOS = 0  # reversal() keeps id 0 free for the start token


class Seq2Seq(nn.Module):
    """GRU encoder, attention + GRUCell decoder.

    Shape:
        src ``(N, L)`` and decoder inputs ``(N, L')`` int64 -> logits ``(N, L', V)`` and attention
        weights ``(N, L', L)``.
    """

    def __init__(self, vocab: int, emb: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.attention = nn.AdditiveAttention(hidden, hidden, hidden)
        self.decoder = nn.GRUCell(emb + hidden, hidden)
        self.out = nn.Linear(2 * hidden, vocab)

    def encode(self, src: gg.Tensor) -> tuple[gg.Tensor, gg.Tensor]:
        keys, h = self.encoder(self.embed(src))  # (N, L, H), (1, N, H)
        return keys, h[0]

    def step(self, token: gg.Tensor, state: gg.Tensor, keys: gg.Tensor) -> tuple[gg.Tensor, ...]:
        """One decoder step: attend with the previous state, update it, predict. token ``(N,)``."""
        context, weights = self.attention(state, keys)  # (N, H), (N, L)
        state = self.decoder(gg.cat([self.embed(token), context], dim=1), state)  # (N, E + H) -> (N, H)
        return self.out(gg.cat([state, context], dim=1)), state, weights  # (N, V)

    def forward(self, src: gg.Tensor, dec_in: gg.Tensor) -> tuple[gg.Tensor, gg.Tensor]:
        keys, state = self.encode(src)
        logits, weights = [], []
        for t in range(dec_in.shape[1]):
            out, state, w = self.step(dec_in[:, t], state, keys)
            logits.append(out)
            weights.append(w)
        return gg.stack(logits, dim=1), gg.stack(weights, dim=1)

    def greedy(self, src: gg.Tensor, length: int) -> tuple[gg.Tensor, gg.Tensor]:
        """Decode ``length`` tokens, feeding back each argmax."""
        with gg.no_grad():
            keys, state = self.encode(src)
            token = gg.zeros(src.shape[0], dtype=gg.int64) + BOS
            out, weights = [], []
            for _ in range(length):
                logits, state, w = self.step(token, state, keys)
                token = logits.argmax(-1)
                out.append(token)
                weights.append(w)
        return gg.stack(out, dim=1), gg.stack(weights, dim=1)


def train(
    steps: int = 400, length: int = 8, vocab: int = 8, batch: int = 64, seed: int = 0
) -> tuple[Seq2Seq, dict]:
    """Train on fresh random batches; returns the model and a report (loss, clipped steps, accuracy)."""
    gg.manual_seed(seed)
    model = Seq2Seq(vocab + 1)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    clipped = 0
    for _ in range(steps):
        src, tgt = reversal(batch, length, vocab)
        dec_in = gg.cat([gg.zeros(batch, 1, dtype=gg.int64) + BOS, tgt[:, :-1]], dim=1)  # teacher forcing
        logits, _ = model(src, dec_in)
        loss = F.cross_entropy(logits.reshape(-1, vocab + 1), tgt.reshape(-1))  # (N, L, V) -> (N*L, V)
        opt.zero_grad()
        loss.backward()
        clipped += float(nn.utils.clip_grad_norm_(model.parameters(), 1.0)) > 1.0
        opt.step()
    src, tgt = reversal(512, length, vocab)
    pred, _ = model.greedy(src, length)
    correct = (pred == tgt).numpy()
    report = {
        "loss": loss.item(),
        "clipped": clipped,
        "steps": steps,
        "token_accuracy": float(correct.mean()),
        "sequence_accuracy": float(correct.all(axis=1).mean()),
    }
    return model, report


def main() -> None:
    model, report = train()
    print(
        f"after {report['steps']} steps: loss {report['loss']:.3f}, gradient clipped on {report['clipped']} steps, "
        f"greedy token accuracy {report['token_accuracy']:.1%}, whole sequences {report['sequence_accuracy']:.1%}"
    )
    src, _ = reversal(1, 8, 8)
    pred, weights = model.greedy(src, 8)
    print("source:   ", src.tolist()[0])
    print("reversed: ", pred.tolist()[0])
    print("attention (row = output step, column = input step):")
    for row in np.round(weights.numpy()[0], 2):
        print("  " + " ".join(f"{v:4.2f}" for v in row))


if __name__ == "__main__":
    main()
