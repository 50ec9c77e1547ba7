"""Double backward (``create_graph=True``) of the conv, pooling and resampling ops:
``autograd/recorded_rules_conv.py``.

Every case runs ``gradgradcheck`` (float64, small random shapes, each attr variant), PyTorch's
second-order gradients, and the create_graph first-order gradients against the plain backward's;
then a WGAN-GP-style gradient penalty through small conv critics against PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradgradcheck
from glassgrad.ops import conv as conv_ops

_R = np.random.default_rng(4321)


def _n(*shape):
    return _R.standard_normal(shape)


def _conv(**kw):
    return lambda m, x, w, *b: m.nn.functional.conv2d(x, w, *b, **kw)


def _convt(**kw):
    return lambda m, x, w, *b: m.nn.functional.conv_transpose2d(x, w, *b, **kw)


def _f(name, **kw):
    return lambda m, x: getattr(m.nn.functional, name)(x, **kw)


# name -> (fn(lib, *xs), input arrays); fn is written once for glassgrad and torch (same names)
CASES = {
    "conv2d": (_conv(), [_n(2, 2, 4, 4), _n(3, 2, 3, 2), _n(3)]),
    "conv2d_nobias": (_conv(), [_n(1, 2, 4, 4), _n(3, 2, 2, 2)]),
    "conv2d_stride": (_conv(stride=2), [_n(1, 2, 6, 5), _n(2, 2, 3, 3), _n(2)]),
    "conv2d_stride_rest": (_conv(stride=(3, 2)), [_n(1, 2, 8, 6), _n(2, 2, 2, 3)]),
    "conv2d_padding": (_conv(padding=(1, 2)), [_n(2, 2, 4, 3), _n(3, 2, 3, 3), _n(3)]),
    "conv2d_same_even": (_conv(padding="same"), [_n(1, 2, 5, 4), _n(3, 2, 2, 4), _n(3)]),
    "conv2d_same_dilated": (_conv(padding="same", dilation=(2, 1)), [_n(1, 2, 6, 4), _n(2, 2, 2, 3)]),
    "conv2d_dilation": (_conv(dilation=2, padding=1, stride=2), [_n(1, 2, 7, 6), _n(2, 2, 3, 2), _n(2)]),
    "conv2d_groups": (_conv(groups=2, stride=(2, 1), padding=1), [_n(1, 4, 4, 4), _n(4, 2, 3, 2), _n(4)]),
    "conv2d_depthwise": (_conv(groups=3), [_n(1, 3, 4, 4), _n(6, 1, 2, 2)]),
    "conv1d": (
        lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, stride=2, padding=1),
        [_n(2, 2, 7), _n(3, 2, 3), _n(3)],
    ),
    "conv_transpose2d": (_convt(), [_n(2, 3, 3, 4), _n(3, 2, 3, 2), _n(2)]),
    "conv_transpose2d_stride": (_convt(stride=2, padding=1), [_n(1, 2, 3, 3), _n(2, 3, 3, 3), _n(3)]),
    "conv_transpose2d_outpad": (
        _convt(stride=(2, 3), padding=(1, 0), output_padding=(1, 2)),
        [_n(2, 2, 3, 2), _n(2, 2, 3, 2)],
    ),
    "conv_transpose2d_outpad_dil": (
        _convt(dilation=3, output_padding=2, padding=(0, 2)),
        [_n(1, 2, 3, 3), _n(2, 1, 2, 3), _n(1)],
    ),
    "conv_transpose2d_groups": (
        _convt(groups=2, stride=2, dilation=(1, 2)),
        [_n(1, 4, 3, 2), _n(4, 1, 2, 2), _n(2)],
    ),
    "conv_transpose1d": (
        lambda m, x, w: m.nn.functional.conv_transpose1d(x, w, stride=2, output_padding=1),
        [_n(2, 2, 4), _n(2, 3, 3)],
    ),
    "max_pool2d": (_f("max_pool2d", kernel_size=2), [_n(2, 2, 4, 5)]),
    "max_pool2d_overlap": (_f("max_pool2d", kernel_size=3, stride=1, padding=1), [_n(1, 2, 4, 4)]),
    "max_pool2d_dil_ceil": (
        _f("max_pool2d", kernel_size=(2, 3), stride=2, dilation=(2, 1), ceil_mode=True),
        [_n(2, 1, 7, 6)],
    ),
    "max_pool1d": (_f("max_pool1d", kernel_size=3, stride=2, padding=1), [_n(2, 3, 7)]),
    "avg_pool2d": (_f("avg_pool2d", kernel_size=2), [_n(2, 2, 4, 5)]),
    "avg_pool2d_pad": (_f("avg_pool2d", kernel_size=3, stride=2, padding=1), [_n(1, 2, 5, 6)]),
    "avg_pool2d_exclude_ceil": (
        _f("avg_pool2d", kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        [_n(2, 1, 6, 5)],
    ),
    "avg_pool2d_divisor": (
        _f("avg_pool2d", kernel_size=(2, 3), stride=1, divisor_override=4),
        [_n(1, 2, 4, 4)],
    ),
    "adaptive_max_pool2d": (_f("adaptive_max_pool2d", output_size=(3, 2)), [_n(2, 2, 7, 5)]),
    "adaptive_max_pool2d_1": (_f("adaptive_max_pool2d", output_size=1), [_n(2, 3, 3, 4)]),
    "unfold": (_f("unfold", kernel_size=(2, 3), stride=(1, 2), padding=1, dilation=(2, 1)), [_n(2, 2, 5, 6)]),
    "fold": (_f("fold", output_size=(4, 5), kernel_size=2, stride=(2, 1), padding=(1, 0)), [_n(2, 8, 12)]),
    "nearest": (_f("interpolate", scale_factor=2, mode="nearest"), [_n(1, 2, 3, 2)]),
    "nearest_down": (_f("interpolate", size=(2, 3), mode="nearest"), [_n(2, 1, 5, 4)]),
    "nearest_exact": (_f("interpolate", size=(5, 3), mode="nearest-exact"), [_n(1, 2, 3, 4)]),
    "bilinear": (_f("interpolate", size=(5, 3), mode="bilinear"), [_n(1, 2, 3, 4)]),
    "bilinear_corners": (
        _f("interpolate", scale_factor=1.5, mode="bilinear", align_corners=True),
        [_n(2, 1, 4, 3)],
    ),
    "linear": (_f("interpolate", size=7, mode="linear"), [_n(2, 2, 4)]),
    "trilinear": (_f("interpolate", size=(3, 2, 4), mode="trilinear"), [_n(1, 1, 2, 3, 3)]),
    "conv3d": (
        lambda m, x, w, b: m.nn.functional.conv3d(x, w, b, stride=(1, 2, 1), padding=1),
        [_n(1, 2, 2, 3, 3), _n(2, 2, 2, 2, 2), _n(2)],
    ),
    "conv3d_groups_dil": (
        lambda m, x, w: m.nn.functional.conv3d(x, w, groups=2, dilation=(1, 2, 1)),
        [_n(1, 2, 3, 4, 3), _n(2, 1, 2, 2, 2)],
    ),
    "conv3d_same": (
        lambda m, x, w: m.nn.functional.conv3d(x, w, padding="same"),
        [_n(1, 1, 3, 3, 4), _n(2, 1, 2, 1, 2)],
    ),
    "conv_transpose3d": (
        lambda m, x, w, b: m.nn.functional.conv_transpose3d(
            x, w, b, stride=2, padding=(1, 0, 0), output_padding=(1, 0, 1)
        ),
        [_n(1, 2, 2, 2, 2), _n(2, 2, 2, 2, 3), _n(2)],
    ),
    "conv_transpose3d_groups": (
        lambda m, x, w: m.nn.functional.conv_transpose3d(x, w, groups=2),
        [_n(2, 2, 2, 3, 2), _n(2, 1, 2, 1, 2)],
    ),
    "max_pool3d": (_f("max_pool3d", kernel_size=2, stride=(1, 2, 2), padding=(1, 0, 1)), [_n(1, 2, 3, 4, 4)]),
    "max_pool3d_ceil": (
        _f("max_pool3d", kernel_size=(2, 2, 3), stride=2, ceil_mode=True),
        [_n(2, 1, 3, 3, 5)],
    ),
    "avg_pool3d": (_f("avg_pool3d", kernel_size=2, stride=1, padding=1), [_n(1, 2, 2, 3, 3)]),
    "avg_pool3d_ceil": (
        _f(
            "avg_pool3d",
            kernel_size=(2, 3, 2),
            stride=2,
            padding=(0, 1, 1),
            ceil_mode=True,
            count_include_pad=False,
        ),
        [_n(1, 1, 3, 4, 5)],
    ),
    "adaptive_max_pool3d": (_f("adaptive_max_pool3d", output_size=(2, 1, 3)), [_n(1, 2, 3, 3, 4)]),
}


def _gg(arrays, requires_grad=True):
    return [gg.tensor(a, dtype=gg.float64, requires_grad=requires_grad) for a in arrays]


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradgradcheck(name):
    fn, arrays = CASES[name]
    assert gradgradcheck(lambda *xs: fn(gg, *xs), _gg(arrays))


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_order_matches_torch(name, torch):
    fn, arrays = CASES[name]
    out_shape = fn(gg, *_gg(arrays, False)).shape
    v, w = _n(*out_shape), [_n(*a.shape) for a in arrays]

    def run(m, leaf):
        xs = [leaf(a) for a in arrays]
        vt = leaf(v)
        out = fn(m, *xs)
        gs = m.autograd.grad(out, xs, vt, create_graph=True)
        total = sum((g * leaf(wi).detach()).sum() for g, wi in zip(gs, w))
        second = m.autograd.grad(total, [*xs, vt], allow_unused=True)  # a linear op's x is unused
        return [g.detach() for g in gs], [
            np.zeros(a.shape) if s is None else s.numpy() for s, a in zip(second, [*arrays, v])
        ]

    first, second = run(gg, lambda a: gg.tensor(a, dtype=gg.float64, requires_grad=True))
    tfirst, tsecond = run(torch, lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True))
    for a, b in zip(first, tfirst):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(second, tsecond):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_create_graph_first_order_equals_plain(name):
    fn, arrays = CASES[name]
    xs = _gg(arrays)
    v = gg.tensor(_n(*fn(gg, *xs).shape), dtype=gg.float64)
    plain = gg.autograd.grad(fn(gg, *xs), xs, v)
    recorded = gg.autograd.grad(fn(gg, *xs), xs, v, create_graph=True)
    for a, b in zip(plain, recorded):
        np.testing.assert_allclose(b.detach().numpy(), a.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", ["recompute", "x_frozen", "w_frozen", "x_frozen_recompute"])
def test_conv_saved_variants(kind, monkeypatch):
    """The rule gets x back however forward kept it: its columns, the input itself (large columns),
    or nothing at all when the weight is frozen."""
    if "recompute" in kind:
        monkeypatch.setattr(conv_ops, "COLS_KEPT_MAX", 0)
    x = gg.tensor(
        _n(2, 4, 6, 5), dtype=gg.float64, requires_grad=kind not in ("x_frozen", "x_frozen_recompute")
    )
    w = gg.tensor(_n(4, 2, 3, 2), dtype=gg.float64, requires_grad=kind != "w_frozen")

    def fn(x, w):
        return gg.tanh(
            gg.nn.functional.conv2d(x, w, stride=(2, 1), padding=((1, 2)), dilation=(1, 2), groups=2)
        )

    assert gradgradcheck(fn, (x, w))


def _critic(m, x, w1, w2, op):
    f = m.nn.functional
    if op == "conv2d":
        h = m.tanh(f.conv2d(x, w1, stride=2, padding=1))
    elif op == "conv_transpose2d":
        h = m.tanh(f.conv_transpose2d(x, w1, stride=2, padding=1, output_padding=1))
    else:
        h = f.max_pool2d(m.tanh(f.conv2d(x, w1, padding="same")), 2)
    h = f.conv2d(h, w2)
    return (h * h).sum()


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d", "max_pool2d"])
def test_gradient_penalty_matches_torch(op, torch):
    """WGAN-GP: penalty = (|d critic / d x| - 1)^2, differentiated w.r.t. the critic's weights."""
    w1_shape = (3, 2, 3, 3) if op != "conv_transpose2d" else (2, 3, 3, 3)
    arrays = [_n(2, 2, 6, 6), _n(*w1_shape), _n(2, 3, 2, 2)]

    def run(m, leaf):
        x, w1, w2 = (leaf(a) for a in arrays)
        (gx,) = m.autograd.grad(_critic(m, x, w1, w2, op), [x], create_graph=True)
        norm = (gx * gx).sum(dim=(1, 2, 3)).sqrt()
        penalty = ((norm - 1) * (norm - 1)).mean()
        return m.autograd.grad(penalty, [w1, w2, x])

    ours = run(gg, lambda a: gg.tensor(a, dtype=gg.float64, requires_grad=True))
    theirs = run(torch, lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_third_order_matches_torch(torch):
    """The rules' own graphs differentiate again: conv's rule is built from conv ops."""
    arrays = [_n(1, 2, 5, 4), _n(2, 2, 3, 2)]

    def run(m, leaf):
        x, w = (leaf(a) for a in arrays)
        out = m.tanh(m.nn.functional.conv2d(x, w, stride=(2, 1), padding=1)).sum()
        (gx,) = m.autograd.grad(out, [x], create_graph=True)
        (gw,) = m.autograd.grad((gx * gx).sum(), [w], create_graph=True)
        return m.autograd.grad((gw * gw).sum(), [x, w])

    ours = run(gg, lambda a: gg.tensor(a, dtype=gg.float64, requires_grad=True))
    theirs = run(torch, lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
