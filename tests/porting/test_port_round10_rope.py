"""Port round 10: rotary position embeddings computed with complex numbers, as Meta's llama and
pytorch/examples' ``distributed/tensor_parallelism/llama2_model.py`` compute them (``torch.polar``,
``view_as_complex``, a complex product, ``view_as_real``). The attention block below is written
here in that style (our code, not the example's); it runs on glassgrad and on PyTorch with only
the library changed, from the same weights, and must give the same outputs and parameter
gradients: to 1e-5 in float32, 1e-10 in float64."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same


def rotary_table(torch, head_dim, positions, theta=10000.0, double=False):
    """(positions, head_dim / 2) complex64 (complex128 if ``double``): e^{i t w_k} with
    w_k = theta^(-2k / head_dim)."""
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2)[: head_dim // 2].float() / head_dim))
    steps = torch.arange(positions, device=inv.device)
    angles = torch.outer(steps, inv).float()
    angles = angles.double() if double else angles
    return torch.polar(torch.ones_like(angles), angles)


def rotate(torch, q, k, table):
    """q, k: (B, T, H, D) real; table: (T, D/2) complex, broadcast as (1, T, 1, D/2). Computed in
    the table's precision: llama's ``q.float()`` for a complex64 one."""
    real = table.real.dtype
    qc = torch.view_as_complex(q.to(real).reshape(*q.shape[:-1], -1, 2))  # (B, T, H, D/2)
    kc = torch.view_as_complex(k.to(real).reshape(*k.shape[:-1], -1, 2))
    shape = [s if i in (1, qc.ndim - 1) else 1 for i, s in enumerate(qc.shape)]
    table = table.view(*shape)
    q_out = torch.view_as_real(qc * table).flatten(3)  # (B, T, H, D/2, 2) -> (B, T, H, D)
    k_out = torch.view_as_real(kc * table).flatten(3)
    return q_out.type_as(q), k_out.type_as(k)


def make_block(torch, dim=32, heads=4, kv_heads=2, max_len=16, double=False):
    nn, F = torch.nn, torch.nn.functional

    class Norm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(dim))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.head_dim = dim // heads
            self.wq = nn.Linear(dim, heads * self.head_dim, bias=False)
            self.wk = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
            self.wv = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
            self.wo = nn.Linear(heads * self.head_dim, dim, bias=False)
            self.w1 = nn.Linear(dim, 2 * dim, bias=False)
            self.w2 = nn.Linear(2 * dim, dim, bias=False)
            self.norm1, self.norm2 = Norm(), Norm()
            with torch.device("cpu"):
                table = rotary_table(torch, self.head_dim, 2 * max_len, double=double)
            self.register_buffer("freqs_cis", table, persistent=False)

        def forward(self, x):
            b, t, _ = x.shape
            self.freqs_cis = self.freqs_cis.to(x.device)
            table = self.freqs_cis[0:t]
            h = self.norm1(x)
            q = self.wq(h).view(b, t, heads, self.head_dim)
            k = self.wk(h).view(b, t, kv_heads, self.head_dim)
            v = self.wv(h).view(b, t, kv_heads, self.head_dim)
            q, k = rotate(torch, q, k, table)
            rep = heads // kv_heads  # grouped-query attention: each kv head serves `rep` query heads
            k = (
                k[:, :, :, None, :]
                .expand(b, t, kv_heads, rep, self.head_dim)
                .reshape(b, t, heads, self.head_dim)
            )
            v = (
                v[:, :, :, None, :]
                .expand(b, t, kv_heads, rep, self.head_dim)
                .reshape(b, t, heads, self.head_dim)
            )
            att = F.scaled_dot_product_attention(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True
            )
            x = x + self.wo(att.transpose(1, 2).contiguous().view(b, t, -1))
            return x + self.w2(F.silu(self.w1(self.norm2(x))))

    return Block()


def script_rope_block(torch, dtype_name):
    dtype = getattr(torch, dtype_name)
    block = make_block(torch, double=dtype_name == "float64")
    block = block.double() if dtype_name == "float64" else block  # double() leaves complex buffers alone
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for _name, p in block.named_parameters():
            p.copy_(torch.tensor(rng.normal(scale=0.2, size=tuple(p.shape))))
    assert "freqs_cis" not in block.state_dict()  # persistent=False
    x = torch.tensor(rng.normal(size=(2, 7, 32)), dtype=dtype, requires_grad=True)
    out = block(x)
    loss = (out * torch.tensor(rng.normal(size=(2, 7, 32)), dtype=dtype)).sum()
    loss.backward()
    grads = {n: p.grad for n, p in block.named_parameters()}
    return [out, x.grad, grads, repr(block.freqs_cis.dtype).split(".")[-1]]


@pytest.mark.parametrize("dtype_name, tol", [("float32", 1e-5), ("float64", 1e-10)])
def test_rope_attention_block_matches_torch(torch, dtype_name, tol):
    ours = script_rope_block(glassgrad, dtype_name)
    theirs = script_rope_block(torch, dtype_name)
    assert ours[3] == theirs[3] == ("complex64" if dtype_name == "float32" else "complex128")
    assert_same(ours[:3], theirs[:3], rtol=tol, atol=tol)


def test_module_to_a_real_dtype_casts_a_complex_buffer_to_real_as_pytorch(torch):
    """PyTorch's ``Module.to(dtype)`` casts complex buffers too (keeping the real part, with a
    warning); ``float()``/``double()`` leave them alone. Both libraries agree. (PyTorch warns once
    per process, TORCH_WARN_ONCE: after any earlier complex-to-real cast in the session it is silent,
    so only glassgrad's warning is required here.)"""
    for lib in (glassgrad, torch):
        block = make_block(lib)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            block.to(lib.float64)
        said = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        if lib is glassgrad:
            assert any("Casting complex values to real discards the imaginary part" in m for m in said)
        assert str(block.freqs_cis.dtype).split(".")[-1] == "float64"
        assert str(make_block(lib).double().freqs_cis.dtype).split(".")[-1] == "complex64"


def test_rotary_table_and_rotation_match_torch(torch):
    def script(lib):
        table = rotary_table(lib, 8, 6)
        q = lib.tensor(
            np.random.default_rng(1).normal(size=(1, 6, 2, 8)), dtype=lib.float32, requires_grad=True
        )
        k = lib.tensor(
            np.random.default_rng(2).normal(size=(1, 6, 1, 8)), dtype=lib.float32, requires_grad=True
        )
        qr, kr = rotate(lib, q, k, table)
        (qr.sum(-1, keepdim=True) * kr).pow(2).sum().backward()
        return [lib.view_as_real(table), qr, kr, q.grad, k.grad, str(table.dtype).split(".")[-1]]

    assert_same(script(glassgrad), script(torch), rtol=1e-5, atol=1e-6)
