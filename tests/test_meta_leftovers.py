"""Meta device, the review's leftovers, each against PyTorch: ops that do not go through
``Function.apply`` (comparisons, logical ops, ``where``'s condition, masks, ``isclose``) raise the
device mismatch; ``x.new(...)`` keeps a meta source meta; attention with masks, ``diag``,
``multinomial``, the linear-algebra solvers, random draws and value-checking losses give meta
results of PyTorch's shapes."""

import pytest

import glassgrad as gg


def _outcome(fn, lib):
    """``("ok", shape, dtype name, device type)`` of ``fn(lib)``'s (first) result, or the exception."""
    try:
        r = fn(lib)
    except Exception as e:
        return e
    while isinstance(r, tuple | list):
        r = r[0]
    return ("ok", tuple(r.shape), str(r.dtype).split(".")[-1], r.device.type)


def _same(fn, torch):
    want, got = _outcome(fn, torch), _outcome(fn, gg)
    if isinstance(want, Exception):
        assert isinstance(got, type(want)), (
            f"PyTorch raised {type(want).__name__}: {want}; glassgrad gave {got!r}"
        )
    else:
        assert not isinstance(got, Exception), f"PyTorch gave {want}; glassgrad raised {got!r}"
        assert got == want


def M(L, *shape, dtype=None):
    return L.ones(*shape, device="meta", dtype=dtype or L.float32)


def B(L, *shape):
    return L.ones(*shape, device="meta", dtype=L.bool)


def Z(L, *shape):
    return L.zeros(*shape, device="meta", dtype=L.int64)


MIXED = {  # a meta operand beside a CPU one with dims: PyTorch's device mismatch, either order
    "eq": lambda L: M(L, 2, 3) == L.ones(2, 3),
    "eq_cpu_first": lambda L: L.ones(2, 3) == M(L, 2, 3),
    "lt": lambda L: M(L, 2, 3) < L.ones(2, 3),
    "ge": lambda L: L.ge(M(L, 2, 3), L.ones(2, 3)),
    "ne_method": lambda L: L.ones(2, 3).ne(M(L, 2, 3)),
    "logical_and": lambda L: L.logical_and(B(L, 2, 3), L.ones(2, 3, dtype=L.bool)),
    "logical_xor": lambda L: L.logical_xor(L.ones(2, 3, dtype=L.bool), B(L, 2, 3)),
    "bitwise_or": lambda L: L.ones(2, dtype=L.bool) | B(L, 2),
    "bitwise_and_int": lambda L: L.bitwise_and(Z(L, 2), L.zeros(2, dtype=L.int64)),
    "remainder": lambda L: L.ones(2, 3) % M(L, 2, 3),
    "nextafter": lambda L: L.nextafter(M(L, 2, 3), L.ones(2, 3)),
    "isclose": lambda L: L.isclose(M(L, 2, 3), L.ones(2, 3)),
    "isclose_cpu_first": lambda L: L.isclose(L.ones(2, 3), M(L, 2, 3)),
    "where_cpu_condition": lambda L: L.where(L.ones(2, 3, dtype=L.bool), M(L, 2, 3), M(L, 2, 3)),
    "where_meta_condition": lambda L: L.where(B(L, 2, 3), L.ones(2, 3), L.ones(2, 3)),
    "masked_fill_cpu_mask": lambda L: M(L, 2, 3).masked_fill(L.ones(2, 3, dtype=L.bool), 0.0),
    "clamp_cpu_bounds": lambda L: L.clamp(M(L, 2, 3), L.zeros(2, 3), L.ones(2, 3)),
    "beside_0d_cpu": lambda L: M(L, 2, 3) == L.tensor(1.0),  # fine: a 0-d CPU tensor is a number
    "isclose_meta": lambda L: L.isclose(M(L, 2, 3), M(L, 3)),
    "allclose_meta": lambda L: L.allclose(M(L, 2, 3), M(L, 2, 3)),  # PyTorch reads the item()
    "int_floor_divide": lambda L: Z(L, 4) // Z(L, 4),  # no zero-divisor check on meta
    "int_fmod": lambda L: L.fmod(Z(L, 4), Z(L, 4)),
    "count_nonzero": lambda L: L.count_nonzero(M(L, 4, 6), 1),
}


