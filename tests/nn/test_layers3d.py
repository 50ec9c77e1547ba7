"""The 3-D layers against PyTorch: outputs, input and parameter gradients, state_dict keys and
shapes, reprs, float32 and float64, batched, unbatched and empty batches, and error messages."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError

RNG = np.random.default_rng(0)
TOL = {np.float32: 2e-4, np.float64: 1e-10}


def randn(*shape: int, dtype=np.float64) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def parity(torch, ours, theirs, x: np.ndarray, dtype=np.float64, **call):
    """Copy torch's (randomised) weights into ours, run both on ``x``, compare the outputs and the
    gradients of the input and every parameter; check the state_dict keys and shapes both ways."""
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_()
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [tuple(v.shape) for v in sd.values()]
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in sd.items()})
    theirs.load_state_dict({k: torch.from_numpy(v._data.copy()) for k, v in ours.state_dict().items()})
    x = x.astype(dtype)
    g, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(g, **call), theirs(t, **call)
    if isinstance(out, tuple):
        np.testing.assert_array_equal(out[1]._data, tout[1].numpy())
        out, tout = out[0], tout[0]
    atol = TOL[dtype]
    assert out.shape == tuple(tout.shape) and out.dtype == gg.tensor(x).dtype
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=atol, rtol=atol)
    up = randn(*out.shape, dtype=dtype)
    out.backward(gg.tensor(up))
    tout.backward(torch.from_numpy(up))
    np.testing.assert_allclose(g.grad._data, t.grad.numpy(), atol=atol, rtol=atol)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad._data, tparams[name].grad.numpy(), atol=atol, rtol=atol, err_msg=name
        )
    for name, b in theirs.named_buffers():
        np.testing.assert_allclose(ours.get_buffer(name)._data, b.numpy(), atol=atol, rtol=atol, err_msg=name)
    return out


def _conv_kwargs(rng: np.random.Generator, transposed: bool) -> dict:
    groups = int(rng.choice([1, 2]))
    kw = dict(
        in_channels=groups * int(rng.integers(1, 3)),
        out_channels=groups * int(rng.integers(1, 3)),
        kernel_size=tuple(int(k) for k in rng.integers(1, 4, 3)),
        stride=tuple(int(s) for s in rng.integers(1, 3, 3)),
        dilation=tuple(int(d) for d in rng.integers(1, 3, 3)),
        groups=groups,
        bias=bool(rng.integers(0, 2)),
    )
    if transposed:
        kw["padding"] = tuple(int(p) for p in rng.integers(0, 2, 3))
        kw["output_padding"] = tuple(
            int(rng.integers(0, max(s, d))) for s, d in zip(kw["stride"], kw["dilation"])
        )
    else:
        kw["padding"] = rng.choice(["int", "same", "valid"])
        kw["padding_mode"] = str(rng.choice(["zeros", "reflect", "replicate", "circular"]))
        if kw["padding"] == "same":
            kw["stride"] = 1
        elif kw["padding"] == "int":
            kw["padding"] = tuple(int(p) for p in rng.integers(0, 2, 3))
        else:
            kw["padding"] = str(kw["padding"])
    return kw


@pytest.mark.parametrize("seed", range(12))
def test_conv3d_sweep_matches_pytorch(torch, seed):
    rng = np.random.default_rng(seed)
    kw = _conv_kwargs(rng, transposed=False)
    dtype = np.float32 if seed % 2 else np.float64
    x = randn(int(rng.integers(1, 3)), kw["in_channels"], 5, 6, 5)
    parity(torch, nn.Conv3d(**kw), torch.nn.Conv3d(**kw), x, dtype)
    assert repr(nn.Conv3d(**kw)) == repr(torch.nn.Conv3d(**kw))


@pytest.mark.parametrize("seed", range(10))
def test_conv_transpose3d_sweep_matches_pytorch(torch, seed):
    rng = np.random.default_rng(100 + seed)
    kw = _conv_kwargs(rng, transposed=True)
    dtype = np.float32 if seed % 2 else np.float64
    x = randn(int(rng.integers(1, 3)), kw["in_channels"], 3, 4, 3)
    parity(torch, nn.ConvTranspose3d(**kw), torch.nn.ConvTranspose3d(**kw), x, dtype)
    assert repr(nn.ConvTranspose3d(**kw)) == repr(torch.nn.ConvTranspose3d(**kw))


def test_conv_transpose3d_output_size_and_unbatched(torch):
    kw = dict(in_channels=2, out_channels=3, kernel_size=3, stride=2, padding=1)
    size = (6, 7, 8)
    out = parity(
        torch,
        nn.ConvTranspose3d(**kw),
        torch.nn.ConvTranspose3d(**kw),
        randn(1, 2, 3, 4, 4),
        output_size=size,
    )
    assert out.shape[2:] == size
    parity(torch, nn.ConvTranspose3d(**kw), torch.nn.ConvTranspose3d(**kw), randn(2, 3, 4, 4))  # (C, D, H, W)


def test_conv3d_unbatched_and_empty_batch(torch):
    kw = dict(in_channels=2, out_channels=4, kernel_size=(2, 3, 1), padding=1)
    parity(torch, nn.Conv3d(**kw), torch.nn.Conv3d(**kw), randn(2, 4, 5, 3))
    parity(torch, nn.Conv3d(**kw), torch.nn.Conv3d(**kw), randn(0, 2, 4, 5, 3))
    parity(torch, nn.ConvTranspose3d(2, 3, 2), torch.nn.ConvTranspose3d(2, 3, 2), randn(0, 2, 3, 3, 3))


POOLS = [
    ("MaxPool3d", dict(kernel_size=2)),
    (
        "MaxPool3d",
        dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=1, dilation=(1, 2, 1), ceil_mode=True),
    ),
    ("MaxPool3d", dict(kernel_size=3, stride=2, padding=1, return_indices=True)),
    ("MaxPool3d", dict(kernel_size=(2, 3, 2), stride=1, ceil_mode=True, return_indices=True)),
    ("AvgPool3d", dict(kernel_size=2)),
    (
        "AvgPool3d",
        dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=1, ceil_mode=True, count_include_pad=False),
    ),
    ("AvgPool3d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("AvgPool3d", dict(kernel_size=(2, 3, 3), stride=1, padding=(1, 0, 1), divisor_override=5)),
    ("AdaptiveAvgPool3d", dict(output_size=(2, 3, 4))),
    ("AdaptiveAvgPool3d", dict(output_size=(None, 1, 3))),
    ("AdaptiveMaxPool3d", dict(output_size=(3, 4, 2), return_indices=True)),
    ("AdaptiveMaxPool3d", dict(output_size=2)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "kw"), POOLS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(POOLS)])
def test_pool3d_matches_pytorch(torch, name, kw, dtype):
    ours, theirs = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(ours) == repr(theirs)
    x = randn(2, 3, 5, 6, 7)
    x.reshape(-1)[::7] = x.reshape(-1)[3]  # ties: the first maximum takes the gradient, as PyTorch
    parity(torch, ours, theirs, x, dtype)
    parity(torch, ours, theirs, x[0], dtype)  # unbatched (C, D, H, W)


def test_pool3d_empty_batch(torch):
    for name, kw in POOLS:
        if "Adaptive" not in name:
            parity(torch, getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw), randn(0, 2, 5, 6, 7))


def test_max_pool3d_indices_feed_max_unpool_order(torch):
    x = randn(1, 2, 4, 4, 4)
    out, idx = F.max_pool3d(gg.tensor(x), 2, return_indices=True)
    _, tidx = torch.nn.functional.max_pool3d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(idx._data, tidx.numpy())
    assert idx.dtype == gg.int64
    flat = x.reshape(1, 2, -1)
    np.testing.assert_array_equal(
        np.take_along_axis(flat, idx._data.reshape(1, 2, -1), 2).reshape(out.shape), out._data
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm3d_matches_pytorch(torch, dtype, momentum):
    ours, theirs = nn.BatchNorm3d(3, momentum=momentum), torch.nn.BatchNorm3d(3, momentum=momentum)
    assert repr(ours) == repr(theirs)
    for _ in range(2):
        parity(torch, ours, theirs, randn(2, 3, 2, 3, 4), dtype)
    ours.eval(), theirs.eval()
    parity(torch, ours, theirs, randn(2, 3, 2, 3, 4), dtype)
    with pytest.raises(ShapeError, match="BatchNorm3d"):
        ours(gg.zeros(2, 3, 4, 4))


PADS = [
    ("ReflectionPad3d", (1,)),
    ("ReflectionPad3d", ((1, 0, 2, 1, 0, 2),)),
    ("ReplicationPad3d", ((2, 1, 0, 3, 1, 1),)),
    ("CircularPad3d", ((1, 2, 0, 1, 2, 0),)),
    ("ConstantPad3d", ((1, 2, -1, 1, 0, 2), 2.5)),
    ("ConstantPad3d", (1, -1.0)),
    ("ZeroPad3d", ((1, 0, 2, 0, 0, 1),)),
    ("ZeroPad3d", (2,)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "args"), PADS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(PADS)])
def test_pad3d_matches_pytorch(torch, name, args, dtype):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    parity(torch, ours, theirs, randn(2, 2, 3, 4, 5), dtype)
    parity(torch, ours, theirs, randn(2, 3, 4, 5), dtype)


def test_functional_matches_pytorch_float32(torch):
    x, w, b = (
        randn(2, 4, 5, 6, 7, dtype=np.float32),
        randn(6, 2, 3, 2, 3, dtype=np.float32),
        randn(6, dtype=np.float32),
    )
    kw = dict(stride=(1, 2, 1), padding=(1, 0, 2), dilation=(2, 1, 1), groups=2)
    ours = F.conv3d(gg.tensor(x), gg.tensor(w), gg.tensor(b), **kw)
    theirs = torch.nn.functional.conv3d(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kw)
    assert ours.dtype == gg.float32
    np.testing.assert_allclose(ours._data, theirs.numpy(), atol=2e-4, rtol=2e-4)
    same = F.conv3d(gg.tensor(x), gg.tensor(w[:, :, :2]), None, padding="same", dilation=(1, 2, 3), groups=2)
    assert same.shape == (2, 6, 5, 6, 7)


def test_errors():
    with pytest.raises(ShapeError, match=r"conv3d: expected a 4-D \(unbatched\) or 5-D \(batched\) input"):
        F.conv3d(gg.zeros(1, 2, 3), gg.zeros(1, 2, 1, 1, 1))
    with pytest.raises(ShapeError, match="conv3d: expected a 5-D weight"):
        F.conv3d(gg.zeros(1, 2, 3, 3, 3), gg.zeros(1, 2, 1, 1))
    with pytest.raises(ShapeError, match="padding='same' expected stride 1"):
        F.conv3d(gg.zeros(1, 2, 3, 3, 3), gg.zeros(1, 2, 1, 1, 1), stride=2, padding="same")
    with pytest.raises(ShapeError, match="at least as large as the"):
        F.conv3d(gg.zeros(1, 2, 3, 3, 3), gg.zeros(1, 2, 4, 1, 1))
    with pytest.raises(ShapeError, match="conv_transpose3d: expected output_padding smaller"):
        F.conv_transpose3d(gg.zeros(1, 2, 3, 3, 3), gg.zeros(2, 1, 2, 2, 2), output_padding=1)
    with pytest.raises(ShapeError, match="max_pool3d: expected padding at most half"):
        F.max_pool3d(gg.zeros(1, 1, 4, 4, 4), 2, padding=2)
    with pytest.raises(ShapeError, match="avg_pool3d: expected kernel_size as an int or a tuple of 3 ints"):
        F.avg_pool3d(gg.zeros(1, 1, 4, 4, 4), (2, 2))
    with pytest.raises(ShapeError, match="adaptive_avg_pool3d: expected output_size"):
        F.adaptive_avg_pool3d(gg.zeros(1, 1, 4, 4, 4), (2, 2))
    with pytest.raises(ShapeError, match="Conv3d: expected input"):
        nn.Conv3d(2, 3, 1)(gg.zeros(1, 3, 2, 2, 2))
    with pytest.raises(ValueError, match="ConvTranspose3d: only padding_mode 'zeros'"):
        nn.ConvTranspose3d(2, 3, 1, padding_mode="reflect")
    with pytest.raises(ShapeError, match="expected input with 4 or 5 dims"):
        nn.ReflectionPad3d(1)(gg.zeros(2, 3, 4))
    with pytest.raises(ShapeError, match="reflect padding"):
        nn.ReflectionPad3d(3)(gg.zeros(1, 1, 3, 3, 3))


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("nd", [2, 3])
def test_conv_gradients_with_a_frozen_weight_or_a_constant_input(torch, nd, transposed):
    # ctx.shapes holds None for an input that needs no gradient: the VJPs must not read it
    name = f"conv{'_transpose' if transposed else ''}{nd}d"
    x, w = randn(2, 2, *(4,) * nd), randn(*((2, 3) if transposed else (3, 2)), *(2,) * nd)
    for x_grad, w_grad in ((True, False), (False, True)):
        g = [gg.tensor(x, requires_grad=x_grad), gg.tensor(w, requires_grad=w_grad)]
        t = [torch.tensor(x, requires_grad=x_grad), torch.tensor(w, requires_grad=w_grad)]
        getattr(F, name)(*g).sum().backward()
        getattr(torch.nn.functional, name)(*t).sum().backward()
        for a, b in zip(g, t):
            if b.requires_grad:
                np.testing.assert_allclose(a.grad._data, b.grad.numpy(), atol=1e-10)
