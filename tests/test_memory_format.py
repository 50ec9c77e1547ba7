"""Memory formats (``glassgrad.channels_last`` ...): strides, ``is_contiguous`` for each format,
conversions, factories, ``Module.to(memory_format=)``, propagation through the layers PyTorch
keeps channels-last, errors, and values/gradients identical to the contiguous path. Each parity
test runs the same expression on glassgrad and on PyTorch (the ``torch`` fixture)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as ggnn

_X = np.random.RandomState(0).randn(2, 3, 6, 6).astype(np.float32)
_W = np.random.RandomState(1).randn(4, 3, 3, 3).astype(np.float32)


def _env(lib):
    """The library's namespaces and the two inputs: x contiguous, c channels-last."""
    x = lib.tensor(_X)
    return lib, lib.nn.functional, x, x.to(memory_format=lib.channels_last), lib.tensor(_W)


# Expressions whose strides (or booleans) must equal PyTorch's: ``T`` is the library, ``F`` its
# nn.functional, ``x``/``c`` the contiguous/channels-last (2, 3, 6, 6) input, ``w`` a conv weight.
SAME = [
    "x.stride()",
    "c.stride()",
    "c.to(memory_format=T.channels_last) is c",
    "x.to(memory_format=T.contiguous_format) is x",
    "c.contiguous(memory_format=T.channels_last) is c",
    "c.to(memory_format=T.preserve_format) is c",
    "c.to(T.float64).stride()",
    "c.to(T.float64, memory_format=T.contiguous_format).stride()",
    "c.to(memory_format=T.contiguous_format).stride()",
    "c.contiguous().stride()",
    "T.empty(4, 1, 4, 4).to(memory_format=T.channels_last).stride()",
    "T.empty(4, 1, 4, 4).contiguous(memory_format=T.channels_last).stride()",
    "T.empty(4, 3, 1, 1).to(memory_format=T.channels_last).stride()",
    "T.empty(4, 1, 1, 1).to(memory_format=T.channels_last).stride()",
    "T.empty(0, 3, 4, 5).stride()",
    "T.randn(3, 4).t().to(memory_format=T.contiguous_format).stride()",
    "c.clone().stride()",
    "T.clone(c).stride()",
    "T.clone(c, memory_format=T.contiguous_format).stride()",
    "c.clone(memory_format=T.contiguous_format).stride()",
    "x.clone(memory_format=T.channels_last).stride()",
    "x.permute(0, 2, 1, 3).clone().stride()",
    "c[:, :, ::2].clone().stride()",
    "c[:, :, ::2].stride()",
    "x[:, :, ::2].clone().stride()",
    "T.randn(3, 8).t()[::2].clone().stride()",
    "T.randn(3, 4).t().clone().stride()",
    "T.empty(10, 3, 32, 32, memory_format=T.channels_last).stride()",
    "T.empty(2, 3, 4, 5, 6, memory_format=T.channels_last_3d).stride()",
    "T.empty(2, 3, 4, 5, 6).to(memory_format=T.channels_last_3d).stride()",
    "T.empty_like(c).stride()",
    "T.zeros_like(c).stride()",
    "T.ones_like(c, memory_format=T.contiguous_format).stride()",
    "T.rand_like(c).stride()",
    "T.randn_like(x, memory_format=T.channels_last).stride()",
    "T.full_like(c, 2).stride()",
    "T.randint_like(c, 5).stride()",
    "T.empty_like(x.permute(0, 2, 1, 3)).stride()",
    "T.empty_like(c[:, :, ::2]).stride()",
    "T.zeros_like(T.randn(3, 4).t()).stride()",
    "T.empty_strided((2, 3), (1, 2)).stride()",
    "T.empty_strided((2, 3, 4, 5), (60, 1, 15, 3)).is_contiguous(memory_format=T.channels_last)",
    "(x + c).stride()",
    "(c + T.randn(3, 1, 1)).stride()",
    "(T.randn(3, 1, 1) + c).stride()",
    "(c + T.randn(6)).stride()",
    "(c * 2).stride()",
    "(c / 3 + 1).stride()",
    "(-c).stride()",
    "c.abs().stride()",
    "c.exp().stride()",
    "c.sigmoid().stride()",
    "T.tanh(c).stride()",
    "c.pow(2).stride()",
    "c.clamp(0, 1).stride()",
    "(c > 0).stride()",
    "c.float().stride()",
    "c.double().stride()",
    "c.half().stride()",
    "c.detach().stride()",
    "T.relu(c).stride()",
    "F.relu(c).stride()",
    "F.gelu(c).stride()",
    "F.leaky_relu(c).stride()",
    "F.hardtanh(c).stride()",
    "F.elu(c).stride()",
    "F.relu6(c).stride()",
    "T.nn.ReLU(inplace=True)(c.clone()).stride()",
    "T.nn.SiLU()(c).stride()",
    "T.nn.Hardswish()(c).stride()",
    "c.sum(1, keepdim=True).stride()",
    "c.sum(1).stride()",
    "c.mean((2, 3), keepdim=True).stride()",
    "c.mean((2, 3)).stride()",
    "T.softmax(c, 1).stride()",
    "F.log_softmax(c, 1).stride()",
    "F.layer_norm(c, (6,)).stride()",
    "c.flatten(1).stride()",
    "c.reshape(2, -1).stride()",
    "T.cat([c, c], 1).stride()",
    "T.cat([c, x], 0).stride()",
    "T.stack([c, c]).stride()",
    "c[0].stride()",
    "c.unsqueeze(0).stride()",
    "c.permute(0, 2, 3, 1).is_contiguous()",
    "F.conv2d(x, w, padding=1).stride()",
    "F.conv2d(c, w, padding=1).stride()",
    "F.conv2d(x, w.to(memory_format=T.channels_last), padding=1).stride()",
    "F.conv2d(c, w.to(memory_format=T.channels_last), stride=2).stride()",
    "F.conv2d(c, T.randn(4, 3, 1, 1)).stride()",
    "F.conv_transpose2d(c, T.randn(3, 4, 3, 3)).stride()",
    "T.nn.BatchNorm2d(3)(c).stride()",
    "T.nn.BatchNorm2d(3).eval()(c).stride()",
    "F.max_pool2d(c, 2).stride()",
    "F.max_pool2d(c, 2, return_indices=True)[1].stride()",
    "F.avg_pool2d(c, 2).stride()",
    "F.adaptive_avg_pool2d(c, 1).stride()",
    "F.adaptive_avg_pool2d(c, (2, 2)).stride()",
    "F.adaptive_max_pool2d(c, 2).stride()",
    "F.group_norm(c, 1).stride()",
    "F.interpolate(c, scale_factor=2).stride()",
    "F.pad(c, (1, 1, 1, 1)).stride()",
    "F.pad(c, (1, 1, 2, 0), mode='reflect').stride()",
    "F.pad(c, (1, 1, 1, 1), mode='replicate').stride()",
    "F.pad(c, (1, 1, 1, 1), mode='circular').stride()",
    "F.interpolate(c, scale_factor=2, mode='bilinear').stride()",
    "T.flatten(F.adaptive_avg_pool2d(c, 1), 1).stride()",
    "c.is_contiguous()",
    "x.is_contiguous(memory_format=T.channels_last)",
    "c.is_contiguous(memory_format=T.preserve_format)",
    "x.is_contiguous(memory_format=T.preserve_format)",
    "(c + x).stride()",  # operands that disagree: the first one's layout, as PyTorch's iterator
    "(x + c).stride()",
    "(c * x).stride()",
    "T.where(c > 0, c, x).stride()",
    "T.where(x > 0, x, c).stride()",
    "F.dropout(c, 0.5).stride()",
    "c.masked_fill(c > 0, 0).stride()",  # a clone in contiguous format, then filled, as PyTorch's
    "x.permute(0, 2, 1, 3).masked_fill(x.permute(0, 2, 1, 3) > 0, 0).stride()",
]


