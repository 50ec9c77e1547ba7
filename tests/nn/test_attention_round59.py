"""Round 59's attention hunt, pinned against PyTorch: fully masked queries (NaN or 0 by path),
the inference fast paths of MultiheadAttention and the Transformer encoder (no causal hint, NaN
rows, the nested-tensor path's zeros at padding), and SDPA's mask with ``is_causal``."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(59)
E, H = 4, 2


@pytest.fixture
def fastpath(torch):
    """Both libraries' fast-path switch, restored after the test."""
    yield
    torch.backends.mha.set_fastpath_enabled(True)
    gg.backends.mha.set_fastpath_enabled(True)


def _pair(torch, make):
    """The same module in both libraries: PyTorch's, and glassgrad's loaded with its weights."""
    torch.manual_seed(0)
    theirs = make(torch)
    ours = make(gg)
    ours.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    for p in theirs.parameters():  # not all ones: a zero bias hides what reaches the output
        p.data.copy_(torch.tensor(RNG.uniform(-1, 1, tuple(p.shape))))
    ours.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _same(a, b, rtol=1e-12):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=1e-13, equal_nan=True)


def _mha(lib):
    return lib.nn.MultiheadAttention(E, H, batch_first=True, dtype=lib.float64)


@pytest.mark.parametrize("mode", ["train", "eval", "eval_no_grad"])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("mask", ["key_padding_bool", "attn_mask_bool", "key_padding_float"])
def test_fully_masked_query_as_pytorch(torch, mode, need_weights, mask):
    """PyTorch: NaN with the weights (softmax's 0/0) and through its fused eval path (bool masks
    only: a float one rules it out), 0 through SDPA. glassgrad gave 0 everywhere."""
    ours, theirs = _pair(torch, _mha)
    x = RNG.standard_normal((2, 3, E))
    blocked = np.array([[True, True, True], [False, True, False]])
    masks = {
        "key_padding_bool": {"key_padding_mask": blocked},
        "attn_mask_bool": {"attn_mask": np.array([[False] * 3, [True] * 3, [True, False, True]])},
        "key_padding_float": {"key_padding_mask": np.where(blocked, -np.inf, 0.0)},
    }[mask]
    outs = []
    for lib, mod in ((gg, ours), (torch, theirs)):
        mod.train(mode == "train")
        xt = lib.tensor(x, requires_grad=mode != "eval_no_grad")
        kw = {k: lib.tensor(v) for k, v in masks.items()}
        with lib.set_grad_enabled(mode != "eval_no_grad"):
            out, w = mod(xt, xt, xt, need_weights=need_weights, **kw)
        if mode != "eval_no_grad":
            out.sum().backward()
        outs.append((out, w, xt.grad, mod.in_proj_weight.grad))
    (out, w, gx, gw), (tout, tw, tgx, tgw) = outs
    nan = need_weights or (mode == "eval_no_grad" and mask != "key_padding_float")  # float: no fast path
    assert np.isnan(tout.detach().numpy()).any() == nan
    _same(out, tout)
    if need_weights:
        _same(w, tw)
    if gx is not None or tgx is not None:
        _same(gx, tgx)
        _same(gw, tgw)


def test_mha_fast_path_ignores_the_causal_hint(torch, fastpath):
    """In eval without grad (self-attention, batch_first, even heads, biases) PyTorch's fused
    kernel takes no ``is_causal``: without a mask it attends to every key; with the fast path
    switched off the hint needs its mask and raises, as in training."""
    ours, theirs = _pair(torch, _mha)
    ours.eval(), theirs.eval()
    x = RNG.standard_normal((2, 3, E))
    with torch.no_grad(), gg.no_grad():
        a = theirs(*[torch.tensor(x)] * 3, is_causal=True, need_weights=False)[0]
        b = ours(*[gg.tensor(x)] * 3, is_causal=True, need_weights=False)[0]
        full = ours(*[gg.tensor(x)] * 3, need_weights=False)[0]
        _same(b, a)
        _same(b, full)  # the hint changed nothing
        for lib, mod in ((torch, theirs), (gg, ours)):
            lib.backends.mha.set_fastpath_enabled(False)
            assert not lib.backends.mha.get_fastpath_enabled()
            with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
                mod(*[lib.tensor(x)] * 3, is_causal=True)


def _encoder(lib, norm=True, mask_check=True, layers=2):
    layer = lib.nn.TransformerEncoderLayer(E, H, 6, dropout=0.0, batch_first=True, dtype=lib.float64)
    ln = lib.nn.LayerNorm(E, dtype=lib.float64) if norm else None
    return lib.nn.TransformerEncoder(layer, layers, norm=ln, mask_check=mask_check)


