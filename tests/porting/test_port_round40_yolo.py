"""Round 40, group yolo: Ultralytics YOLO (YOLOv8n / YOLO11n detect, segment, pose) on glassgrad.

Ultralytics imports ``torch.nn.utils.fusion.fuse_conv_bn_weights`` at import time (``fuse()``
folds every BatchNorm into its convolution), its TaskAlignedAssigner calls
``torch.arange(end=bs, dtype=torch.int64)``, and its segmentation and pose losses call
``binary_cross_entropy_with_logits`` with float64 logits and float32 targets (``masks.float()``),
where PyTorch's result is float32, rounded step by step and reduced in float32.
``nn.utils.convert_conv2d_weight_memory_format`` re-lays weights with ``resize_(...,
memory_format=channels_last)``. Each test compares with PyTorch's CPU build.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F


def _rng(seed=0):
    return np.random.default_rng(seed)


def _eval_bn(lib, bn, c, rng):
    """Give a BatchNorm non-trivial statistics and affine parameters; eval mode."""
    bn.running_mean.copy_(lib.tensor(rng.normal(0, 0.3, c)))
    bn.running_var.copy_(lib.tensor(rng.uniform(0.5, 1.5, c)))
    with lib.no_grad():
        bn.weight.copy_(lib.tensor(rng.uniform(0.5, 1.5, c)))
        bn.bias.copy_(lib.tensor(rng.normal(0, 0.3, c)))
    return bn.eval()


# --- nn.utils.fusion -------------------------------------------------------------------------


_CONVS = [
    ("Conv1d", "BatchNorm1d", dict(in_channels=4, out_channels=6, kernel_size=3), (2, 4, 9), False),
    ("Conv2d", "BatchNorm2d", dict(in_channels=4, out_channels=6, kernel_size=3, groups=2), (2, 4, 7, 7), False),
    ("Conv2d", "BatchNorm2d", dict(in_channels=3, out_channels=5, kernel_size=1, bias=False), (1, 3, 5, 4), False),
    ("Conv3d", "BatchNorm3d", dict(in_channels=2, out_channels=3, kernel_size=2), (1, 2, 4, 4, 4), False),
    ("ConvTranspose2d", "BatchNorm2d", dict(in_channels=4, out_channels=6, kernel_size=2, stride=2),
     (2, 4, 3, 3), True),
]  # fmt: skip


@pytest.mark.parametrize("conv_name, bn_name, kw, xshape, transpose", _CONVS)
def test_fuse_conv_bn_eval_matches_pytorch(torch, conv_name, bn_name, kw, xshape, transpose):
    rng = _rng(1)
    pt_conv = getattr(torch.nn, conv_name)(**kw).double().eval()
    gg_conv = getattr(gg.nn, conv_name)(**kw).double().eval()
    gg_conv.load_state_dict({k: gg.tensor(v.numpy()) for k, v in pt_conv.state_dict().items()})
    c = kw["out_channels"]
    pt_bn = _eval_bn(torch, getattr(torch.nn, bn_name)(c).double(), c, rng)
    gg_bn = _eval_bn(gg, getattr(gg.nn, bn_name)(c).double(), c, _rng(1))
    pt_fused = torch.nn.utils.fuse_conv_bn_eval(pt_conv, pt_bn, transpose=transpose)
    gg_fused = gg.nn.utils.fuse_conv_bn_eval(gg_conv, gg_bn, transpose=transpose)
    assert gg_fused is not gg_conv and type(gg_fused) is type(gg_conv)
    assert isinstance(gg_fused.weight, gg.nn.Parameter) and isinstance(gg_fused.bias, gg.nn.Parameter)
    np.testing.assert_allclose(gg_fused.weight.detach().numpy(), pt_fused.weight.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(
        gg_fused.bias.detach().numpy(), pt_fused.bias.detach().numpy(), rtol=1e-15, atol=1e-16
    )
    x = rng.normal(size=xshape)
    np.testing.assert_allclose(gg_fused(gg.tensor(x)).detach().numpy(), pt_fused(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-13)  # fmt: skip
    # the original layer is untouched and the fused one gives bn(conv(x))
    np.testing.assert_allclose(gg_fused(gg.tensor(x)).detach().numpy(), gg_bn(gg_conv(gg.tensor(x))).detach().numpy(),
                               rtol=1e-12, atol=1e-13)  # fmt: skip


def test_fuse_conv_bn_weights_defaults_and_dtypes(torch):
    """No conv bias, no BN affine: zeros and ones stand in; each result keeps its input's dtype
    and requires_grad, as PyTorch's."""
    rng = _rng(2)
    w, rm, rv = rng.normal(size=(4, 2, 3, 3)), rng.normal(size=4), rng.uniform(0.5, 2, 4)
    pt = torch.nn.utils.fusion.fuse_conv_bn_weights(
        torch.tensor(w, dtype=torch.float32), None, torch.tensor(rm), torch.tensor(rv), 1e-3, None, None
    )
    got = gg.nn.utils.fusion.fuse_conv_bn_weights(
        gg.tensor(w, dtype=gg.float32), None, gg.tensor(rm), gg.tensor(rv), 1e-3, None, None
    )
    for g_, p_ in zip(got, pt):
        assert str(g_.dtype)[-7:] == str(p_.dtype)[-7:] and g_.requires_grad == p_.requires_grad
        np.testing.assert_array_equal(g_.detach().numpy(), p_.detach().numpy())


