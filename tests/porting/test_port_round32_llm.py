"""gpt-fast's ``generate.py`` (round 32): what its top sets before ``torch.compile``
(``torch._inductor.config.triton.*`` and ``torch._functorch.config``, the latter never imported
by the script) and the deprecated ``torch.backends.cuda.sdp_kernel`` around its decode step.
Held to PyTorch 2.13."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad


def test_inductor_triton_group_reads_sets_and_refuses_unknown_names(torch):
    import torch._inductor.config as tconfig

    import glassgrad._inductor.config as gconfig

    for name in ("unique_kernel_names", "cudagraphs", "cudagraph_trees", "descriptive_names", "max_tiles"):
        assert getattr(gconfig.triton, name) == getattr(tconfig.triton, name)
    before = gconfig.triton.unique_kernel_names
    gconfig.triton.unique_kernel_names = False
    try:
        assert gconfig.triton.unique_kernel_names is False
    finally:
        gconfig.triton.unique_kernel_names = before
    for mod in (gconfig, tconfig):
        with pytest.raises(AttributeError, match=r"triton\.no_such_knob does not exist"):
            mod.triton.no_such_knob = 1
        with pytest.raises(AttributeError, match=r"triton\.no_such_knob does not exist"):
            _ = mod.triton.no_such_knob


def test_functorch_config_is_loaded_by_the_plain_import(torch):
    # gpt-fast sets it after only `import torch._dynamo.config` / `import torch._inductor.config`
    gconfig = glassgrad._functorch.config
    tconfig = torch._functorch.config
    for name in ("enable_autograd_cache", "donated_buffer", "activation_memory_budget", "cse"):
        assert getattr(gconfig, name) == getattr(tconfig, name)
    import glassgrad._functorch.config as imported

    assert imported is gconfig
    gconfig.enable_autograd_cache = False
    try:
        assert gconfig.enable_autograd_cache is False
    finally:
        gconfig.enable_autograd_cache = True
    for mod in (gconfig, tconfig):
        with pytest.raises(AttributeError, match="no_such_knob does not exist"):
            mod.no_such_knob = 1


def _decode_attention(lib):
    # gpt-fast's decode step: one query against the whole cache, a bool row of the causal mask
    rng = np.random.default_rng(0)
    q = lib.tensor(rng.standard_normal((2, 4, 1, 8)))
    k = lib.tensor(rng.standard_normal((2, 4, 6, 8)))
    v = lib.tensor(rng.standard_normal((2, 4, 6, 8)))
    mask = lib.tril(lib.ones(6, 6, dtype=lib.bool))[None, None, lib.tensor([3])]
    with pytest.warns(FutureWarning, match=r"`torch.backends.cuda.sdp_kernel\(\)` is deprecated"):
        cm = lib.backends.cuda.sdp_kernel(enable_flash=False, enable_mem_efficient=False, enable_math=True)
    with cm as handed:
        flags = (
            lib.backends.cuda.flash_sdp_enabled(),
            lib.backends.cuda.math_sdp_enabled(),
            lib.backends.cuda.mem_efficient_sdp_enabled(),
            lib.backends.cuda.cudnn_sdp_enabled(),
        )
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.0)
    after = (lib.backends.cuda.flash_sdp_enabled(), lib.backends.cuda.math_sdp_enabled())
    return handed, flags, after, y.transpose(1, 2).contiguous().view(2, 1, 32).numpy()


def test_sdp_kernel_switches_within_the_block_and_restores(torch):
    g = _decode_attention(glassgrad)
    t = _decode_attention(torch)
    assert g[0] == t[0] == {}
    assert g[1] == t[1] == (False, True, False, True)
    assert g[2] == t[2] == (True, True)
    np.testing.assert_allclose(g[3], t[3], rtol=1e-12, atol=1e-12)


def test_sdp_kernel_restores_after_an_exception():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(KeyError), glassgrad.backends.cuda.sdp_kernel(enable_math=False):
            assert not glassgrad.backends.cuda.math_sdp_enabled()
            raise KeyError("inside")
    assert glassgrad.backends.cuda.math_sdp_enabled()


def test_dtype_itemsize_and_is_signed_as_torch(torch):
    names = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128"]
    names += ["int8", "int16", "int32", "int64", "uint8", "bool"]
    for name in names:
        g, t = getattr(glassgrad, name), getattr(torch, name)
        assert (g.itemsize, g.is_signed) == (t.itemsize, t.is_signed), name
        assert type(g.itemsize) is int


def test_model_size_in_bytes_as_gpt_fast_counts_it(torch):
    # generate.py's _get_model_size: numel * dtype.itemsize over parameters and buffers
    def size(lib):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.BatchNorm1d(3)).double()
        m[1].register_buffer("mask", lib.ones(5, dtype=lib.bool))
        return sum(p.numel() * p.dtype.itemsize for p in (*m.parameters(), *m.buffers()))

    assert size(glassgrad) == size(torch) == (15 + 6 + 6) * 8 + 8 + 5