@pytest.mark.parametrize(
    "kpm",
    [
        [[False, False, True, True], [False] * 4],  # left-aligned: the nested path
        [[0.0, 0.0, -1.0, -1.0], [0.0] * 4],  # a float mask: any nonzero entry counts as padding
        [[False, True, False, True], [False] * 4],  # not left-aligned: the plain path
    ],
    ids=["bool", "float_bias", "not_left_aligned"],
)
@pytest.mark.parametrize("mask_check", [True, False])
def test_encoder_nested_tensor_path_as_pytorch(torch, kpm, mask_check):
    """PyTorch's encoder in eval without grad turns the batch into nested tensors: each sequence
    runs on as many leading tokens as its mask leaves unpadded, and the padded positions come
    back as 0 (then through ``norm``). glassgrad gave ordinary values there."""
    ours, theirs = _pair(torch, lambda lib: _encoder(lib, mask_check=mask_check))
    ours.eval(), theirs.eval()
    x = RNG.standard_normal((2, 4, E))
    with torch.no_grad(), gg.no_grad():
        a = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
        b = ours(gg.tensor(x), src_key_padding_mask=gg.tensor(kpm))
    _same(b, a)
    if kpm[0][1] is False and kpm[0][2] is True:  # the nested path: norm(0) = the norm's bias
        np.testing.assert_allclose(b.numpy()[0, 2:], np.broadcast_to(ours.norm.bias.detach().numpy(), (2, E)))


@pytest.mark.parametrize("case", ["train", "grad", "with_mask", "disabled", "not_nested"])
def test_encoder_keeps_the_plain_path_outside_pytorchs_conditions(torch, fastpath, case):
    ours, theirs = _pair(torch, lambda lib: _encoder(lib, norm=False, layers=1))
    if case == "not_nested":
        ours, theirs = _pair(
            torch,
            lambda lib: lib.nn.TransformerEncoder(
                lib.nn.TransformerEncoderLayer(E, H, 6, 0.0, batch_first=True, dtype=lib.float64),
                1,
                enable_nested_tensor=False,
            ),
        )
    x, kpm = RNG.standard_normal((2, 4, E)), np.array([[False, False, True, True], [False] * 4])
    res = []
    for lib, mod in ((gg, ours), (torch, theirs)):
        mod.train(case == "train")
        if case == "disabled":
            lib.backends.mha.set_fastpath_enabled(False)
        mask = lib.zeros(4, 4, dtype=lib.float64) if case == "with_mask" else None
        xt = lib.tensor(x, requires_grad=case == "grad")
        res.append(mod(xt, mask=mask, src_key_padding_mask=lib.tensor(kpm)))
    _same(*res)
    assert res[0].detach().numpy()[0, 2:].any()  # ordinary values at the padding


def test_encoder_all_padded_batch_raises_as_pytorch(torch):
    for lib in (torch, gg):
        enc = _encoder(lib).eval()
        with lib.no_grad(), pytest.raises(RuntimeError, match="at least one constituent tensor"):
            enc(lib.zeros(2, 3, E, dtype=lib.float64), src_key_padding_mask=lib.ones(2, 3, dtype=lib.bool))


def test_encoder_layer_fused_path_nan_and_hint(torch):
    """The encoder layer's own fused path (eval, no grad): NaN for a fully padded sequence, and
    no causal hint; in training the same call raises for the hint without a mask."""
    ours, theirs = _pair(
        torch, lambda lib: lib.nn.TransformerEncoderLayer(E, H, 6, 0.0, batch_first=True, dtype=lib.float64)
    )
    ours.eval(), theirs.eval()
    x, kpm = RNG.standard_normal((2, 3, E)), np.array([[True] * 3, [False, False, True]])
    with torch.no_grad(), gg.no_grad():
        a = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm), is_causal=True)
        b = ours(gg.tensor(x), src_key_padding_mask=gg.tensor(kpm), is_causal=True)
    assert np.isnan(a.numpy()[0]).all() and np.isfinite(a.numpy()[1]).all()
    _same(b, a)
    for lib, mod in ((torch, theirs), (gg, ours)):
        mod.train()
        with pytest.raises(RuntimeError, match="Need attn_mask"):
            mod(lib.tensor(x), is_causal=True)