@pytest.mark.parametrize("expr", SAME)
def test_strides_and_layouts_match_pytorch(torch, expr):
    results = []
    for lib in (gg, torch):
        T, F, x, c, w = _env(lib)
        results.append(eval(expr, {"T": T, "F": F, "x": x, "c": c, "w": w}))
    assert results[0] == results[1], expr


SHAPES = [(2, 3, 4, 5), (4, 1, 4, 4), (4, 3, 1, 1), (4, 1, 1, 1), (1, 3, 1, 5)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("how", ["contiguous", "to_cl", "contiguous_cl", "permuted", "sliced"])
def test_is_contiguous_for_each_format(torch, shape, how):
    answers = []
    for lib in (gg, torch):
        t = lib.zeros(shape)
        if how == "to_cl":
            t = t.to(memory_format=lib.channels_last)
        elif how == "contiguous_cl":
            t = t.contiguous(memory_format=lib.channels_last)
        elif how == "permuted":
            t = t.permute(0, 2, 3, 1)
        elif how == "sliced":
            t = t.to(memory_format=lib.channels_last)[:, :, ::2]
        fmts = (lib.contiguous_format, lib.channels_last, lib.channels_last_3d, lib.preserve_format)
        answers.append(
            (t.stride(), [t.is_contiguous(memory_format=f) for f in fmts], t.contiguous().stride())
        )
    assert answers[0] == answers[1]


ERRORS = [
    ("T.randn(2, 3).to(memory_format=T.channels_last)", RuntimeError),
    ("T.randn(2, 3).contiguous(memory_format=T.channels_last)", RuntimeError),
    ("T.randn(2, 3).clone(memory_format=T.channels_last)", RuntimeError),
    ("x.to(memory_format=T.channels_last_3d)", RuntimeError),
    ("T.randn(1, 2, 3, 4, 5).to(memory_format=T.channels_last)", RuntimeError),
    ("T.empty(2, 3, memory_format=T.channels_last)", RuntimeError),
    ("T.empty(2, 3, 4, 5, memory_format=T.channels_last_3d)", RuntimeError),
    ("T.empty(2, 3, 4, 5, memory_format=T.preserve_format)", RuntimeError),
    ("T.zeros_like(T.randn(2, 3), memory_format=T.channels_last)", RuntimeError),
    ("c.contiguous(memory_format=T.preserve_format)", RuntimeError),
    ("x.to(memory_format='channels_last')", TypeError),
    ("T.zeros(2, 3, 4, 5, memory_format=T.channels_last)", TypeError),
    ("T.ones(2, 3, 4, 5, memory_format=T.channels_last)", TypeError),
    ("T.nn.Conv3d(2, 2, 2).to(memory_format=T.channels_last)", RuntimeError),
    ("T.nn.Conv2d(2, 2, 2).to(memory_format=T.channels_last_3d)", RuntimeError),
    ("T.memory_format()", TypeError),
]


@pytest.mark.parametrize(("expr", "error"), ERRORS)
def test_errors_match_pytorch(torch, expr, error):
    for lib in (gg, torch):
        T, F, x, c, w = _env(lib)
        with pytest.raises(error):
            eval(expr, {"T": T, "F": F, "x": x, "c": c, "w": w})


def test_empty_tensors_report_contiguous_strides():
    # deliberate: NumPy gives an empty array all-zero strides, so an empty tensor reports
    # contiguous ones whatever it was made as (PyTorch keeps the strides it was given)
    t = gg.empty(0, 3, 4, 5, memory_format=gg.channels_last)
    assert t.stride() == (60, 20, 5, 1) and t.is_contiguous()
    assert gg.empty(0, 3, 4, 5).permute(0, 2, 3, 1).stride() == (60, 15, 3, 1)


def test_error_messages_name_op_and_rank():
    with pytest.raises(
        RuntimeError, match=r"to: required rank 4 tensor to use channels_last format, got rank 2"
    ):
        gg.randn(2, 3).to(memory_format=gg.channels_last)
    with pytest.raises(TypeError, match="expected memory_format to be a glassgrad.memory_format"):
        gg.randn(2, 3).contiguous(memory_format="channels_last")


def test_format_objects():
    assert repr(gg.channels_last) == "glassgrad.channels_last" and str(gg.channels_last_3d) == (
        "glassgrad.channels_last_3d"
    )
    assert repr(gg.memory_format) == "<class 'glassgrad.memory_format'>"
    formats = (gg.contiguous_format, gg.channels_last, gg.channels_last_3d, gg.preserve_format)
    assert all(isinstance(f, gg.memory_format) for f in formats) and len(set(formats)) == 4
    assert all(pickle.loads(pickle.dumps(f)) is f and copy.deepcopy(f) is f for f in formats)


def test_module_to_channels_last_matches_pytorch(torch):
    got = []
    for lib in (gg, torch):
        lib.manual_seed(0)
        nn = lib.nn
        m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(64, 2))
        assert m.to(memory_format=lib.channels_last) is m
        strides = [p.stride() for p in m.parameters()] + [b.stride() for b in m.buffers()]
        out = m(lib.tensor(_X))
        out.sum().backward()
        grads = [p.grad.stride() for p in m.parameters()]
        m3 = nn.Conv3d(2, 2, 2).to(memory_format=lib.channels_last_3d)
        back = m.to(lib.float64, memory_format=lib.contiguous_format)[0].weight
        got.append((strides, out.stride(), grads, m3.weight.stride(), back.stride(), str(back.dtype)[-7:]))
    assert got[0] == got[1]