@pytest.mark.parametrize("name", sorted(MIXED))
def test_non_function_ops_check_devices_as_pytorch(name, torch):
    _same(MIXED[name], torch)


def test_take_with_meta_index_raises_the_device_error():
    # PyTorch 2.13 returns a CPU tensor read at a meta index (no values): we raise the device
    # mismatch, as for gather / index_select, not the item() error of a range check
    with pytest.raises(RuntimeError, match="device"):
        gg.take(gg.ones(2, 3), gg.zeros(2, dtype=gg.int64, device="meta"))
    assert gg.take(gg.ones(2, 3, device="meta"), gg.zeros(2, dtype=gg.int64)).is_meta


NEW = {
    "sizes": lambda L: M(L, 2, 3).new(3, 4),
    "nothing": lambda L: M(L, 2, 3).new(),
    "data": lambda L: M(L, 2, 3).new([1.0, 2.0]),
    "size_object": lambda L: M(L, 2, 3).new(L.Size([2, 2])),
    "meta_tensor": lambda L: M(L, 2, 3).new(M(L, 2)),
    "cpu_tensor": lambda L: M(L, 2, 3).new(L.ones(2)),
    "device_cpu": lambda L: M(L, 2, 3).new(3, device="cpu"),
    "cpu_to_meta": lambda L: L.ones(2).new(3, device="meta"),
    "cpu_plain": lambda L: L.ones(2, dtype=L.float64).new(3),
    "new_zeros": lambda L: M(L, 2, 3).new_zeros(2),
    "new_empty": lambda L: M(L, 2, 3).new_empty(2, dtype=L.int64),
    "new_full": lambda L: M(L, 2, 3).new_full((2,), 1.0),
    "new_tensor": lambda L: M(L, 2, 3).new_tensor([1, 2]),
}


@pytest.mark.parametrize("name", sorted(NEW))
def test_new_keeps_the_source_device(name, torch):
    _same(NEW[name], torch)


def test_new_of_huge_sizes_on_meta_allocates_nothing():
    assert gg.empty(1, device="meta").new(10**6, 10**6).shape == (10**6, 10**6)


def _mha(L, **kw):
    m = L.nn.MultiheadAttention(8, 2, batch_first=True, device="meta")
    x = M(L, 2, 5, 8)
    return m(x, x, x, **kw)


def _layer(L, **kw):
    m = L.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, device="meta")
    return m(M(L, 2, 5, 8), **kw)


