"""A minimal GPT written the way a PyTorch user writes one, run unchanged on PyTorch and on glassgrad.

``make_gpt(torch)`` receives a module playing the part of ``torch`` (with ``nn`` and
``nn.functional`` under it) and is otherwise ordinary PyTorch code: ModuleDict/ModuleList,
register_buffer, view/transpose/contiguous/split/size, masked_fill, tril, SDPA with dropout and
is_causal, cross_entropy with ignore_index, nn.init in ``apply``, weight tying, param groups with
per-group weight_decay, AdamW(betas=), arange(dtype=, device=), topk, multinomial, boolean-mask
assignment, ``x[:, [-1], :]`` and ``@torch.no_grad()``. The same weights (through state_dict) must
give the same losses and updates in both libraries, and glassgrad must train and generate.
"""

from __future__ import annotations

import itertools
import math
import types

import numpy as np
import pytest

import glassgrad


def make_gpt(torch):
    nn = torch.nn
    F = torch.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            assert cfg.n_embd % cfg.n_head == 0
            self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
            self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
            self.attn_dropout = nn.Dropout(cfg.dropout)
            self.resid_dropout = nn.Dropout(cfg.dropout)
            self.n_head, self.n_embd, self.dropout = cfg.n_head, cfg.n_embd, cfg.dropout
            self.flash = cfg.flash
            if not self.flash:
                mask = torch.tril(torch.ones(cfg.block_size, cfg.block_size))
                self.register_buffer("bias", mask.view(1, 1, cfg.block_size, cfg.block_size))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            if self.flash:
                y = F.scaled_dot_product_attention(
                    q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0, is_causal=True
                )
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
                att = F.softmax(att, dim=-1)
                att = self.attn_dropout(att)
                y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)
            self.dropout = nn.Dropout(cfg.dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
            self.attn = CausalSelfAttention(cfg)
            self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
            self.mlp = MLP(cfg)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.cfg = cfg
            self.transformer = nn.ModuleDict(
                dict(
                    wte=nn.Embedding(cfg.vocab_size, cfg.n_embd),
                    wpe=nn.Embedding(cfg.block_size, cfg.n_embd),
                    drop=nn.Dropout(cfg.dropout),
                    h=nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)]),
                    ln_f=nn.LayerNorm(cfg.n_embd, bias=cfg.bias),
                )
            )
            self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight  # weight tying
            self.apply(self._init_weights)
            for name, p in self.named_parameters():
                if name.endswith("c_proj.weight"):
                    torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets=None):
            device = idx.device
            _, t = idx.size()
            assert t <= self.cfg.block_size
            pos = torch.arange(0, t, dtype=torch.long, device=device)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            if targets is not None:
                logits = self.lm_head(x)
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            else:
                logits = self.lm_head(x[:, [-1], :])  # only the last position
                loss = None
            return logits, loss

        def configure_optimizers(self, weight_decay, learning_rate, betas):
            params = {n: p for n, p in self.named_parameters() if p.requires_grad}
            decay = [p for n, p in params.items() if p.dim() >= 2]
            no_decay = [p for n, p in params.items() if p.dim() < 2]
            groups = [
                {"params": decay, "weight_decay": weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ]
            return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
            for _ in range(max_new_tokens):
                idx_cond = idx if idx.size(1) <= self.cfg.block_size else idx[:, -self.cfg.block_size :]
                logits, _ = self(idx_cond)
                logits = logits[:, -1, :] / temperature
                if top_k is not None:
                    v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float("Inf")
                probs = F.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1)
                idx = torch.cat((idx, idx_next), dim=1)
            return idx

    return GPT


def _cfg(flash: bool, dropout: float = 0.0, bias: bool = True) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        block_size=16, vocab_size=11, n_layer=2, n_head=2, n_embd=16, dropout=dropout, bias=bias, flash=flash
    )


def _batch(rng, cfg, n=4):
    """A learnable sequence task: each token is the previous one plus one, mod vocab; some targets ignored."""
    start = rng.integers(0, cfg.vocab_size, size=(n, 1))
    seq = (start + np.arange(cfg.block_size + 1)) % cfg.vocab_size
    x, y = seq[:, :-1].copy(), seq[:, 1:].copy()
    y[:, 0] = -1  # ignore_index
    return x, y


@pytest.mark.parametrize("flash", [False, True])
def test_the_same_program_gives_the_same_losses_in_both_libraries(torch, flash):
    cfg = _cfg(flash, bias=not flash)
    theirs = make_gpt(torch)(cfg)
    ours = make_gpt(glassgrad)(cfg)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert ours.transformer.wte.weight is ours.lm_head.weight
    opt_t = theirs.configure_optimizers(0.1, 1e-2, (0.9, 0.95))
    opt_g = ours.configure_optimizers(0.1, 1e-2, (0.9, 0.95))
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, y = _batch(rng, cfg)
        _, lt = theirs(torch.tensor(x), torch.tensor(y))
        _, lg = ours(glassgrad.tensor(x), glassgrad.tensor(y))
        np.testing.assert_allclose(lg.item(), lt.item(), rtol=1e-5)
        for loss, opt in ((lt, opt_t), (lg, opt_g)):
            opt.zero_grad()
            loss.backward()
            opt.step()
    ours_sd = ours.state_dict()
    for k, v in theirs.state_dict().items():
        a, b = ours_sd[k].numpy(), v.numpy()
        if k.endswith("c_attn.bias"):  # the key bias shifts every score of a query equally: its gradient
            a, b = (
                np.delete(a, np.s_[16:32]),
                np.delete(b, np.s_[16:32]),
            )  # is 0 plus rounding, which Adam amplifies
        np.testing.assert_allclose(a, b, atol=2e-5, err_msg=k)


@pytest.mark.slow
def test_glassgrad_trains_and_generates_the_counting_sequence():
    glassgrad.manual_seed(0)
    cfg = _cfg(flash=True, dropout=0.1)
    model = make_gpt(glassgrad)(cfg)
    opt = model.configure_optimizers(0.1, 3e-3, (0.9, 0.95))
    rng = np.random.default_rng(1)
    for _ in range(150):
        x, y = _batch(rng, cfg, n=8)
        _, loss = model(glassgrad.tensor(x), glassgrad.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.3 * math.log(cfg.vocab_size)  # far below guessing
    model.eval()
    out = model.generate(glassgrad.tensor([[3, 4]]), 12, temperature=0.5, top_k=3)
    seq = out[0].tolist()
    assert len(seq) == 14 and out.dtype == glassgrad.long
    assert sum((b - a) % cfg.vocab_size == 1 for a, b in itertools.pairwise(seq)) >= 11