def test_leaf_gradients_keep_the_leaf_layout(torch):
    got = []
    for lib in (gg, torch):
        leaf = lib.tensor(_X).to(memory_format=lib.channels_last).requires_grad_()
        (leaf * 2).sum().backward()
        first = leaf.grad.stride()
        (leaf * 2).sum().backward()  # accumulated: still the leaf's layout
        conv_leaf = lib.tensor(_X).requires_grad_()
        lib.nn.functional.conv2d(
            conv_leaf, lib.tensor(_W).to(memory_format=lib.channels_last)
        ).sum().backward()
        t = lib.randn(3, 4).t().requires_grad_()
        t.sum().backward()
        got.append((first, leaf.grad.stride(), conv_leaf.grad.stride(), t.grad.stride()))
    assert got[0] == got[1]


def _small_cnn():
    gg.manual_seed(0)
    nn = ggnn
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, stride=2, groups=2), nn.GroupNorm(2, 8), nn.SiLU(),
        nn.AvgPool2d(2, ceil_mode=True), nn.ConvTranspose2d(8, 4, 2, stride=2), nn.InstanceNorm2d(4),
        nn.Upsample(scale_factor=2, mode="bilinear"), nn.AdaptiveAvgPool2d(3), nn.Flatten(),
        nn.Linear(36, 5), nn.LogSoftmax(1),
    )  # fmt: skip


