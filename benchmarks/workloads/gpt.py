"""``gpt`` and ``gpt_sdpa``: one training step of a small decoder-only Transformer (a minimal GPT).

Vocabulary 65 (a character set), d_model 128, 4 heads, 2 pre-norm blocks with an MLP of 512 and
exact GELU, context 64, batch 16, AdamW. ``gpt`` writes causal attention by hand (matmul,
masked_fill with a tril buffer, softmax, matmul), as a PyTorch user would; ``gpt_sdpa`` calls
``F.scaled_dot_product_attention(is_causal=True)``. The model is written once, against the
library's ``nn``/``F``, and built for glassgrad and for PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from benchmarks.workloads import Workload, register
from benchmarks.workloads.common import library

__all__ = ["build", "make_gpt"]

VOCAB, D_MODEL, HEADS, LAYERS, MLP, CONTEXT, BATCH = 65, 128, 4, 2, 512, 64, 16
LR = 3e-4


def make_gpt(m, sdpa: bool):
    """The GPT class for library namespace ``m`` (``lib``, ``nn``, ``F``)."""
    nn, F, lib = m.nn, m.F, m.lib

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(D_MODEL, 3 * D_MODEL)
            self.c_proj = nn.Linear(D_MODEL, D_MODEL)
            mask = lib.tril(lib.ones(CONTEXT, CONTEXT)).view(1, 1, CONTEXT, CONTEXT)
            self.register_buffer("bias", mask)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(D_MODEL, dim=2)  # (B, T, 3C) -> 3 x (B, T, C)
            q = q.view(B, T, HEADS, C // HEADS).transpose(1, 2)  # (B, T, C) -> (B, H, T, C/H)
            k = k.view(B, T, HEADS, C // HEADS).transpose(1, 2)
            v = v.view(B, T, HEADS, C // HEADS).transpose(1, 2)
            if sdpa:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, H, T, T)
                att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
                att = F.softmax(att, dim=-1)
                y = att @ v  # (B, H, T, T) @ (B, H, T, C/H) -> (B, H, T, C/H)
            y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, H, T, C/H) -> (B, T, C)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(D_MODEL)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(D_MODEL)
            self.c_fc = nn.Linear(D_MODEL, MLP)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(MLP, D_MODEL)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.c_proj(self.gelu(self.c_fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(VOCAB, D_MODEL)
            self.wpe = nn.Embedding(CONTEXT, D_MODEL)
            self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
            self.ln_f = nn.LayerNorm(D_MODEL)
            self.lm_head = nn.Linear(D_MODEL, VOCAB, bias=False)

        def forward(self, idx, targets):
            _, T = idx.size()
            pos = lib.arange(0, T, dtype=lib.long)
            x = self.wte(idx) + self.wpe(pos)  # (B, T, C) + (T, C)
            for block in self.blocks:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))  # (B, T, V)
            return F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))

    return GPT


def build(name: str, seed: int, sdpa: bool = False):
    """``(step, probe)`` for the gpt workload in library ``name`` ("glassgrad" or "torch")."""
    m = library(name)
    m.lib.manual_seed(seed)
    rng = np.random.default_rng(seed)
    idx = m.lib.tensor(rng.integers(0, VOCAB, size=(BATCH, CONTEXT)))  # (B, T) int64
    targets = m.lib.tensor(rng.integers(0, VOCAB, size=(BATCH, CONTEXT)))
    model = make_gpt(m, sdpa)()
    opt = m.optim.AdamW(model.parameters(), lr=LR)
    last = [None]

    def step() -> None:
        loss = model(idx, targets)
        loss.backward()
        opt.step()
        opt.zero_grad()
        last[0] = loss

    return step, lambda: float(last[0].item())


for _name, _sdpa, _how in (
    ("gpt", False, "hand-written causal attention"),
    ("gpt_sdpa", True, "causal SDPA"),
):
    register(
        Workload(
            name=_name,
            group="train",
            description=f"GPT 2x(d128, 4 heads, MLP 512 GELU), T 64, batch 16, {_how}: forward, loss, backward, AdamW",
            steps=10,
            glassgrad=lambda seed, s=_sdpa: build("glassgrad", seed, s),
            torch=lambda seed, s=_sdpa: build("torch", seed, s),
        )
    )