@pytest.mark.parametrize("bn_features", [5, 1])
def test_fuse_linear_bn_eval_matches_pytorch(torch, bn_features):
    rng = _rng(3)
    pt_lin = torch.nn.Linear(3, 5).double().eval()
    gg_lin = gg.nn.Linear(3, 5).double().eval()
    gg_lin.load_state_dict({k: gg.tensor(v.numpy()) for k, v in pt_lin.state_dict().items()})
    pt_bn = _eval_bn(torch, torch.nn.BatchNorm1d(bn_features).double(), bn_features, rng)
    gg_bn = _eval_bn(gg, gg.nn.BatchNorm1d(bn_features).double(), bn_features, _rng(3))
    pt_f = torch.nn.utils.fuse_linear_bn_eval(pt_lin, pt_bn)
    gg_f = gg.nn.utils.fuse_linear_bn_eval(gg_lin, gg_bn)
    np.testing.assert_allclose(gg_f.weight.detach().numpy(), pt_f.weight.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(gg_f.bias.detach().numpy(), pt_f.bias.detach().numpy(), rtol=1e-15)


def test_fuse_refuses_training_mode_and_mismatched_features(torch):
    for lib in (torch, gg):
        conv, bn = lib.nn.Conv2d(2, 3, 1), lib.nn.BatchNorm2d(3)
        with pytest.raises(AssertionError, match="Fusion only for eval"):
            lib.nn.utils.fuse_conv_bn_eval(conv, bn)
        with pytest.raises(AssertionError, match="linear.out_features=4 and bn.num_features=3"):
            lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(2, 4).eval(), lib.nn.BatchNorm1d(3).eval())


def test_fusion_module_is_importable_as_pytorch_spells_it():
    from glassgrad.nn.utils.fusion import fuse_conv_bn_weights

    assert fuse_conv_bn_weights is gg.nn.utils.fuse_conv_bn_weights
    assert set(gg.nn.utils.fusion.__all__) <= set(gg.nn.utils.__all__)


# --- nn.utils.memory_format and resize_(memory_format=) --------------------------------------


def test_convert_conv_weight_memory_format_matches_pytorch(torch):
    def build(lib):
        return lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3), lib.nn.ConvTranspose2d(3, 2, 2), lib.nn.Linear(4, 4),
                                 lib.nn.Sequential(lib.nn.Conv3d(2, 2, 2)))  # fmt: skip

    pt, ours = build(torch), build(gg)
    ours.load_state_dict({k: gg.tensor(v.numpy()) for k, v in pt.state_dict().items()})
    assert torch.nn.utils.convert_conv2d_weight_memory_format(pt, torch.channels_last) is pt
    assert gg.nn.utils.convert_conv2d_weight_memory_format(ours, gg.channels_last) is ours
    torch.nn.utils.convert_conv3d_weight_memory_format(pt, torch.channels_last_3d)
    gg.nn.utils.convert_conv3d_weight_memory_format(ours, gg.channels_last_3d)
    for (name, p), q in zip(pt.named_parameters(), ours.parameters()):
        assert q.stride() == p.stride(), name
        assert isinstance(q, gg.nn.Parameter)
        np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())