def _run(fmt, model_fmt):
    m = _small_cnn().to(memory_format=model_fmt)
    x = gg.tensor(np.random.RandomState(3).randn(4, 3, 16, 16).astype(np.float32))
    x = x.to(memory_format=fmt).requires_grad_()
    out = m(x)
    loss = (out * gg.arange(5.0)).sum() + x.mean((2, 3)).square().sum() + gg.softmax(x, 1).var()
    loss.backward()
    arrays = [out, x.grad] + [p.grad for p in m.parameters()] + list(m.buffers())
    return m, x, [a.detach().numpy().copy() for a in arrays]


@pytest.mark.parametrize(
    ("fmt", "model_fmt"),
    [
        ("channels_last", "channels_last"),
        ("contiguous_format", "channels_last"),
        ("channels_last", "contiguous_format"),
    ],
)
def test_values_and_gradients_identical_to_the_contiguous_path(fmt, model_fmt):
    _, _, base = _run(gg.contiguous_format, gg.contiguous_format)
    m, x, other = _run(getattr(gg, fmt), getattr(gg, model_fmt))
    for a, b in zip(base, other, strict=True):
        np.testing.assert_array_equal(a, b)  # bit for bit: the layout never changes a result
    assert x.grad.stride() == x.stride() and m[0].weight.grad.stride() == m[0].weight.stride()


