"""Round 60, programs never ported before (continued): the complex-number rotary embeddings of
facebookresearch/sam2 (axial, with keys repeated over memory frames) and cloneofsimo/minRF's DiT
(timestep embedding, adaLN modulation, patchify/unpatchify with einsum), written fresh here and
compared with PyTorch in float64 with gradients.
"""

from __future__ import annotations

import math

import numpy as np

import glassgrad as gg

from .helpers import close_to as _close
from .helpers import tensor_of as _t

RNG_SEED = 61


# ---- sam2: axial RoPE through polar / view_as_complex, keys repeated over memory frames ----------


def _axial_cis(lib, dim, end_x, end_y, theta=10000.0):
    freqs_x = 1.0 / (theta ** (lib.arange(0, dim, 4)[: (dim // 4)].double() / dim))
    freqs_y = 1.0 / (theta ** (lib.arange(0, dim, 4)[: (dim // 4)].double() / dim))
    t = lib.arange(end_x * end_y, dtype=lib.float64)
    t_x = t % end_x
    t_y = lib.div(t, end_x, rounding_mode="floor")
    freqs_x = lib.outer(t_x, freqs_x)
    freqs_y = lib.outer(t_y, freqs_y)
    cis_x = lib.polar(lib.ones_like(freqs_x), freqs_x)
    cis_y = lib.polar(lib.ones_like(freqs_y), freqs_y)
    return lib.cat([cis_x, cis_y], dim=-1)


def _sam2_rope(lib):
    rng = np.random.default_rng(RNG_SEED)
    q = _t(lib, rng.standard_normal((1, 2, 16, 8)), grad=True)  # (B, heads, 4x4 tokens, head dim)
    k = _t(lib, rng.standard_normal((1, 2, 32, 8)), grad=True)  # two memory frames of 16 tokens
    freqs = _axial_cis(lib, 8, 4, 4)  # (16, 4) complex128
    xq = lib.view_as_complex(q.reshape(*q.shape[:-1], -1, 2))
    xk = lib.view_as_complex(k.reshape(*k.shape[:-1], -1, 2))
    f = freqs.view(*[d if i >= xq.ndim - 2 else 1 for i, d in enumerate(xq.shape)])
    q_out = lib.view_as_real(xq * f).flatten(3)
    r = xk.shape[-2] // xq.shape[-2]
    fk = f.repeat(*([1] * (f.ndim - 2)), r, 1)
    k_out = lib.view_as_real(xk * fk).flatten(3)
    out = lib.nn.functional.scaled_dot_product_attention(q_out, k_out, k_out.flip(-1))
    (out * _t(lib, rng.standard_normal(tuple(out.shape)))).sum().backward()
    return lib.view_as_real(freqs), q_out, k_out, out, q.grad, k.grad


def test_sam2_axial_rope_with_repeated_keys_as_torch(torch):
    for a, b in zip(_sam2_rope(torch), _sam2_rope(gg)):
        _close(a, b)


# ---- minRF: the DiT's timestep embedding, modulation and (un)patchify ----------------------------


def _dit_pieces(lib):
    rng = np.random.default_rng(RNG_SEED + 1)
    t = _t(lib, rng.random(3), grad=True)
    half = 8
    freqs = lib.exp(-math.log(10000) * lib.arange(start=0, end=half, dtype=lib.float64) / half)
    args = t[:, None] * freqs[None]
    emb = lib.cat([lib.cos(args), lib.sin(args)], dim=-1)  # (3, 16)
    x = _t(lib, rng.standard_normal((3, 2, 8, 8)), grad=True)
    p = 2
    B, C, H, W = x.size()
    tokens = (
        x.view(B, C, H // p, p, W // p, p).permute(0, 2, 4, 1, 3, 5).flatten(-3).flatten(1, 2)
    )  # (3, 16, 8)
    lin = _t(lib, rng.standard_normal((16, 16)) * 0.2, grad=True)
    shift, scale = (lib.nn.functional.silu(emb) @ lin).chunk(2, dim=1)
    ln = lib.nn.functional.layer_norm(tokens, (8,), eps=1e-6)
    mod = ln * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)  # (3, 16, 8)
    h = w = int(mod.shape[1] ** 0.5)
    y = mod.reshape(shape=(B, h, w, p, p, C))
    y = lib.einsum("nhwpqc->nchpwq", y)
    imgs = y.reshape(shape=(B, C, h * p, h * p))
    z1 = _t(lib, rng.standard_normal(tuple(x.shape)))
    texp = t.view([B, *([1] * len(x.shape[1:]))])
    zt = (1 - texp) * x + texp * z1
    loss = ((z1 - x - imgs * zt) ** 2).mean(dim=list(range(1, len(x.shape)))).mean()
    loss.backward()
    return imgs, loss, t.grad, x.grad, lin.grad


def test_minrf_dit_modulation_and_unpatchify_as_torch(torch):
    for a, b in zip(_dit_pieces(torch), _dit_pieces(gg)):
        _close(a, b)
