"""The convolutions taken on the input's own layout (``ops/conv_direct.py``: pointwise kernels and
1-D convolutions with output rows of at least 64 positions) and batch norm's dot-product sums
(``ops/normalization.py``, rows of 64 to 8,192 positions): parity with PyTorch, layouts bit for
bit, second order through the recorded rules, and batch norm's accuracy against float64."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd import gradgradcheck
from glassgrad.ops.conv_direct import direct_layout

_R = np.random.default_rng(7)

# (op, x shape, weight shape, kwargs, the path conv_direct takes)
CONVS = [
    ("conv1d", (3, 6, 100), (8, 6, 1), {}, "pointwise"),
    ("conv1d", (2, 6, 120), (9, 2, 1), {"groups": 3}, "pointwise"),
    ("conv1d", (2, 4, 150), (5, 4, 3), {"padding": 1}, "rows"),
    ("conv1d", (2, 4, 300), (6, 2, 5), {"stride": 2, "padding": 2, "groups": 2}, "rows"),
    ("conv1d", (2, 3, 200), (4, 3, 3), {"dilation": 3}, "rows"),
    ("conv1d", (2, 3, 160), (4, 3, 4), {"padding": "same"}, "rows"),
    ("conv1d", (2, 3, 200), (4, 3, 1), {"stride": 2}, "rows"),
    ("conv2d", (2, 5, 8, 10), (7, 5, 1, 1), {}, "pointwise"),
    ("conv3d", (2, 3, 4, 4, 5), (4, 3, 1, 1, 1), {}, "pointwise"),
    ("conv2d", (2, 5, 6, 6), (7, 5, 1, 1), {}, None),  # 36 positions: im2col's one product
    ("conv2d", (2, 3, 9, 9), (4, 3, 3, 3), {}, None),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("op, xs, ws, kw, path", CONVS)
def test_direct_conv_matches_torch(torch, op, xs, ws, kw, path):
    x, w, b = _R.standard_normal(xs), _R.standard_normal(ws), _R.standard_normal(ws[0])
    x, w, b = (a.astype(np.float32) for a in (x, w, b))
    results = []
    for lib in (gg, torch):
        ts = [lib.tensor(a.copy(), requires_grad=True) for a in (x, w, b)]
        y = getattr(lib.nn.functional, op)(*ts, **kw)
        y.backward(lib.tensor(np.cos(np.arange(y.numel(), dtype=np.float32)).reshape(tuple(y.shape))))
        results.append([np.asarray(t.detach().numpy()) for t in (y, *(t.grad for t in ts))])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=2e-5)
    nd = len(ws) - 2
    if op == "conv1d":  # F.conv1d runs the 2-D op on a height of 1
        xs, ws = (xs[0], xs[1], 1, xs[2]), (*ws[:2], 1, ws[2])
        kw = {**kw, "padding": 0 if kw.get("padding") == "same" else kw.get("padding", 0)}
        nd = 2
    pads = kw.get("padding", 0)
    pads = ((0, 0),) * (nd - 1) + ((pads, pads),) if op == "conv1d" else ((0, 0),) * nd
    ones = (1,) * (nd - 1)
    stride, dilation = (*ones, kw.get("stride", 1)), (*ones, kw.get("dilation", 1))
    assert direct_layout(np.empty(xs), ws[2:], stride, pads, dilation) == path


def test_direct_conv_layout_never_changes_a_value():
    """A channels-last input, and a transposed view into conv1d, give the contiguous input's
    values bit for bit (PointNet feeds conv1d a transposed bmm product)."""
    conv, x = gg.nn.Conv2d(8, 16, 1), gg.randn(3, 8, 16, 16)
    results = []
    for xi in (x.clone(), x.contiguous(memory_format=gg.channels_last)):
        xi.requires_grad_(True)
        conv.zero_grad()
        y = conv(xi)
        (y * y).sum().backward()
        results.append([y.detach().numpy(), xi.grad.numpy(), conv.weight.grad.numpy()])
    conv1, base = gg.nn.Conv1d(16, 32, 1), gg.randn(2, 300, 16)
    for xi in (base.transpose(1, 2).contiguous(), base.transpose(1, 2)):
        conv1.zero_grad()
        y = conv1(xi)
        (y * y).sum().backward()
        results.append([y.detach().numpy(), conv1.weight.grad.numpy()])
    for a, b in zip(results[0], results[1]):
        assert np.array_equal(a, b)
    for a, b in zip(results[2], results[3]):
        assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda x, w, b: F.conv1d(x, w, b, padding=1), [(1, 2, 64), (2, 2, 3), (2,)]),
        (lambda x, w, b: F.conv1d(x, w, b, stride=2, groups=2), [(1, 2, 140), (2, 1, 3), (2,)]),
        (lambda x, w, b: F.conv2d(x, w, b), [(1, 2, 8, 8), (3, 2, 1, 1), (3,)]),
    ],
)
def test_direct_conv_second_order(fn, shapes):
    """The recorded rule reads the saved input (``attrs["recompute"]``) as for im2col's large columns."""
    inputs = [gg.tensor(_R.standard_normal(s), requires_grad=True) for s in shapes]
    assert gradgradcheck(fn, inputs)


def test_batch_norm_dot_sums_second_order():
    x = gg.tensor(_R.standard_normal((2, 3, 70)) * 2 + 5, requires_grad=True)
    w, b = (
        gg.tensor(_R.uniform(0.5, 1.5, 3), requires_grad=True),
        gg.tensor(_R.standard_normal(3), requires_grad=True),
    )
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b])


@pytest.mark.parametrize(
    "shape, loc, scale",
    [((8, 16, 2500), 0.0, 1.0), ((8, 16, 2500), 1e3, 0.1), ((4, 8, 9000), 10.0, 1.0), ((4000, 16), 1e4, 1.0)],
)
def test_batch_norm_accuracy_against_float64(shape, loc, scale):
    """Output and gradients within 1e-6 of float64 relative to their largest entry (PyTorch's CPU
    kernels: 2e-1 on the last case's weight gradient); the shift of the rounded mean is taken off."""
    x = (_R.standard_normal(shape) * scale + loc).astype(np.float32)
    c = shape[1]
    w, b = _R.uniform(0.5, 1.5, c).astype(np.float32), _R.standard_normal(c).astype(np.float32)
    g = (_R.standard_normal(shape) + 0.3).astype(np.float32)
    ts = [gg.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = F.batch_norm(ts[0], None, None, ts[1], ts[2], training=True)
    y.backward(gg.tensor(g))
    axes = (0, *range(2, len(shape)))
    sh = (1, c) + (1,) * (len(shape) - 2)
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    xc = x64 - x64.mean(axes, keepdims=True)
    rstd = 1 / np.sqrt((xc * xc).mean(axes, keepdims=True) + 1e-5)
    xh = xc * rstd
    gx = g64 * w.reshape(sh)
    dx = (gx - gx.mean(axes, keepdims=True) - xh * (gx * xh).mean(axes, keepdims=True)) * rstd
    want = [xh * w.reshape(sh) + b.reshape(sh), dx, (g64 * xh).sum(axes), g64.sum(axes)]
    for got, ref in zip((y.detach(), ts[0].grad, ts[1].grad, ts[2].grad), want):
        assert np.abs(got.numpy() - ref).max() <= 1e-6 * np.abs(ref).max()
