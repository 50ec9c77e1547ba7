"""Review of session 18's long-row convolutions, batch norm's closed-form statistics, the norms'
mixed dtypes and cat's promotion: parity with PyTorch where the first versions went wrong (float16
norms in float32, instance norm's error, cat's legacy empty inputs keeping their gradient)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError


@pytest.mark.parametrize("shape, scale", [((64, 3, 1100), 1.0), ((8, 3, 100), 300.0)])
def test_batch_norm_float16_is_computed_in_float32(torch, shape, scale):
    """float16 batch norm sums its squares in float32, as PyTorch's CPU kernel: the sum of c^2 over
    70,400 values at unit scale (or c^2 itself at scale 300) overflowed float16 to inf, and the
    output, gradients and running variance came back nan."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * scale).astype(np.float16)
    g = rng.standard_normal(shape).astype(np.float16)
    results = []
    for lib in (gg, torch):
        xt = lib.tensor(x, requires_grad=True)
        w = lib.tensor(np.linspace(0.5, 2, shape[1]).astype(np.float16), requires_grad=True)
        b = lib.zeros(shape[1], dtype=lib.float16, requires_grad=True)
        rm, rv = lib.zeros(shape[1], dtype=lib.float16), lib.ones(shape[1], dtype=lib.float16)
        y = lib.nn.functional.batch_norm(xt, rm, rv, w, b, training=True)
        y.backward(lib.tensor(g))
        results.append([t.detach().numpy() for t in (y, xt.grad, w.grad, b.grad, rm, rv)])
    for ours, theirs in zip(*results):
        assert ours.dtype == np.float16
        np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64), rtol=2e-2, atol=2e-2)


def test_instance_norm_mixed_dtype_error_names_instance_norm():
    """A float32 input with float64 parameters raises as PyTorch does, naming instance_norm (the
    group_norm it runs on named itself)."""
    x, w = gg.randn(2, 3, 5), gg.ones(3, dtype=gg.float64)
    with pytest.raises(DTypeError, match="^instance_norm: mixed dtype"):
        gg.nn.functional.instance_norm(x, weight=w, bias=w)


def test_cat_legacy_empty_input_gets_an_empty_gradient(torch):
    """cat skips a legacy empty (0,) input but keeps it in the graph, as PyTorch: its gradient is an
    empty (0,) in its own dtype (DINO's float32 accumulator joined with float64 rows), where it was
    None (``autograd.grad`` without allow_unused raised), to first and second order."""
    results = []
    for lib in (gg, torch):
        e = lib.zeros(0, requires_grad=True)
        x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        ge, gx = lib.autograd.grad((lib.cat([e, x, e]) ** 3).sum(), [e, x], create_graph=True)
        (gxx,) = lib.autograd.grad(gx.sum(), [x])
        results.append((tuple(ge.shape), str(ge.dtype).split(".")[-1], gx.detach().numpy(), gxx.numpy()))
    (sa, da, gxa, gxxa), (sb, db, gxb, gxxb) = results
    assert (sa, da) == (sb, db) == ((0,), "float32")
    np.testing.assert_allclose(gxa, gxb)
    np.testing.assert_allclose(gxxa, gxxb)


@pytest.mark.parametrize("op", ["layer_norm", "group_norm", "instance_norm"])
def test_float16_layer_group_instance_norm_at_large_scale(torch, op):
    """float16 layer norm (and group/instance norm, built on it) normalise in float32, as PyTorch's
    CPU kernels: at |x - mean| past 256 the float16 squares overflowed and the output came out
    wrong by up to 4 (no nan: inf variance made rstd 0)."""
    x = (np.random.default_rng(0).standard_normal((4, 6, 50)) * 400).astype(np.float16)
    calls = {
        "layer_norm": lambda lib, t: lib.nn.functional.layer_norm(t, (50,)),
        "group_norm": lambda lib, t: lib.nn.functional.group_norm(t, 2),
        "instance_norm": lambda lib, t: lib.nn.functional.instance_norm(t),
    }
    results = []
    for lib in (gg, torch):
        t = lib.tensor(x, requires_grad=True)
        y = calls[op](lib, t)
        (y.float() ** 2 * lib.linspace(0, 1, 50)).sum().backward()
        results.append((y.detach().numpy(), t.grad.numpy()))
    for ours, theirs in zip(*results):
        assert ours.dtype == np.float16
        np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64), rtol=1e-2, atol=5e-3)
