"""``torch.nn.attention.flex_attention`` (transformer_building_blocks tutorial): ``score_mod`` and
``mask_mod`` functions called once on broadcasting index tensors. Checked against PyTorch's
flex_attention (forward: PyTorch has no backward on the CPU) and, with gradients, against
``F.scaled_dot_product_attention`` given the equivalent additive bias and mask."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad
from glassgrad.autograd import gradcheck

from .helpers import assert_same


def _fixed(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _alibi(lib, heads):
    def alibi_mod(score, b, h, q_idx, kv_idx):
        scale = lib.exp2(-((h + 1) * 8.0 / heads))
        return score + (q_idx - kv_idx) * scale

    return alibi_mod


def _causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def _sliding(b, h, q_idx, kv_idx):
    return q_idx - kv_idx <= 2


def script_flex(torch, gqa):
    import importlib

    fa = importlib.import_module(f"{torch.__name__}.nn.attention.flex_attention")
    hk = 2 if gqa else 4
    q = torch.tensor(_fixed(2, 4, 6, 8))
    k, v = torch.tensor(_fixed(2, hk, 7, 8, seed=1)), torch.tensor(_fixed(2, hk, 7, 5, seed=2))
    late = fa.create_block_mask(
        lambda b, h, q_idx, kv_idx: kv_idx < q_idx - 2, None, None, 6, 7, device="cpu"
    )
    both = fa.create_block_mask(fa.and_masks(_causal, _sliding), 2, None, 6, 7, device="cpu")
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch suggests compiling flex_attention
        out.append(fa.flex_attention(q, k, v, score_mod=_alibi(torch, 4), enable_gqa=gqa))
        out.extend(fa.flex_attention(q, k, v, block_mask=late, enable_gqa=gqa, return_lse=True))
        out.append(
            fa.flex_attention(q, k, v, score_mod=_alibi(torch, 4), block_mask=both, scale=0.5, enable_gqa=gqa)
        )
    out.append(fa.create_mask(fa.or_masks(_causal, _sliding), 1, 1, 3, 4))
    out.append(fa.create_mask(lambda s, b, h, q_idx, kv_idx: s + q_idx - kv_idx, 1, 1, 3, 4))
    out.append([late.shape, tuple(late.BLOCK_SIZE), late.to_dense(), both.shape])
    return out


@pytest.mark.parametrize("gqa", [False, True])
def test_flex_attention_port(torch, gqa):
    assert_same(script_flex(glassgrad, gqa), script_flex(torch, gqa), 1e-10, 1e-12)


def script_flex_against_sdpa(lib, flex):
    """ALiBi plus a causal mask, as flex (glassgrad) or as SDPA with a float mask (either)."""
    F = lib.nn.functional
    q = lib.tensor(_fixed(1, 2, 5, 4), requires_grad=True)
    k = lib.tensor(_fixed(1, 2, 5, 4, seed=1), requires_grad=True)
    v = lib.tensor(_fixed(1, 2, 5, 3, seed=2), requires_grad=True)
    if flex:
        from glassgrad.nn.attention.flex_attention import create_block_mask, flex_attention

        y = flex_attention(
            q, k, v, score_mod=_alibi(lib, 2), block_mask=create_block_mask(_causal, None, None, 5, 5)
        )
    else:
        i = np.arange(5)
        slope = 2.0 ** (-(np.arange(2) + 1) * 8.0 / 2)
        bias = (i[:, None] - i[None, :]) * slope[:, None, None]  # (H, L, S)
        bias = np.where(i[:, None] >= i[None, :], bias, -np.inf)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=lib.tensor(bias))
    (y * y).sum().backward()
    return [y, q.grad, k.grad, v.grad]


def test_flex_attention_gradients_match_sdpa(torch):
    assert_same(
        script_flex_against_sdpa(glassgrad, True), script_flex_against_sdpa(torch, False), 1e-10, 1e-12
    )


def test_flex_attention_gradcheck_through_a_learned_bias():
    from glassgrad.nn.attention.flex_attention import create_block_mask, flex_attention

    table = glassgrad.tensor(_fixed(9, seed=3), requires_grad=True)  # one bias per offset q - kv
    mask = create_block_mask(_causal, None, None, 4, 5)

    def f(q, k, v, table):
        def rel(score, b, h, q_idx, kv_idx):
            return score + table[q_idx - kv_idx + 4]

        out, lse = flex_attention(q, k, v, score_mod=rel, block_mask=mask, return_lse=True)
        return out.sum(-1) + lse.masked_fill(lse.isinf(), 0.0)

    q = glassgrad.tensor(_fixed(1, 2, 4, 3), requires_grad=True)
    k = glassgrad.tensor(_fixed(1, 2, 5, 3, seed=1), requires_grad=True)
    v = glassgrad.tensor(_fixed(1, 2, 5, 3, seed=2), requires_grad=True)
    assert gradcheck(f, (q, k, v, table))


def test_flex_attention_errors_and_dead_rows():
    from glassgrad.nn.attention.flex_attention import create_block_mask, flex_attention, noop_mask

    q = glassgrad.ones(1, 2, 3, 4)
    none = create_block_mask(lambda b, h, q_idx, kv_idx: q_idx < 0, None, None, 3, 3)
    out, lse = flex_attention(q, q, q, block_mask=none, return_lse=True)
    assert out.abs().sum().item() == 0.0 and bool((lse == float("-inf")).all())
    assert repr(create_block_mask(noop_mask, 1, 1, 3, 3)).startswith(
        "BlockMask(shape=(1, 1, 3, 3), sparsity=0.00%"
    )
    with pytest.raises(glassgrad.errors.ShapeError, match="expected a block_mask for"):
        flex_attention(q, q, q, block_mask=create_block_mask(_causal, None, None, 4, 4))
    with pytest.raises(glassgrad.errors.ShapeError, match="expected 4-D"):
        flex_attention(q[0], q[0], q[0])
    with pytest.raises(glassgrad.errors.ShapeError, match="without enable_gqa"):
        flex_attention(q, q[:, :1], q[:, :1])
    with pytest.raises(TypeError, match="mask_mod"):
        create_block_mask(lambda s, b, h, q_idx, kv_idx: s, None, None, 3, 3)
