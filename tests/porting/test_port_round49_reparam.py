"""Round 49 (structural re-parameterisation CNNs: RepVGG, DiverseBranchBlock, EfficientNet, GhostNet,
PoolFormer, Cadene's SENet/NASNet/PolyNet) against PyTorch 2.13.

The programs ran unchanged; one attribute differed. PyTorch's convolution layers keep a one-element
``stride``/``padding``/``dilation``/``output_padding`` list at its length (``_pair([2]) == (2,)``, the
functions repeat it), and EfficientNet-PyTorch's ``Conv2dStaticSamePadding`` tests
``len(self.stride) == 2`` before widening it to a list, so its repr reads ``stride=[2, 2]``; glassgrad
stored ``(2, 2)``. The values are stored as given now, and the layers compute as before.
The re-parameterisation patterns the programs use (fusing batch norm into a conv kernel, padding a
1x1 kernel to 3x3, an identity kernel from NumPy, replacing ``weight.data``) are checked too."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as ggnn
import glassgrad.nn.functional as ggF
from glassgrad.autograd import gradcheck

_CASES = [
    # (class name, positional args, keyword args, input shape)
    ("Conv1d", (3, 4, 3), {"stride": [2], "padding": [1], "dilation": [1]}, (2, 3, 9)),
    ("Conv2d", (3, 4, 3), {"stride": [2], "padding": [1], "dilation": [2]}, (2, 3, 9, 8)),
    ("Conv2d", (3, 4, (3, 1)), {"stride": (1,), "padding": 2, "padding_mode": "reflect"}, (2, 3, 7, 6)),
    ("Conv2d", (4, 4, 3), {"stride": [2, 1], "padding": (1,), "groups": 2, "bias": False}, (1, 4, 6, 5)),
    ("Conv2d", (3, 2, 3), {"padding": "same", "dilation": [2]}, (2, 3, 7, 6)),
    ("Conv3d", (2, 3, 2), {"stride": [2], "padding": [1]}, (1, 2, 5, 4, 6)),
    ("ConvTranspose1d", (3, 2, 3), {"stride": [2], "padding": [1], "output_padding": [1]}, (2, 3, 5)),
    ("ConvTranspose2d", (3, 2, 3), {"stride": [2], "padding": [1], "output_padding": [1]}, (2, 3, 4, 5)),
    ("ConvTranspose2d", (2, 4, 2), {"stride": (3,), "dilation": [2], "groups": 2}, (1, 2, 3, 3)),
]


def _same_weights(tm, gm):
    for name, p in tm.named_parameters():
        getattr(gm, name).data = gg.tensor(p.detach().numpy())


@pytest.mark.parametrize("case", _CASES, ids=lambda c: f"{c[0]}-{sorted(c[2].items())}")
def test_conv_layers_keep_one_element_lists_as_pytorch(torch, case):
    cls, args, kwargs, shape = case
    torch.set_default_dtype(torch.float64)
    try:
        tm = getattr(torch.nn, cls)(*args, **kwargs)
    finally:
        torch.set_default_dtype(torch.float32)
    gm = getattr(ggnn, cls)(*args, **kwargs, dtype=gg.float64)
    for attr in ("kernel_size", "stride", "padding", "dilation", "output_padding"):
        assert getattr(gm, attr) == getattr(tm, attr), attr
    assert repr(gm) == repr(tm)
    _same_weights(tm, gm)
    x = np.random.default_rng(0).standard_normal(shape)
    tx, gx = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
    ty, gy = tm(tx), gm(gx)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    (ty * torch.tensor(w)).sum().backward()
    (gy * gg.tensor(w)).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv_transpose_output_size_with_one_element_stride(torch):
    tm = torch.nn.ConvTranspose2d(2, 3, 3, stride=[2], padding=[1]).double()
    gm = ggnn.ConvTranspose2d(2, 3, 3, stride=[2], padding=[1], dtype=gg.float64)
    _same_weights(tm, gm)
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 3))
    # PyTorch's own output_size path indexes stride per dim and fails on a one-element stride;
    # glassgrad repeats it (the functions' reading), giving the size asked for
    assert gm(gg.tensor(x), output_size=(8, 6)).shape == (1, 3, 8, 6)
    want = tm(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(gm(gg.tensor(x)).detach().numpy(), want, rtol=1e-12, atol=1e-12)


def test_efficientnet_static_same_padding_pattern(torch):
    """EfficientNet-PyTorch's ``Conv2dStaticSamePadding`` reads back a one-element stride."""
    for lib in (torch, gg):
        c = lib.nn.Conv2d(3, 4, 3, stride=[2], bias=False)
        c.stride = c.stride if len(c.stride) == 2 else [c.stride[0]] * 2
        assert c.stride == [2, 2]
        assert "stride=[2, 2]" in repr(c)


