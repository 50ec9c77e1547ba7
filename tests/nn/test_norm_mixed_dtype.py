"""The norms' mixed dtypes, as PyTorch's CPU kernels: a float16 input with float32 parameters and
running statistics is normalised in float32 and answers float16 (CLIP's ResNet after
``convert_weights``, porting round 26); any other mix raises a RuntimeError naming the op."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

MODULES = {
    "batch_norm_train": lambda nn: nn.BatchNorm2d(3),
    "batch_norm_eval": lambda nn: nn.BatchNorm2d(3).eval(),
    "group_norm": lambda nn: nn.GroupNorm(1, 3),
    "layer_norm": lambda nn: nn.LayerNorm(4),
    "instance_norm": lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_float16_input_with_float32_parameters_answers_float16_as_torch(torch, name):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float16)
    g = np.random.default_rng(1).standard_normal((2, 3, 4, 4)).astype(np.float16)
    results = []
    for lib in (gg, torch):
        m = MODULES[name](lib.nn)
        with lib.no_grad():
            for p in m.parameters():
                p.copy_(
                    lib.tensor(np.random.default_rng(2).standard_normal(tuple(p.shape)).astype(np.float32))
                )
        xt = lib.tensor(x, requires_grad=True)
        y = m(xt)
        (y.float() * lib.tensor(g).float()).sum().backward()
        stats = [b.detach().numpy().copy() for b in m.buffers() if b.dtype == lib.float32]
        grads = [p.grad.numpy() for p in m.parameters()]
        results.append(
            (
                str(y.dtype),
                str(xt.grad.dtype),
                y.detach().float().numpy(),
                xt.grad.float().numpy(),
                grads,
                stats,
            )
        )
    (gd, gxd, gy, gx, gw, gs), (td, txd, ty, tx, tw, ts) = results
    assert (
        (gd.split(".")[-1], gxd.split(".")[-1])
        == (td.split(".")[-1], txd.split(".")[-1])
        == ("float16", "float16")
    )
    np.testing.assert_allclose(gy, ty, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(gx, tx, rtol=1e-2, atol=1e-2)
    for a, b in zip(gw + gs, tw + ts):
        np.testing.assert_allclose(a, b, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("name", ["batch_norm_eval", "group_norm", "layer_norm"])
@pytest.mark.parametrize(("x_dtype", "p_dtype"), [("float32", "float16"), ("float64", "float32")])
def test_other_mixes_raise_as_torch(torch, name, x_dtype, p_dtype):
    x = np.ones((2, 3, 4, 4))
    for lib in (gg, torch):
        m = MODULES[name](lib.nn).to(getattr(lib, p_dtype))
        with pytest.raises(RuntimeError, match="mixed dtype"):
            m(lib.tensor(x, dtype=getattr(lib, x_dtype)))
