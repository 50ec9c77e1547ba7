"""PyTorch's two Transformer UserWarnings, in its words: ``enable_nested_tensor`` with a layer that
rules the nested-tensor path out, and mismatched ``key_padding_mask`` / ``attn_mask`` types."""

import warnings

import pytest

import glassgrad as gg

LAYERS = [
    {},  # batch_first=False
    {"batch_first": True},  # no reason: no warning
    {"batch_first": True, "norm_first": True},
    {"batch_first": True, "activation": "tanh"},
    {"batch_first": True, "activation": "gelu"},
    {"batch_first": True, "nhead": 1},
    {"batch_first": True, "bias": False},
]


def _messages(fn) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("kw", LAYERS)
@pytest.mark.parametrize("enable", [True, False])
def test_encoder_nested_tensor_warning_and_attributes_as_pytorch(torch, kw, enable):
    def build(lib):
        k = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, **kw}
        if k.get("activation") == "tanh":
            k["activation"] = lib.tanh
        layer = lib.nn.TransformerEncoderLayer(**k)
        enc = lib.nn.TransformerEncoder(layer, 2, enable_nested_tensor=enable)
        return enc.use_nested_tensor, enc.enable_nested_tensor, enc.mask_check

    ours, theirs = [], []
    assert _messages(lambda: ours.append(build(gg))) == _messages(lambda: theirs.append(build(torch)))
    assert ours == theirs


def test_mismatched_mask_types_warn_as_pytorch(torch):
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Transformer(8, 2, 1, 1, 16, 0.0)
        src, tgt = lib.zeros(5, 2, 8), lib.zeros(4, 2, 8)
        tgt_mask = lib.nn.Transformer.generate_square_subsequent_mask(4)  # float
        src_pad, tgt_pad = lib.zeros(2, 5).bool(), lib.zeros(2, 4).bool()
        model(src, tgt, lib.zeros(5, 5).bool(), tgt_mask, None, src_pad, tgt_pad, src_pad)
        mha, x = lib.nn.MultiheadAttention(8, 2), lib.zeros(3, 1, 8)
        mha(x, x, x, attn_mask=lib.zeros(3, 3).bool(), key_padding_mask=lib.zeros(1, 3))
        mha(x, x, x, attn_mask=lib.zeros(3, 3), key_padding_mask=lib.zeros(1, 3))  # same type: none
        mha(x, x, x, key_padding_mask=lib.zeros(1, 3).bool())  # no attn_mask: none

    ours, theirs = _messages(lambda: run(gg)), _messages(lambda: run(torch))
    assert ours == theirs and len(theirs) == 3  # the nested-tensor one, the decoder's, the bool/float pair