def test_bad_one_element_values_still_refused():
    with pytest.raises(Exception, match="Conv2d.*stride"):
        ggnn.Conv2d(3, 4, 3, stride=[0])
    with pytest.raises(Exception, match="Conv2d.*padding"):
        ggnn.Conv2d(3, 4, 3, padding=[1, 2, 3])


# ------------------------------------------------ re-parameterisation: batch norm fused into a kernel
def _fuse(lib, conv_w, bn):
    std = (bn.running_var + bn.eps).sqrt()
    t = (bn.weight / std).reshape(-1, 1, 1, 1)
    return conv_w * t, bn.bias - bn.running_mean * bn.weight / std


def _repvgg_block(lib, rng, c, groups):
    """3x3 conv+bn, 1x1 conv+bn and an identity bn, as RepVGG's block, with set statistics."""
    mods = {
        "k3": lib.nn.Conv2d(c, c, 3, padding=1, groups=groups, bias=False),
        "k1": lib.nn.Conv2d(c, c, 1, groups=groups, bias=False),
        "b3": lib.nn.BatchNorm2d(c),
        "b1": lib.nn.BatchNorm2d(c),
        "bi": lib.nn.BatchNorm2d(c),
    }
    for name, m in mods.items():
        for p in m.parameters():
            p.data = lib.tensor(rng.standard_normal(tuple(p.shape)))
        if name.startswith("b"):
            m.running_mean = lib.tensor(rng.uniform(-0.1, 0.1, c))
            m.running_var = lib.tensor(rng.uniform(0.5, 1.5, c))
            m.eval()
    return mods


@pytest.mark.parametrize("groups", [1, 2])
def test_repvgg_style_fusion_matches_pytorch_and_the_branches(torch, groups):
    c = 4
    outs = []
    for lib in (torch, gg):
        lib.set_default_dtype(lib.float64)
        try:
            m = _repvgg_block(lib, np.random.default_rng(3), c, groups)
            x = lib.tensor(np.random.default_rng(4).standard_normal((2, c, 5, 6)))
            branches = m["b3"](m["k3"](x)) + m["b1"](m["k1"](x)) + m["bi"](x)
            k3, b3 = _fuse(lib, m["k3"].weight, m["b3"])
            k1, b1 = _fuse(lib, m["k1"].weight, m["b1"])
            ident = np.zeros((c, c // groups, 3, 3), dtype=np.float32)
            for i in range(c):
                ident[i, i % (c // groups), 1, 1] = 1
            ki, bi = _fuse(lib, lib.from_numpy(ident), m["bi"])  # float32 kernel, float64 scale
            fused = lib.nn.Conv2d(c, c, 3, padding=1, groups=groups)
            fused.weight.data = k3 + lib.nn.functional.pad(k1, [1, 1, 1, 1]) + ki
            fused.bias.data = b3 + b1 + bi
            y = fused(x)
            assert y.dtype == lib.float64
            np.testing.assert_allclose(y.detach().numpy(), branches.detach().numpy(), rtol=1e-12, atol=1e-12)
            outs.append(y.detach().numpy())
        finally:
            lib.set_default_dtype(lib.float32)
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-12, atol=1e-12)


def test_fused_kernel_is_differentiable_gradcheck():
    """The equivalent kernel as a function of conv weight, gamma and running var (RepVGG uses it as a
    regulariser), with a 1x1 kernel padded to 3x3 and broadcast scales."""
    rng = np.random.default_rng(5)

    def eq_kernel(k3, k1, gamma, var):
        t3 = (gamma / (var + 1e-5).sqrt()).reshape(-1, 1, 1, 1)
        return k3 * t3 + ggF.pad(k1, [1, 1, 1, 1]) * t3.flip(0)

    args = [
        gg.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True),
        gg.tensor(rng.standard_normal((3, 2, 1, 1)), requires_grad=True),
        gg.tensor(rng.standard_normal(3), requires_grad=True),
        gg.tensor(rng.uniform(0.5, 1.5, 3), requires_grad=True),
    ]
    assert gradcheck(eq_kernel, args)
