"""Round 64, a differential fuzz of PyTorch's Transformer layers (``TransformerEncoderLayer``,
``TransformerDecoderLayer``, ``TransformerEncoder``/``Decoder``, ``Transformer``) over sizes,
activations, norm placement, layouts, dtypes, every kind of mask and the inference fast paths.
Pinned here, each against PyTorch:

- a decoder layer whose activation is a module (``nn.GELU()``) computes relu once it is cloned
  (``TransformerDecoder``, ``Transformer``, ``copy.deepcopy``, pickle): PyTorch's
  ``__setstate__`` puts ``F.relu`` in the instance dict, where it shadows the submodule;
- the encoder layer's fused inference path reads a float ``src_mask``/``src_key_padding_mask``
  as bool, blocked wherever it is not 0, so an additive bias blocks as ``-inf`` does;
- the encoder's nested-tensor path does not give PyTorch's warning that its nested-tensor API is a
  prototype (a deliberate difference: glassgrad has no nested tensors).
"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

import glassgrad as gg

RNG_SEED = 64


def _twin(torch, make):
    """``make(lib)`` in both libraries, glassgrad's loaded with PyTorch's weights."""
    ref = make(torch)
    mine = make(gg)
    mine.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    if list(mine.state_dict()) != list(ref.state_dict()):
        raise AssertionError("state_dict keys differ")
    return ref, mine


def _arrays(*shapes):
    rng = np.random.default_rng(RNG_SEED)
    return [rng.standard_normal(s) for s in shapes]


def _run(lib, module, arrays, grad=True, **kwargs):
    """Output of ``module`` on float64 leaves, and (with ``grad``) the gradients of a fixed random
    projection of it: inputs' then parameters' in order."""
    leaves = [lib.tensor(a, dtype=lib.float64, requires_grad=grad) for a in arrays]
    y = module(*leaves, **kwargs)
    if not grad:
        return [y.detach().numpy()]
    w = np.random.default_rng(RNG_SEED + 1).standard_normal(tuple(y.shape))
    (y * lib.tensor(w)).sum().backward()
    grads = [t.grad.numpy() for t in leaves] + [p.grad.numpy() for p in module.parameters()]
    return [y.detach().numpy()] + grads


def _assert_same(ref, mine, rtol=1e-10, atol=1e-12):
    assert len(ref) == len(mine)
    for a, b in zip(ref, mine):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)


def _decoder_layer(lib, norm_first=False):
    return lib.nn.TransformerDecoderLayer(
        4, 2, 6, dropout=0.0, activation=lib.nn.GELU(), norm_first=norm_first, dtype=lib.float64
    )


# ----------------------------------------------------------------- cloned module activations
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
def test_decoder_of_gelu_module_layer_matches(torch, norm_first):
    ref, mine = _twin(torch, lambda lib: lib.nn.TransformerDecoder(_decoder_layer(lib, norm_first), 2))
    arrays = _arrays((3, 2, 4), (5, 2, 4))
    _assert_same(_run(torch, ref, arrays), _run(gg, mine, arrays))


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_cloned_decoder_layer_shadows_its_activation_module(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    layer = _decoder_layer(lib)
    assert layer.activation.__class__ is lib.nn.GELU
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert clone.activation is lib.nn.functional.relu
        assert isinstance(dict(clone.named_children())["activation"], lib.nn.GELU)
    encoder_layer = lib.nn.TransformerEncoderLayer(4, 2, 6, activation=lib.nn.GELU())
    assert isinstance(copy.deepcopy(encoder_layer).activation, lib.nn.GELU)  # only filled if missing


def test_transformer_of_gelu_module_matches(torch):
    def make(lib):
        act = lib.nn.GELU()
        return lib.nn.Transformer(4, 2, 1, 2, 6, 0.0, act, batch_first=True, dtype=lib.float64)

    ref, mine = _twin(torch, make)
    arrays = _arrays((2, 3, 4), (2, 5, 4))
    _assert_same(_run(torch, ref, arrays), _run(gg, mine, arrays))


def test_deepcopied_decoder_layer_matches(torch):
    ref, mine = _twin(torch, lambda lib: copy.deepcopy(_decoder_layer(lib)))
    arrays = _arrays((3, 2, 4), (5, 2, 4))
    _assert_same(_run(torch, ref, arrays), _run(gg, mine, arrays))


# ----------------------------------------------------------------- fused encoder layer, float masks
def _encoder_layer(lib, norm_first=False):
    return lib.nn.TransformerEncoderLayer(
        4, 2, 6, dropout=0.0, batch_first=True, norm_first=norm_first, dtype=lib.float64
    ).eval()


def _float_masks(lib, which):
    """An additive (3, 3) src_mask with 0, a bias and -inf, or a (2, 3) key padding mask."""
    mask = np.array([[0.0, 0.5, 0.0], [0.0, 0.0, -2.0], [1.5, 0.0, -np.inf]])
    kpm = np.array([[0.0, 0.0, 0.7], [0.0, -np.inf, 0.0]])
    out = {}
    if which in ("mask", "both"):
        out["src_mask"] = lib.tensor(mask, dtype=lib.float64)
    if which in ("kpm", "both"):
        out["src_key_padding_mask"] = lib.tensor(kpm, dtype=lib.float64)
    return out


@pytest.mark.parametrize("which", ["mask", "kpm", "both"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
@pytest.mark.parametrize("mode", ["no_grad", "inference_mode", "frozen"])
def test_fused_encoder_layer_reads_float_masks_as_blocked(torch, which, norm_first, mode):
    ref, mine = _twin(torch, lambda lib: _encoder_layer(lib, norm_first))
    (x,) = _arrays((2, 3, 4))
    outs = []
    for lib, m in ((torch, ref), (gg, mine)):
        if mode == "frozen":  # grad enabled, but nothing to record: PyTorch's fused path still
            m.requires_grad_(False)
        ctx = lib.inference_mode() if mode == "inference_mode" else lib.no_grad()
        with ctx if mode != "frozen" else lib.enable_grad():
            outs.append(_run(lib, m, [x], grad=False, **_float_masks(lib, which)))
    _assert_same(*outs)


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_fused_float_mask_differs_from_additive(torch, lib_name):
    """The case the pin is about: the fused and plain paths disagree on such a mask."""
    lib = torch if lib_name == "torch" else gg
    layer = _encoder_layer(lib)
    x = lib.tensor(_arrays((2, 3, 4))[0])
    with lib.no_grad():
        fused = layer(x, **_float_masks(lib, "mask"))
    plain = layer(x, **_float_masks(lib, "mask"))  # grad enabled: the plain path
    assert np.abs(fused.numpy() - plain.detach().numpy()).max() > 1e-3


def test_encoder_of_fused_layers_with_float_mask_matches(torch):
    def make(lib):
        norm = lib.nn.LayerNorm(4, dtype=lib.float64)
        return lib.nn.TransformerEncoder(_encoder_layer(lib), 2, norm=norm).eval()

    ref, mine = _twin(torch, make)
    (x,) = _arrays((2, 3, 4))
    outs = []
    for lib, m in ((torch, ref), (gg, mine)):
        with lib.no_grad():
            outs.append(_run(lib, m, [x], grad=False, mask=_float_masks(lib, "mask")["src_mask"]))
    _assert_same(*outs)


@pytest.mark.parametrize("which", ["mask", "kpm"])
def test_training_encoder_layer_adds_float_masks(torch, which):
    def make(lib):
        return _encoder_layer(lib).train()

    ref, mine = _twin(torch, make)
    (x,) = _arrays((2, 3, 4))
    _assert_same(
        _run(torch, ref, [x], **_float_masks(torch, which)), _run(gg, mine, [x], **_float_masks(gg, which))
    )


# ----------------------------------------------------------------- nested-tensor warning
def _nested_encoder(lib):
    layer = lib.nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True)
    return lib.nn.TransformerEncoder(layer, 1).eval()


def test_neither_path_warns_of_nested_tensors_and_the_nested_one_zeroes_padding(torch):
    # PyTorch warns once that its nested-tensor API is a prototype; glassgrad has none (deliberate)
    ref = _nested_encoder(torch)
    enc = _nested_encoder(gg)
    enc.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    x = _arrays((2, 3, 4))[0].astype(np.float32)
    mask = [[False, False, True], [False, False, False]]
    for grad in (False, True):
        with warnings.catch_warnings(record=True) as caught, gg.set_grad_enabled(grad):
            warnings.simplefilter("always")
            got = enc(gg.tensor(x), src_key_padding_mask=gg.tensor(mask))
        assert not caught
        with warnings.catch_warnings(), torch.set_grad_enabled(grad):
            warnings.simplefilter("ignore")
            want = ref(torch.tensor(x), src_key_padding_mask=torch.tensor(mask))
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------- refusals
LIBS = ["torch", "glassgrad"]


def _lib(torch, name):
    return torch if name == "torch" else gg


@pytest.mark.parametrize("lib_name", LIBS)
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
def test_cross_attention_refuses_memory_of_another_batch(torch, lib_name, batch_first):
    """A memory batch of 1 would broadcast through the attention matmul: PyTorch refuses it."""
    lib = _lib(torch, lib_name)
    layer = lib.nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, batch_first=batch_first)
    tgt, mem = ((2, 3, 4), (1, 5, 4)) if batch_first else ((3, 2, 4), (5, 1, 4))
    with pytest.raises(RuntimeError):
        layer(lib.zeros(*tgt), lib.zeros(*mem))
    mha = lib.nn.MultiheadAttention(4, 2, batch_first=batch_first)
    with pytest.raises(RuntimeError):
        mha(lib.zeros(*tgt), lib.zeros(*mem), lib.zeros(*mem))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "bool", None])
@pytest.mark.parametrize("size", [0, 1, 4])
def test_square_subsequent_mask_matches(torch, dtype, size):
    masks = []
    for lib in (torch, gg):
        kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        m = lib.nn.Transformer.generate_square_subsequent_mask(size, device="cpu", **kw)
        masks.append((m.numpy(), str(m.dtype).split(".")[-1]))
    assert masks[0][1] == masks[1][1]
    np.testing.assert_array_equal(masks[1][0], masks[0][0])


@pytest.mark.parametrize("lib_name", LIBS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_square_subsequent_mask_refuses_integer_dtypes(torch, lib_name, dtype):
    lib = _lib(torch, lib_name)
    with pytest.raises(RuntimeError, match="without overflow"):
        lib.nn.Transformer.generate_square_subsequent_mask(3, dtype=getattr(lib, dtype))


@pytest.mark.parametrize("lib_name", LIBS)
@pytest.mark.parametrize("is_causal", [False, True], ids=["mask", "hint"])
@pytest.mark.parametrize("shape", [(3, 3, 5), (2, 3, 4), (1, 2, 3, 5)], ids=["heads", "keys", "rank4"])
def test_unbatched_attn_mask_shape_checked_before_the_hint(torch, lib_name, is_causal, shape):
    """Unbatched, PyTorch checks a 3-D mask's shape (and any mask's rank) before the causal hint
    replaces the mask, and raises AssertionError."""
    lib = _lib(torch, lib_name)
    mha = lib.nn.MultiheadAttention(4, 2)
    q, k = lib.zeros(3, 4), lib.zeros(5, 4)
    mask = lib.zeros(*shape, dtype=lib.bool)
    with pytest.raises(AssertionError):
        mha(q, k, k, attn_mask=mask, need_weights=False, is_causal=is_causal)


@pytest.mark.parametrize("lib_name", LIBS)
@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("shape", [(3, 5), (2, 4), (5,)], ids=["batch", "keys", "rank1"])
def test_key_padding_mask_of_wrong_shape_is_an_assertion(torch, lib_name, need_weights, shape):
    lib = _lib(torch, lib_name)
    mha = lib.nn.MultiheadAttention(4, 2)
    q, k = lib.zeros(3, 2, 4), lib.zeros(5, 2, 4)
    with pytest.raises(AssertionError):
        mha(q, k, k, key_padding_mask=lib.zeros(*shape, dtype=lib.bool), need_weights=need_weights)


@pytest.mark.parametrize("lib_name", LIBS)
def test_batched_attn_mask_of_wrong_shape_is_a_runtime_error(torch, lib_name):
    lib = _lib(torch, lib_name)
    mha = lib.nn.MultiheadAttention(4, 2)
    q, k = lib.zeros(3, 2, 4), lib.zeros(5, 2, 4)
    for shape in ((3, 4), (5, 3, 5)):
        with pytest.raises(RuntimeError) as info:
            mha(q, k, k, attn_mask=lib.zeros(*shape, dtype=lib.bool))
        assert not isinstance(info.value, AssertionError)