def test_multi_head_attention_forward_never_takes_the_fast_path(torch):
    """``F.multi_head_attention_forward`` is PyTorch's plain path: 0 for a fully masked query
    without weights even in no-grad, and the hint needs its mask."""
    w_in, b_in = RNG.standard_normal((3 * E, E)), RNG.standard_normal(3 * E)
    w_out, b_out = RNG.standard_normal((E, E)), RNG.standard_normal(E)
    x, kpm = RNG.standard_normal((3, 2, E)), np.array([[True] * 3, [False, True, False]])
    res = []
    for lib in (gg, torch):
        args = [lib.tensor(a) for a in (w_in, b_in)] + [None, None, False, 0.0]
        args += [lib.tensor(w_out), lib.tensor(b_out)]
        xt = lib.tensor(x)
        with lib.no_grad():
            out, _ = lib.nn.functional.multi_head_attention_forward(
                xt, xt, xt, E, H, *args, training=False, key_padding_mask=lib.tensor(kpm), need_weights=False
            )
            res.append(out)
            with pytest.raises(RuntimeError, match="Need attn_mask"):
                lib.nn.functional.multi_head_attention_forward(xt, xt, xt, E, H, *args, is_causal=True)
    _same(*res)
    assert np.isfinite(res[0].numpy()).all()


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_mha_weights_refuse_a_mask_of_another_float_dtype(torch, lib_name):
    """With the weights PyTorch adds the mask by ``baddbmm``, which refuses a float32 mask on
    float64 queries (through SDPA, without the weights, it takes it)."""
    lib = torch if lib_name == "torch" else gg
    mha = _mha(lib)
    x, m = lib.tensor(RNG.standard_normal((2, 3, E))), lib.zeros(3, 3, dtype=lib.float32)
    with pytest.raises(RuntimeError):
        mha(x, x, x, attn_mask=m)
    assert mha(x, x, x, attn_mask=m, need_weights=False)[0].shape == (2, 3, E)


@pytest.mark.parametrize(
    "shape,mask_shape",
    [((2, 2, 3, 4), (3, 5)), ((2, 2, 3, 4), (1, 5)), ((2, 2, 3, 4), (2, 1, 3, 5)), ((2, 2, 4, 4), (1, 1))],
    ids=["LS", "1S", "N1LS", "11"],
)
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_mask_and_is_causal_together_as_pytorchs_flash_kernel(torch, shape, mask_shape, kind):
    """PyTorch's CPU flash kernel (4-D inputs, a 2-D or 4-D mask, no dropout ...) applies both
    the mask and the top-left triangle; glassgrad refused the pair."""
    S = 5 if mask_shape[-1] == 5 else shape[2]
    q, k, v = (
        RNG.standard_normal(shape),
        RNG.standard_normal(shape[:2] + (S, 4)),
        RNG.standard_normal(shape[:2] + (S, 4)),
    )
    m = RNG.random(mask_shape) < 0.7
    m = m if kind == "bool" else np.where(m, 0.0, -np.inf)
    res = []
    for lib in (gg, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = lib.nn.functional.scaled_dot_product_attention(*ts, attn_mask=lib.tensor(m), is_causal=True)
        out.sum().backward()
        res.append([out] + [t.grad for t in ts])
    for a, b in zip(*res):
        _same(a, b, rtol=1e-10)


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
@pytest.mark.parametrize("case", ["3d_inputs", "3d_mask", "dropout"])
def test_sdpa_mask_and_is_causal_raise_on_the_math_kernel(torch, lib_name, case):
    lib = torch if lib_name == "torch" else gg
    shape = (2, 3, 4) if case == "3d_inputs" else (2, 2, 3, 4)
    q = lib.tensor(RNG.standard_normal(shape))
    m = lib.ones(2, 3, 3, dtype=lib.bool) if case == "3d_mask" else lib.ones(3, 3, dtype=lib.bool)
    with pytest.raises(RuntimeError, match="attn_mask"):
        lib.nn.functional.scaled_dot_product_attention(
            q, q, q, attn_mask=m, is_causal=True, dropout_p=0.5 if case == "dropout" else 0.0
        )


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_sdpa_refuses_a_mask_broadcasting_past_the_scores(torch, lib_name):
    """A (2, S) mask over L = 1 queries: PyTorch adds it into the (.., 1, S) scores in place and
    refuses; glassgrad returned 2 rows."""
    lib = torch if lib_name == "torch" else gg
    q, k = lib.tensor(RNG.standard_normal((1, 1, 1, 4))), lib.tensor(RNG.standard_normal((1, 1, 3, 4)))
    with pytest.raises(RuntimeError):
        lib.nn.functional.scaled_dot_product_attention(q, k, k, attn_mask=lib.zeros(2, 3, dtype=lib.float64))


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_sdpa_gqa_without_a_heads_dim_is_an_index_error(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    q = lib.tensor(RNG.standard_normal((3, 4)))
    with pytest.raises(IndexError):
        lib.nn.functional.scaled_dot_product_attention(q, q, q, enable_gqa=True)


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_sdpa_causal_bias_with_is_causal_is_a_value_error(torch, lib_name):
    """A ``CausalBias`` mask is refused with ``is_causal=True`` before any kernel is chosen (a
    4-D call the flash kernel would take otherwise)."""
    lib = torch if lib_name == "torch" else gg
    bias = importlib.import_module(f"{lib.__name__}.nn.attention.bias")
    q = lib.tensor(RNG.standard_normal((1, 2, 3, 4)))
    mask = bias.causal_lower_right(3, 3)
    with pytest.raises(ValueError, match="CausalBias should not be used with"):
        lib.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=mask, is_causal=True)
