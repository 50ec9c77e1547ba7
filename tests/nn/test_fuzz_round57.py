"""Round 57's differential fuzz of ``nn`` layers and ``nn.functional`` against PyTorch: the
divergences it found, reduced.

- ``ConvTranspose{1,2,3}d.forward(x, output_size=...)`` took any size up to the next stride *or*
  dilation (the functional's ``output_padding`` bound), where PyTorch's module allows only the sizes
  ``least .. least + stride - 1`` and raises ``ValueError`` past them; an ``output_size`` of a
  wrong length was cut to its last dims instead of refused.
- ``F.scaled_dot_product_attention`` with a float32 ``attn_mask`` on a float16 query promoted the
  scores to float32 and failed in the value matmul; PyTorch adds the mask into the query's dtype,
  and refuses any other float mask dtype (a float16 mask on a float32 query) with a RuntimeError.
- ``F.instance_norm`` refused an ``(N, C)`` input outright; PyTorch normalises it by the running
  statistics when ``use_input_stats=False`` (refusing it, as one spatial position, only when the
  input's own statistics are asked for, an empty batch included).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

# ---- ConvTranspose output_size ------------------------------------------------------------------

# (nd, stride, dilation, input spatial): least output = (n - 1) s + d (k - 1) + 1 with k = 2, p = 0
_CASES = [(1, 1, 2, (6,)), (2, (1, 2), (2, 1), (3, 4)), (3, 2, 3, (2, 2, 3))]


def _conv_t(lib, nd, stride, dilation):
    cls = getattr(lib.nn, f"ConvTranspose{nd}d")
    return cls(2, 3, 2, stride=stride, dilation=dilation, dtype=lib.float64)


def _least(spatial, stride, dilation):
    nd = len(spatial)
    s = stride if isinstance(stride, tuple) else (stride,) * nd
    d = dilation if isinstance(dilation, tuple) else (dilation,) * nd
    return [(n - 1) * si + di + 1 for n, si, di in zip(spatial, s, d)], s


@pytest.mark.parametrize("case", range(len(_CASES)))
def test_conv_transpose_output_size_range_matches_pytorch(torch, case):
    nd, stride, dilation, spatial = _CASES[case]
    least, s = _least(spatial, stride, dilation)
    theirs = _conv_t(torch, nd, stride, dilation)
    ours = _conv_t(gg, nd, stride, dilation)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(case).standard_normal((2, 2, *spatial))
    # every size PyTorch accepts, given alone or with the batch and channel sizes in front
    for extra in range(max(s)):
        size = [m + min(extra, si - 1) for m, si in zip(least, s)]
        for given in (size, [2, 3, *size]):
            tx, gx = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
            t_out, g_out = theirs(tx, output_size=given), ours(gx, output_size=given)
            assert g_out.shape == tuple(t_out.shape) == (2, 3, *size)
            np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
            w = np.random.default_rng(1).standard_normal(g_out.shape)
            (t_out * torch.tensor(w)).sum().backward()
            (g_out * gg.tensor(w)).sum().backward()
            np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    # one past the stride's range: PyTorch refuses even where output_padding < dilation would run
    past = [m + si for m, si in zip(least, s)]
    for lib, mod in ((torch, theirs), (gg, ours)):
        with pytest.raises(ValueError, match="valid sizes range"):
            mod(lib.tensor(x), output_size=past)
        with pytest.raises(ValueError, match="valid sizes range"):
            mod(lib.tensor(x), output_size=[m - 1 for m in least])


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_conv_transpose_output_size_of_wrong_length_is_refused(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    m = lib.nn.ConvTranspose2d(2, 3, 3, stride=2, dtype=lib.float64)
    x = lib.zeros(1, 2, 4, 4, dtype=lib.float64)
    for bad in ([9], [3, 9, 9], [1, 1, 3, 9, 9]):
        with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
            m(x, output_size=bad)
    # unbatched: the channel size alone may lead
    assert tuple(m(x[0], output_size=[3, 10, 10]).shape) == (3, 10, 10)
    with pytest.raises(ValueError, match="output_size must have 2 or 3 elements"):
        m(x[0], output_size=[1, 3, 10, 10])


def test_conv_transpose1d_stride_one_dilated_refuses_a_larger_output():
    # the fuzz's reduced case: stride 1, dilation 2 left output sizes least and least + 1 valid
    m = gg.nn.ConvTranspose1d(3, 6, 2, dilation=2, groups=3)
    x = gg.zeros(1, 3, 6)
    assert m(x, output_size=[8]).shape == (1, 6, 8)
    with pytest.raises(ValueError, match=r"valid sizes range from \[8\] to \[8\]"):
        m(x, output_size=[9])


# ---- scaled_dot_product_attention: a float mask of another dtype than the query ------------------


def test_sdpa_float16_query_takes_a_float32_mask(torch):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 2, 3, 4)).astype(np.float16) for _ in range(3))
    mask = rng.standard_normal((3, 3)).astype(np.float32)
    out = {}
    for lib in (torch, gg):
        o = lib.nn.functional.scaled_dot_product_attention(
            lib.tensor(q), lib.tensor(k), lib.tensor(v), attn_mask=lib.tensor(mask)
        )
        assert str(o.dtype).endswith("float16")
        out[lib.__name__] = o.float().numpy()
    np.testing.assert_allclose(out["glassgrad"], out["torch"], rtol=2e-3, atol=2e-3)


def test_sdpa_float32_mask_on_float64_query_gets_its_gradient(torch):
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    mask = rng.standard_normal((3, 3)).astype(np.float32)
    grads = {}
    for lib in (torch, gg):
        m = lib.tensor(mask, requires_grad=True)
        qt = lib.tensor(q, requires_grad=True)
        o = lib.nn.functional.scaled_dot_product_attention(qt, lib.tensor(k), lib.tensor(v), attn_mask=m)
        assert str(o.dtype).endswith("float64")
        (o * lib.tensor(np.arange(o.numel(), dtype=np.float64).reshape(o.shape))).sum().backward()
        assert str(m.grad.dtype).endswith("float32")
        grads[lib.__name__] = (o.detach().numpy(), m.grad.numpy(), qt.grad.numpy())
    for g, t in zip(grads["glassgrad"], grads["torch"]):
        np.testing.assert_allclose(g, t, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("query_dtype", "mask_dtype"), [("float64", "float16"), ("float32", "float16")])
@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_sdpa_refuses_other_float_mask_dtypes(torch, lib_name, query_dtype, mask_dtype):
    lib = torch if lib_name == "torch" else gg
    q = lib.zeros(1, 2, 3, dtype=getattr(lib, query_dtype))
    mask = lib.zeros(2, 2, dtype=getattr(lib, mask_dtype))
    with pytest.raises(
        RuntimeError, match="(?i)expected attn_mask dtype to be bool or float or to match query"
    ):
        lib.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=mask)


# ---- instance_norm without spatial dims -------------------------------------------------------------


def test_instance_norm_of_n_by_c_uses_the_running_stats(torch):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    res = {}
    for lib in (torch, gg):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        rm, rv = lib.tensor(mean), lib.tensor(var)
        out = lib.nn.functional.instance_norm(xt, rm, rv, wt, bt, use_input_stats=False)
        (out * lib.tensor(np.arange(12.0).reshape(4, 3))).sum().backward()
        res[lib.__name__] = (
            out.detach().numpy(),
            xt.grad.numpy(),
            wt.grad.numpy(),
            bt.grad.numpy(),
            rm.numpy(),
        )
    for g, t in zip(res["glassgrad"], res["torch"]):
        np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 3), (0, 3, 1), (2, 3, 1)])
@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_instance_norm_with_input_stats_refuses_one_spatial_position(torch, lib_name, shape):
    lib = torch if lib_name == "torch" else gg
    with pytest.raises(ValueError, match="(?i)expected more than 1 spatial element when training"):
        lib.nn.functional.instance_norm(lib.zeros(shape, dtype=lib.float64))
