"""Round 67 (PyTorch's test/test_transformers.py run against glassgrad): the Transformer stacks
read ``is_causal=None`` from the mask as PyTorch's do, and SDPA's CausalBias refusal speaks
PyTorch's words."""

from __future__ import annotations

import pytest

import glassgrad as gg


def _recording_layers(mod, kind):
    """An encoder or decoder stack of layer subclasses that record the causal hint they get."""
    seen = []
    base = mod.nn.TransformerEncoderLayer if kind == "encoder" else mod.nn.TransformerDecoderLayer

    class Layer(base):
        def forward(self, x, *args, **kwargs):
            seen.append(kwargs.get("is_causal", kwargs.get("tgt_is_causal")))
            return super().forward(x, *args, **kwargs)

    layer = Layer(4, 2, 8, dropout=0.0, batch_first=True)
    stack = (mod.nn.TransformerEncoder if kind == "encoder" else mod.nn.TransformerDecoder)(layer, 2)
    return stack, seen


def _masks(mod):
    causal = mod.nn.Transformer.generate_square_subsequent_mask(3)
    return {
        "float causal": causal,
        "bool causal": mod.ones(3, 3, dtype=mod.bool).triu(1),
        "float other": causal.t().contiguous(),
        "none": None,
    }


# is_causal=True without a mask is refused by the layers' attention in both: not a case here
_CASES = [
    (mask, hint)
    for mask in ("float causal", "bool causal", "float other", "none")
    for hint in (None, False, True)
    if not (hint and mask == "none")
]


@pytest.mark.parametrize("mask_name,is_causal", _CASES)
@pytest.mark.parametrize("kind", ["encoder", "decoder"])
def test_stacks_read_the_causal_hint_from_the_mask_as_torch(torch, kind, mask_name, is_causal):
    """is_causal=None with the look-ahead mask reaches each layer as True in PyTorch; glassgrad
    handed the layers False (a layer subclass reading the hint saw another value)."""
    results = []
    for mod in (torch, gg):
        mod.manual_seed(0)
        stack, seen = _recording_layers(mod, kind)
        x = mod.randn(2, 3, 4)
        key = "is_causal" if kind == "encoder" else "tgt_is_causal"
        mask = _masks(mod)[mask_name]
        if kind == "encoder":
            stack(x, mask=mask, **{key: is_causal})
        else:
            stack(x, mod.randn(2, 3, 4), tgt_mask=mask, **{key: is_causal})
        results.append(seen)
    assert results[1] == results[0]


def test_causal_bias_with_is_causal_refused_in_torch_words(torch):
    import torch.nn.attention.bias  # a submodule PyTorch does not import by itself

    for mod in (torch, gg):
        q = mod.rand(1, 1, 4, 8)
        bias = mod.nn.attention.bias.causal_upper_left(4, 4)
        with pytest.raises(ValueError, match="CausalBias should not be used with causal=True"):
            mod.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=bias, is_causal=True)


def test_sdpa_with_an_empty_head_dim_matches_torch(torch):
    """E = 0 raised ZeroDivisionError (1/sqrt(0)); PyTorch's scores are all 0, so each query
    averages the values uniformly."""
    import numpy as np

    rng = np.random.default_rng(0)
    arrays = (np.zeros((2, 3, 4, 0)), np.zeros((2, 3, 5, 0)), rng.standard_normal((2, 3, 5, 2)))
    seed = rng.standard_normal((2, 3, 4, 2))
    results = []
    for mod in (torch, gg):
        q, k, v = (mod.tensor(a, requires_grad=True) for a in arrays)
        out = mod.nn.functional.scaled_dot_product_attention(q, k, v)
        out.backward(mod.tensor(seed))
        results.append([t.detach().numpy() for t in (out, q.grad, k.grad, v.grad)])
    for ours, theirs in zip(results[1], results[0]):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(
        results[1][0], np.broadcast_to(arrays[2].mean(-2, keepdims=True), (2, 3, 4, 2))
    )


def _refusals(mod):
    x = mod.randn(1, 2, 3, 4)
    return {
        "sdpa dropout_p above 1": lambda: mod.nn.functional.scaled_dot_product_attention(
            x, x, x, dropout_p=1.5
        ),
        "layer activation by an unknown name": lambda: mod.nn.TransformerEncoderLayer(
            8, 2, activation="tanh"
        ),
        "decoder layer activation by an unknown name": lambda: mod.nn.TransformerDecoderLayer(
            8, 2, activation="elu"
        ),
        "attention query of another width": lambda: mod.nn.MultiheadAttention(8, 2)(
            *(mod.randn(5, 2, 6),) * 3
        ),
        "attention key and value of other lengths": lambda: mod.nn.MultiheadAttention(8, 2)(
            mod.randn(5, 2, 8), mod.randn(4, 2, 8), mod.randn(3, 2, 8)
        ),
    }


@pytest.mark.parametrize("name", list(_refusals(gg)))
def test_refusals_have_torch_classes(torch, name):
    """ValueError where PyTorch raises RuntimeError (dropout_p, activation), ShapeError where it
    asserts (MultiheadAttention's widths): each is now an instance of PyTorch's class too."""
    with pytest.raises(Exception) as theirs:
        _refusals(torch)[name]()
    with pytest.raises(Exception) as ours:
        _refusals(gg)[name]()
    assert isinstance(ours.value, type(theirs.value)), (ours.value, theirs.value)


def test_sdpa_mask_with_is_causal_refused_in_torch_words(torch):
    """The math backend refuses the pair (the CPU flash one runs it, in both)."""
    for mod in (torch, gg):
        q = mod.rand(1, 1, 4, 8)
        attention = mod.nn.attention
        with (
            attention.sdpa_kernel([attention.SDPBackend.MATH]),
            pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"),
        ):
            mod.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=mod.zeros(4, 4), is_causal=True)
