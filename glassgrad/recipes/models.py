"""The models the recipes and the tour train: small, built only from ``glassgrad.nn``.

Each is built from a plain ``config`` dict (ints and strings) that the checkpoint stores beside the
weights, so ``glassgrad eval`` can rebuild the same model before loading them.
"""

from __future__ import annotations

import itertools
from typing import Any

import glassgrad as gg
from glassgrad import nn
from glassgrad.tensor import Tensor

__all__ = ["Translator", "CharGPT", "SequenceClassifier", "build_mlp", "build_cnn"]

PAD = 0


def build_mlp(sizes: list[int], activation: str = "tanh") -> nn.Sequential:
    """Linear layers of the given widths with ``activation`` between them (logits out)."""
    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[activation]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def build_cnn(channels: int = 16, classes: int = 10) -> nn.Sequential:
    """A small convnet for 8x8 digits.

    Shape:
        input ``(N, 1, 8, 8)``; returns logits ``(N, classes)``.
    """
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1),  # (N, C, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, C, 4, 4)
        nn.Conv2d(channels, 2 * channels, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 2C, 2, 2)
        nn.Flatten(),  # (N, 8C)
        nn.Linear(8 * channels, classes),
    )


class SequenceClassifier(nn.Module):
    """An LSTM (or RNN/GRU) over a sequence, a linear read-out of its last hidden state.

    Shape:
        x ``(N, T, input_size)``; returns ``(N, classes)``.
    """

    def __init__(self, input_size: int, hidden_size: int, classes: int, cell: str = "lstm") -> None:
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.rnn = rnn(input_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, classes)

    def forward(self, x: Tensor) -> Tensor:
        h, _ = self.rnn(x)  # (N, T, H)
        return self.out(h[:, -1])


class Translator(nn.Module):
    """Token embeddings + sinusoidal codes, ``nn.Transformer`` (pre-norm) and a target projection.

    Shape:
        src ``(N, S)`` ids (0 = PAD), tgt ``(N, T)`` ids from BOS; returns ``(N, T, tgt_vocab)``.
    """

    def __init__(
        self, src_vocab: int, tgt_vocab: int, d_model: int = 64, nhead: int = 4, num_layers: int = 2
    ) -> None:
        super().__init__()
        self.d_model = d_model
        self.src_emb = nn.Embedding(src_vocab, d_model, padding_idx=PAD)
        self.tgt_emb = nn.Embedding(tgt_vocab, d_model, padding_idx=PAD)
        self.pos = nn.SinusoidalPositionalEncoding(d_model, 32)
        self.transformer = nn.Transformer(
            d_model, nhead, num_layers, num_layers, 2 * d_model, 0.0, batch_first=True, norm_first=True
        )
        self.out = nn.Linear(d_model, tgt_vocab)
        for emb in (self.src_emb, self.tgt_emb):  # std d^-1/2: unit size after the sqrt(d) scale
            nn.init.normal_(emb.weight, std=d_model**-0.5)
            emb.weight.data[PAD] = 0.0

    def embed(self, emb: nn.Embedding, ids: Tensor, start: int = 0) -> Tensor:
        return self.pos(emb(ids) * self.d_model**0.5, offset=start)  # (N, T, E)

    def encode(self, src: Tensor) -> Tensor:
        return self.transformer.encoder(self.embed(self.src_emb, src), src_key_padding_mask=src == PAD)

    def decode(self, tgt: Tensor, memory: Tensor, src: Tensor | None = None) -> Tensor:
        mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
        pad = None if src is None else src == PAD
        h = self.transformer.decoder(
            self.embed(self.tgt_emb, tgt), memory, tgt_mask=mask, memory_key_padding_mask=pad
        )
        return self.out(h)

    def forward(self, src: Tensor, tgt: Tensor) -> Tensor:
        return self.decode(tgt, self.encode(src), src)


class CharGPT(nn.Module):
    """A decoder-only character model: embeddings, causal pre-norm encoder layers, a tied head.

    Shape:
        idx ``(B, T)``, ``T <= block_size``; returns logits ``(B, T, vocab_size)``.
    """

    def __init__(
        self, vocab_size: int, block_size: int = 32, d_model: int = 64, nhead: int = 4, num_layers: int = 2
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, nhead, 4 * d_model, 0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(layer, num_layers)
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying: one (V, E) matrix reads and writes tokens
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)

    def forward(self, idx: Tensor) -> Tensor:
        T = idx.shape[1]
        if self.block_size < T:
            raise ValueError(f"CharGPT: expected at most block_size={self.block_size} tokens, got {T}")
        x = self.tok_emb(idx) + self.pos_emb(gg.arange(T))  # (B, T, E) + (T, E)
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        return self.head(self.ln_f(self.blocks(x, mask=mask, is_causal=True)))  # (B, T, V)


def config_ints(config: dict[str, Any], *names: str) -> list[int]:
    return [int(config[n]) for n in names]