@pytest.mark.parametrize(
    "src, size, fmt",
    [((1, 2, 3, 4), (1, 2, 3, 4), "channels_last"), ((1, 2, 3, 4), (1, 2, 3, 5), "channels_last"),
     ((2, 3, 2, 2, 2), (2, 3, 2, 2, 2), "channels_last_3d"), ((24,), (2, 3, 2, 2), "contiguous_format"),
     ((2, 3, 2, 2), (3, 2, 2, 1), "channels_last")],
)  # fmt: skip
def test_resize_with_memory_format_matches_pytorch(torch, src, size, fmt):
    """PyTorch lays the new shape over the memory in the format's order (values follow)."""
    n = int(np.prod(src))
    pt = torch.arange(float(n)).reshape(src)
    ours = gg.arange(float(n)).reshape(src)
    pt.resize_(size, memory_format=getattr(torch, fmt))
    assert ours.resize_(size, memory_format=getattr(gg, fmt)) is ours
    assert ours.stride() == pt.stride() and tuple(ours.shape) == tuple(pt.shape)
    k = min(n, int(np.prod(size)))  # the elements beyond the old memory are not initialised
    np.testing.assert_array_equal(ours.numpy().ravel(order="K")[:k], pt.numpy().ravel(order="K")[:k])


def test_resize_memory_format_errors_as_pytorch(torch):
    for lib in (torch, gg):
        t = lib.zeros(2, 3, 4, 5)
        with pytest.raises(RuntimeError, match="(?i)preserve"):
            t.resize_(2, 3, 4, 5, memory_format=lib.preserve_format)
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
            t.resize_(2, 3, 4, memory_format=lib.channels_last)


@pytest.mark.parametrize("fmt", [None, "preserve_format", "contiguous_format", "channels_last"])
def test_resize_as_memory_format_matches_pytorch(torch, fmt):
    """``preserve_format`` takes the template's layout; None means contiguous, as PyTorch's."""
    strides = []
    for lib in (torch, gg):
        tmpl = lib.zeros(1, 2, 3, 4).contiguous(memory_format=lib.channels_last)
        t = lib.arange(24.0)
        kw = {} if fmt is None else {"memory_format": getattr(lib, fmt)}
        t.resize_as_(tmpl, **kw)
        strides.append(t.stride())
    assert strides[0] == strides[1]


# --- arange with end by name ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, kw",
    [((), dict(end=4)), ((), dict(end=3, dtype="int64")), ((), dict(start=1, end=4)),
     ((), dict(start=1, end=8, step=3)), ((2,), dict(end=9, step=2)), ((1, 6), dict(step=2)),
     ((), dict(end=2.5)), ((5,), {})],
)  # fmt: skip
def test_arange_end_by_name_matches_pytorch(torch, args, kw):
    tkw = {k: getattr(torch, v) if k == "dtype" else v for k, v in kw.items()}
    gkw = {k: getattr(gg, v) if k == "dtype" else v for k, v in kw.items()}
    want, got = torch.arange(*args, **tkw), gg.arange(*args, **gkw)
    assert str(got.dtype)[-5:] == str(want.dtype)[-5:]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_arange_end_by_name_in_taskaligned_pattern(torch):
    """Ultralytics' TaskAlignedAssigner: ``arange(end=bs, dtype=int64)[..., None]`` as row indices."""
    want = torch.arange(end=3, dtype=torch.int64)[..., None].expand(-1, 2)
    got = gg.arange(end=3, dtype=gg.int64)[..., None].expand(-1, 2)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize(
    "args, kw", [((), {}), ((), dict(step=2)), ((5,), dict(step=2)), ((), dict(start=1, step=2))]
)
def test_arange_without_end_raises_type_error_as_pytorch(torch, args, kw):
    with pytest.raises(TypeError):
        torch.arange(*args, **kw)
    with pytest.raises(
        TypeError, match=r"arange\(\): expected \(end\), \(start, end\) or \(start, end, step\)"
    ):
        gg.arange(*args, **kw)


