"""A character-level GPT: a decoder-only Transformer that learns to continue text.

Token + learned position embeddings, pre-norm blocks (LayerNorm -> causal self-attention ->
residual, LayerNorm -> GELU MLP -> residual), a final LayerNorm, and an output layer that shares
its weight with the token embedding (weight tying). Trained with AdamW on random windows of a
small corpus; ``generate`` continues a prompt with ``glassgrad.decode.sample``.

Run it with ``.venv/bin/python examples/gpt_char.py``: it builds a corpus of simple sentences,
trains for a few hundred steps, compares the loss with the unigram baseline (how well you could
do knowing only how often each character occurs) and prints samples.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad import nn, optim
from glassgrad.datasets import CharTokenizer
from glassgrad.decode import causal_lm_step, sample
from glassgrad.tensor import Tensor

__all__ = ["GPT", "make_corpus", "unigram_loss", "train", "evaluate", "generate", "main"]


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees positions 0..t only.

    Shape:
        x ``(B, T, E)``; returns ``(B, T, E)``.
    """

    def __init__(self, d_model: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: Tensor) -> Tensor:
        B, T, E = x.shape
        q, k, v = self.qkv(x).split(E, dim=2)  # (B, T, 3E) -> 3 x (B, T, E)
        q, k, v = (
            t.view(B, T, self.n_head, E // self.n_head).transpose(1, 2) for t in (q, k, v)
        )  # (B, h, T, E/h)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, h, T, E/h)
        return self.proj(y.transpose(1, 2).reshape(B, T, E))  # (B, h, T, E/h) -> (B, T, E)


class Block(nn.Module):
    """A pre-norm Transformer block: x + attn(ln1(x)), then x + mlp(ln2(x))."""

    def __init__(self, d_model: int, n_head: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """A decoder-only language model with tied input and output embeddings.

    Shape:
        idx ``(B, T)`` token ids, ``T <= block_size``; returns logits ``(B, T, vocab_size)``.
    """

    def __init__(
        self, vocab_size: int, block_size: int = 32, d_model: int = 64, n_head: int = 4, n_layer: int = 2
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying: one (V, E) matrix reads and writes tokens
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, idx: Tensor) -> Tensor:
        T = idx.shape[1]
        if self.block_size < T:
            raise ValueError(f"GPT: expected at most block_size={self.block_size} tokens, got {T}")
        x = self.tok_emb(idx) + self.pos_emb(gg.arange(T))  # (B, T, E) + (T, E)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))  # (B, T, V)


_SUBJECTS = ["the cat", "a dog", "the old man", "my sister", "the bird", "a child"]
_VERBS = ["sees", "likes", "finds", "follows", "hears", "draws"]
_OBJECTS = ["the moon", "a red ball", "the river", "an apple", "the small house", "a green tree"]


def make_corpus(n_sentences: int = 2000, seed: int = 0) -> str:
    """Sentences from a tiny grammar, e.g. ``"the cat sees a red ball."``, joined by spaces."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, 6, size=(n_sentences, 3))  # (N, 3): subject, verb, object
    return " ".join(f"{_SUBJECTS[s]} {_VERBS[v]} {_OBJECTS[o]}." for s, v, o in picks.tolist())


def unigram_loss(ids: np.ndarray) -> float:
    """The cross-entropy (nats per character) of predicting every character by its frequency alone."""
    p = np.bincount(ids) / ids.size
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _batch(
    ids: np.ndarray, block_size: int, batch_size: int, rng: np.random.Generator
) -> tuple[Tensor, Tensor]:
    starts = rng.integers(0, ids.size - block_size - 1, size=batch_size)
    windows = ids[starts[:, None] + np.arange(block_size + 1)]  # (B, block_size + 1)
    return gg.tensor(windows[:, :-1]), gg.tensor(windows[:, 1:])


def train(
    model: GPT,
    ids: np.ndarray,
    steps: int = 300,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    log_every: int = 0,
) -> list[float]:
    """AdamW (no weight decay on biases and LayerNorm weights) on random windows; returns the losses."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr,
        betas=(0.9, 0.99),
    )
    rng = np.random.default_rng(seed)
    losses = []
    model.train()
    for step in range(steps):
        x, y = _batch(ids, model.block_size, batch_size, rng)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))  # (B, T, V) -> (B*T, V)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if log_every and (step + 1) % log_every == 0:
            print(f"step {step + 1:4d}  loss {np.mean(losses[-log_every:]):.3f}")
    return losses


@gg.no_grad()
def evaluate(model: GPT, ids: np.ndarray, batches: int = 8, batch_size: int = 32) -> float:
    """Mean loss on random windows of ``ids`` (held-out text)."""
    model.eval()
    rng = np.random.default_rng(123)
    losses = []
    for _ in range(batches):
        x, y = _batch(ids, model.block_size, batch_size, rng)
        logits = model(x)
        losses.append(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item())
    return float(np.mean(losses))


def generate(
    model: GPT,
    tok: CharTokenizer,
    prompt: str,
    length: int = 80,
    temperature: float = 0.8,
    top_k: int | None = None,
    top_p: float | None = None,
    num_samples: int = 1,
    generator: gg.Generator | None = None,
) -> list[str]:
    """Continue ``prompt`` by ``length`` sampled characters, ``num_samples`` times in parallel.

    PAD, BOS and EOS never occur in the corpus, but an undertrained model still gives them a little
    probability: they are masked out, so every sampled id is a character.
    """
    model.eval()
    lm_step = causal_lm_step(model, context_size=model.block_size)

    def step(prefixes: Tensor) -> np.ndarray:
        logp = lm_step(prefixes)  # (B, V)
        logp[:, [tok.pad_id, tok.bos_id, tok.eos_id]] = -np.inf
        return logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))  # renormalized over characters

    outs = sample(step, tok.encode(prompt), None, length, temperature, top_k, top_p, generator, num_samples)
    return [prompt + tok.decode(tokens) for tokens, _ in outs]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)
    gg.manual_seed(0)
    text = make_corpus()
    tok = CharTokenizer.from_text(text)
    ids = np.asarray(tok.encode(text), dtype=np.int64)
    split = int(0.9 * ids.size)
    train_ids, val_ids = ids[:split], ids[split:]
    model = GPT(len(tok))
    print(f"{sum(p.numel() for p in model.parameters())} parameters, vocabulary {len(tok)}")
    t0 = time.perf_counter()
    train(model, train_ids, steps=args.steps, log_every=50)
    print(f"trained in {time.perf_counter() - t0:.1f} s")
    print(
        f"held-out loss {evaluate(model, val_ids):.3f} nats/char; unigram baseline "
        f"{unigram_loss(train_ids):.3f}; uniform {math.log(len(tok)):.3f}\n"
    )
    for line in generate(model, tok, "the ", num_samples=4, generator=gg.Generator(0)):
        print(repr(line))


if __name__ == "__main__":
    main()