def test_channels_last_network_matches_pytorch(torch):
    ours = _run(gg.channels_last, gg.channels_last)
    tm = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 8, 3, stride=2, groups=2), torch.nn.GroupNorm(2, 8), torch.nn.SiLU(),
        torch.nn.AvgPool2d(2, ceil_mode=True), torch.nn.ConvTranspose2d(8, 4, 2, stride=2),
        torch.nn.InstanceNorm2d(4), torch.nn.Upsample(scale_factor=2, mode="bilinear"),
        torch.nn.AdaptiveAvgPool2d(3), torch.nn.Flatten(), torch.nn.Linear(36, 5), torch.nn.LogSoftmax(1),
    )  # fmt: skip
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in _small_cnn().state_dict().items()})
    tm = tm.to(memory_format=torch.channels_last)
    x = torch.tensor(np.random.RandomState(3).randn(4, 3, 16, 16).astype(np.float32))
    x = x.to(memory_format=torch.channels_last).requires_grad_()
    out = tm(x)
    loss = (out * torch.arange(5.0)).sum() + x.mean((2, 3)).square().sum() + torch.softmax(x, 1).var()
    loss.backward()
    theirs = [out, x.grad] + [p.grad for p in tm.parameters()] + list(tm.buffers())
    for a, b in zip(ours[2], theirs, strict=True):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=2e-4, atol=2e-5)
    assert ours[1].grad.stride() == x.grad.stride()


def test_meta_is_contiguous_matches_pytorch(torch):
    got = []
    for lib in (gg, torch):
        shapes = [(2, 3, 4, 5), (4, 1, 4, 4), (2, 3, 1, 1), (2, 3)]
        metas = [lib.empty(s, device="meta") for s in shapes]
        fmts = (lib.contiguous_format, lib.channels_last, lib.preserve_format)
        got.append([[m.is_contiguous(memory_format=f) for f in fmts] for m in metas])
    assert got[0] == got[1]


def test_meta_tensors_take_memory_formats():
    t = gg.empty(2, 3, 4, 5, device="meta")
    assert t.to(memory_format=gg.channels_last).is_meta
    assert t.contiguous(memory_format=gg.channels_last).shape == (2, 3, 4, 5)
    assert gg.empty(2, 3, 4, 5, device="meta", memory_format=gg.channels_last).is_meta
    assert gg.empty_like(t, memory_format=gg.channels_last).is_meta
    with pytest.raises(RuntimeError):
        t.to(memory_format=gg.channels_last_3d)


def test_grad_fn_and_recording():
    x = gg.tensor(_X, requires_grad=True)
    c = x.to(memory_format=gg.channels_last)
    assert c.grad_fn.name() == "CloneBackward0" and c.requires_grad  # PyTorch: ToCopyBackward0
    assert x.contiguous(memory_format=gg.channels_last).grad_fn.name() == "CloneBackward0"
    (c * gg.tensor(_X)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), _X)
    assert x.grad.is_contiguous()


def test_empty_strided_checks():
    t = gg.empty_strided((2, 3), (0, 1))  # overlapping: every row is the same memory
    t[0, 1] = 5.0
    assert t[1, 1].item() == 5.0
    with pytest.raises(RuntimeError, match="mismatch in length"):
        gg.empty_strided((2, 3), (1,))
    assert gg.empty_strided((2, 0), (1, 2)).shape == (2, 0)