MODELS = {
    "mha_key_padding_mask": lambda L: _mha(L, key_padding_mask=B(L, 2, 5)),
    "mha_bool_attn_mask": lambda L: _mha(L, attn_mask=B(L, 5, 5)),
    "mha_float_attn_mask_weights": lambda L: _mha(L, attn_mask=M(L, 5, 5), need_weights=True)[1],
    "mha_bias_kv_zero_attn": lambda L: L.nn.MultiheadAttention(
        8, 2, add_bias_kv=True, add_zero_attn=True, device="meta"
    )(M(L, 5, 2, 8), M(L, 5, 2, 8), M(L, 5, 2, 8), key_padding_mask=B(L, 2, 5)),
    "encoder_layer_masks": lambda L: _layer(L, src_mask=B(L, 5, 5), src_key_padding_mask=B(L, 2, 5)),
    "encoder_layer_causal": lambda L: _layer(
        L, src_mask=L.nn.Transformer.generate_square_subsequent_mask(5, device="meta"), is_causal=True
    ),
    "encoder_stack_padding": lambda L: L.nn.TransformerEncoder(
        L.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, device="meta"), 2, enable_nested_tensor=False
    )(M(L, 2, 5, 8), src_key_padding_mask=B(L, 2, 5)),
    "transformer_padding_masks": lambda L: L.nn.Transformer(8, 2, 1, 1, 16, batch_first=True, device="meta")(
        M(L, 2, 5, 8), M(L, 2, 4, 8), src_key_padding_mask=B(L, 2, 5), memory_key_padding_mask=B(L, 2, 5)
    ),
    "sdpa_causal": lambda L: L.nn.functional.scaled_dot_product_attention(
        M(L, 2, 2, 5, 4), M(L, 2, 2, 5, 4), M(L, 2, 2, 5, 4), is_causal=True
    ),
    "sdpa_bool_mask": lambda L: L.nn.functional.scaled_dot_product_attention(
        M(L, 2, 2, 5, 4), M(L, 2, 2, 6, 4), M(L, 2, 2, 6, 4), attn_mask=B(L, 5, 6)
    ),
    "diag_vector": lambda L: L.diag(M(L, 3)),
    "diag_vector_offset": lambda L: L.diag(M(L, 3), -2),
    "tril": lambda L: L.tril(M(L, 3, 4)),
    "triu_batch": lambda L: L.triu(M(L, 2, 3, 4), 1),
    "multinomial": lambda L: L.multinomial(M(L, 2, 5), 3),
    "multinomial_replacement": lambda L: L.multinomial(M(L, 5), 7, replacement=True),
    "inv": lambda L: L.linalg.inv(M(L, 2, 3, 3)),
    "inverse": lambda L: L.inverse(M(L, 3, 3)),
    "inv_not_square": lambda L: L.linalg.inv(M(L, 3, 4)),
    "inv_ex_info": lambda L: L.linalg.inv_ex(M(L, 2, 3, 3))[1],
    "solve": lambda L: L.linalg.solve(M(L, 3, 3), M(L, 3)),
    "cholesky": lambda L: L.linalg.cholesky(M(L, 3, 3)),
    "cholesky_ex_info": lambda L: L.linalg.cholesky_ex(M(L, 3, 3))[1],
    "svd": lambda L: L.linalg.svd(M(L, 4, 3))[2],
    "slogdet": lambda L: L.linalg.slogdet(M(L, 2, 3, 3))[0],
    "bernoulli": lambda L: L.bernoulli(M(L, 3)),
    "normal_tensors": lambda L: L.normal(M(L, 3), M(L, 3)),
    "gumbel_softmax_hard": lambda L: L.nn.functional.gumbel_softmax(M(L, 4, 6), hard=True),
    "max_unpool2d": lambda L: L.nn.functional.max_unpool2d(
        *L.nn.functional.max_pool2d(M(L, 2, 3, 8, 8), 2, return_indices=True), 2
    ),
    "binary_cross_entropy": lambda L: L.nn.functional.binary_cross_entropy(M(L, 4, 6), M(L, 4, 6)),
    "multi_margin_loss": lambda L: L.nn.functional.multi_margin_loss(M(L, 4, 6), Z(L, 4)),
    "multilabel_margin_loss": lambda L: L.nn.functional.multilabel_margin_loss(M(L, 4, 6), Z(L, 4, 6)),
    "masked_scatter": lambda L: M(L, 2, 3).masked_scatter(B(L, 2, 3), M(L, 2, 3)),
    "ctc_loss": lambda L: L.nn.functional.ctc_loss(M(L, 10, 2, 5), Z(L, 2, 4), Z(L, 2) + 10, Z(L, 2) + 4),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_meta_results_as_pytorch(name, torch):
    _same(MODELS[name], torch)


def test_masked_attention_backward_on_meta_stays_meta():
    m = gg.nn.MultiheadAttention(8, 2, batch_first=True, device="meta")
    x = gg.ones(2, 5, 8, device="meta", requires_grad=True)
    out, _ = m(x, x, x, key_padding_mask=gg.ones(2, 5, device="meta", dtype=gg.bool), attn_mask=None)
    out.sum().backward()
    assert x.grad.is_meta and x.grad.shape == x.shape
    assert m.in_proj_weight.grad.is_meta


def test_meta_draws_leave_the_generator_alone():
    gg.manual_seed(0)
    before = gg.rand(3)
    gg.manual_seed(0)
    gg.nn.functional.gumbel_softmax(gg.ones(4, 6, device="meta"))
    gg.bernoulli(gg.ones(3, device="meta"))
    assert gg.equal(gg.rand(3), before)


def test_cpu_paths_keep_their_value_checks():
    with pytest.raises(ValueError, match="probabilities"):
        gg.nn.functional.binary_cross_entropy(gg.full((2,), 2.0), gg.ones(2))
    with pytest.raises(RuntimeError, match="singular"):
        gg.linalg.inv(gg.zeros(3, 3))
    with pytest.raises(ZeroDivisionError):
        gg.tensor([1, 2]) // gg.tensor([1, 0])
    assert gg.diag(gg.tensor([1.0, 2.0])).tolist() == [[1.0, 0.0], [0.0, 2.0]]