# --- binary_cross_entropy_with_logits: float64 logits, float32 targets --------------------------


def _bce_inputs(lib, rng, shape, soft):
    x = rng.normal(size=shape) * 3
    y = rng.random(shape) if soft else (rng.random(shape) > 0.5).astype(float)
    return lib.tensor(x, dtype=lib.float64, requires_grad=True), lib.tensor(y, dtype=lib.float32)


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("extra", ["", "weight", "pos_weight", "both"])
def test_bce_with_logits_mixed_dtypes_elementwise_bit_for_bit(torch, soft, extra):
    """PyTorch writes ``(1 - y) * x`` into the float32 target's dtype, then subtracts the float64
    ``log_sigmoid(x)`` (times ``1 + (pos_weight - 1) y``, itself float32) into float32."""
    outs = []
    for lib in (torch, gg):
        rng = _rng(4)
        x, y = _bce_inputs(lib, rng, (40, 25), soft)
        kw = {}
        if extra in ("weight", "both"):
            kw["weight"] = lib.tensor(rng.uniform(0.2, 2, (1, 25)))  # float64, broadcast
        if extra in ("pos_weight", "both"):
            kw["pos_weight"] = lib.tensor(rng.uniform(0.5, 3, 25), dtype=lib.float32)
        out = (
            F.binary_cross_entropy_with_logits
            if lib is gg
            else torch.nn.functional.binary_cross_entropy_with_logits
        )
        outs.append(out(x, y, reduction="none", **kw))
    assert outs[1].dtype == gg.float32 and outs[0].dtype == torch.float32
    np.testing.assert_array_equal(outs[1].detach().numpy(), outs[0].detach().numpy())


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_with_logits_mixed_dtypes_reduces_in_the_target_dtype(torch, reduction):
    """Two elements: PyTorch's float32 sum of the rounded losses (the old float64 sum, rounded
    once, differs in the last bit for these inputs)."""
    x = np.array([0.6404226504432821, 0.10490011715303971])
    y = np.array([1.0, 0.0], dtype=np.float32)
    want = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(x), torch.tensor(y), reduction=reduction
    )
    got = F.binary_cross_entropy_with_logits(gg.tensor(x), gg.tensor(y), reduction=reduction)
    assert got.dtype == gg.float32
    assert got.item() == want.item()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_mixed_dtypes_gradient_is_float64_as_pytorch(torch, reduction):
    grads = []
    for lib in (torch, gg):
        rng = _rng(5)
        x, y = _bce_inputs(lib, rng, (6, 7), True)
        pw = lib.tensor(rng.uniform(0.5, 3, 7), dtype=lib.float32)
        fn = (
            F.binary_cross_entropy_with_logits
            if lib is gg
            else torch.nn.functional.binary_cross_entropy_with_logits
        )
        out = fn(x, y, reduction=reduction, pos_weight=pw)
        (out.sum() if reduction == "none" else out).backward()
        grads.append(x.grad)
    assert grads[1].dtype == gg.float64
    np.testing.assert_allclose(grads[1].numpy(), grads[0].numpy(), rtol=1e-14, atol=1e-17)


def test_bce_with_logits_same_dtype_unchanged_and_gradchecked():
    """The float64 path (one dtype) still gradchecks, with broadcast weight and pos_weight."""
    rng = _rng(6)
    x = gg.tensor(rng.normal(size=(3, 4, 5)), requires_grad=True)
    y = gg.tensor(rng.random((3, 4, 5)))
    w = gg.tensor(rng.uniform(0.5, 2, (4, 1)))
    pw = gg.tensor(rng.uniform(0.5, 2, 5))
    assert gg.autograd.gradcheck(
        lambda a: F.binary_cross_entropy_with_logits(a, y, weight=w, pos_weight=pw), (x,)
    )
