"""Round 64, speed hunt: the paths made faster, pinned against PyTorch.

Depthwise 2-D convolutions (``groups == in_channels == out_channels``) now add the filter's taps
over strided views of a padded canvas (ops/conv_depthwise.py) instead of building columns: values
and all gradients at float64 rounding for strides, dilations, ``padding='same'``, asymmetric
kernels, batches split into several cache-sized pieces, subsets of inputs needing gradients, an
empty batch, non-finite inputs (the wide views' dropped columns must not leak NaN into dW), the
1-D form and the double backward. The float64 special functions (erfc, lgamma, digamma, erfinv,
i0) now run in cache-sized pieces for large arrays (ops/unary_more.py): values and gradients of
arrays larger than a piece, against PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(64)


def _conv_both(torch, shape, kernel, needs=(True, True, True), bias=True, dtype="float64", x=None, **kw):
    """F.conv2d with groups = channels in both libraries; [(out, dx, dW, db)] per library
    (None for a leaf that needs no gradient), the gradients of a fixed random projection."""
    c = shape[1]
    xs = RNG.standard_normal(shape) if x is None else x
    ws, bs = RNG.standard_normal((c, 1, *kernel)), RNG.standard_normal(c)
    outs = []
    for lib in (torch, gg):
        dt = getattr(lib, dtype)
        leaves = [lib.tensor(a, dtype=dt, requires_grad=r) for a, r in zip((xs, ws, bs), needs)]
        y = lib.nn.functional.conv2d(leaves[0], leaves[1], leaves[2] if bias else None, groups=c, **kw)
        proj = np.random.default_rng(7).standard_normal(tuple(y.shape))
        (y * lib.tensor(proj, dtype=dt)).sum().backward()
        outs.append([y.detach().numpy()] + [t.grad.numpy() if t.grad is not None else None for t in leaves])
    return outs


def _assert_close(outs, rtol=1e-12, atol=1e-12):
    for a, b in zip(*outs):
        if a is None or b is None:
            assert a is None and b is None
            continue
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    "shape, kernel, kw",
    [
        ((2, 4, 7, 9), (3, 3), dict(padding=1)),
        ((3, 6, 10, 8), (3, 5), dict(stride=2, padding=(1, 2))),
        ((2, 3, 9, 11), (2, 3), dict(stride=(2, 1), dilation=2)),
        ((2, 5, 8, 8), (3, 3), dict(padding="same", dilation=2)),
        ((2, 3, 6, 7), (4, 4), dict(padding="same")),  # even kernel: padding on one side only
        ((40, 8, 12, 12), (3, 3), dict(padding=1)),  # several pieces of the batch, the last shorter
        ((33, 8, 9, 9), (5, 5), dict(stride=3, padding=2)),
        ((1, 2, 5, 5), (5, 5), {}),  # one output pixel
    ],
    ids=["3x3", "stride2", "stride21-dil2", "same-dil2", "same-even", "pieces", "5x5-stride3", "1px"],
)
def test_depthwise_conv2d_matches_torch(torch, shape, kernel, kw):
    _assert_close(_conv_both(torch, shape, kernel, **kw))


@pytest.mark.parametrize(
    "needs", [(True, False, False), (False, True, False), (False, False, True), (True, True, False)]
)
def test_depthwise_conv2d_gradient_subsets_match_torch(torch, needs):
    _assert_close(_conv_both(torch, (3, 4, 8, 8), (3, 3), needs=needs, padding=1, stride=(1, 2)))


def test_depthwise_conv2d_float32_matches_torch(torch):
    """float32: dW sums 4,096 products, so it is compared at its sum's scale."""
    for a, b in zip(*_conv_both(torch, (16, 8, 16, 16), (3, 3), dtype="float32", padding=1)):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=2e-6 * np.abs(a).max())


def test_depthwise_conv2d_float16_rounds_as_torch(torch):
    """float16: the output and dW summed in float32 and rounded once, dx accumulated tap by tap
    in float16, as PyTorch's CPU kernels (dx bit-equal)."""
    outs = _conv_both(torch, (8, 16, 12, 12), (3, 3), bias=False, dtype="float16", padding=1)
    (y_t, dx_t, dw_t, _), (y_g, dx_g, dw_g, _) = outs
    assert y_g.dtype == dx_g.dtype == dw_g.dtype == np.float16
    np.testing.assert_array_equal(dx_g, dx_t)
    for a, b in ((y_t, y_g), (dw_t, dw_g)):
        np.testing.assert_allclose(
            b.astype(np.float32), a.astype(np.float32), rtol=2e-3, atol=2e-3 * np.abs(a).max()
        )


def test_depthwise_conv2d_without_bias_and_empty_batch(torch):
    _assert_close(_conv_both(torch, (2, 3, 6, 6), (3, 3), bias=False, padding=1))
    _assert_close(_conv_both(torch, (0, 3, 6, 6), (3, 3), padding=1))


@pytest.mark.parametrize("value", [np.inf, np.nan], ids=["inf", "nan"])
def test_depthwise_conv2d_nonfinite_input_reaches_only_its_windows(torch, value):
    """An inf at the right edge of a row: the stride-1 views read it in their dropped columns too;
    dW and the other outputs must still be PyTorch's (inf/NaN only where its windows reach)."""
    x = RNG.standard_normal((2, 3, 6, 6))
    x[0, 1, 2, 5] = value
    outs = _conv_both(torch, x.shape, (3, 3), x=x, padding=1)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(np.isnan(b), np.isnan(a))
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def test_depthwise_conv1d_matches_torch(torch):
    xs, ws = RNG.standard_normal((4, 6, 70)), RNG.standard_normal((6, 1, 7))
    outs = []
    for lib in (torch, gg):
        x, w = (lib.tensor(a, requires_grad=True) for a in (xs, ws))
        y = lib.nn.functional.conv1d(x, w, padding=3, groups=6)
        (y * y).sum().backward()
        outs.append([y.detach().numpy(), x.grad.numpy(), w.grad.numpy()])
    _assert_close(outs)


def test_depthwise_conv2d_double_backward_matches_torch(torch):
    xs, ws = RNG.standard_normal((2, 3, 6, 6)), RNG.standard_normal((3, 1, 3, 3))
    outs = []
    for lib in (torch, gg):
        x, w = (lib.tensor(a, requires_grad=True) for a in (xs, ws))
        y = lib.nn.functional.conv2d(x, w, padding=1, groups=3)
        (gx,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        outs.append([gx.detach().numpy(), x.grad.numpy(), w.grad.numpy()])
    _assert_close(outs, rtol=1e-11)


def _mobile_block(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(8, 8, 3, 2, 1, groups=8, bias=False), nn.BatchNorm2d(8), nn.ReLU6(), nn.Conv2d(8, 4, 1)
    ).double()


def test_depthwise_module_training_steps_match_torch(torch):
    """MobileNet's block: depthwise 3x3 stride 2 + BatchNorm + ReLU6 + pointwise, three SGD steps
    from PyTorch's initial weights."""
    xs = RNG.standard_normal((6, 8, 12, 12))
    models = {torch: _mobile_block(torch), gg: _mobile_block(gg)}
    models[gg].load_state_dict({k: gg.tensor(v.numpy()) for k, v in models[torch].state_dict().items()})
    params = []
    for lib, m in models.items():
        opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            m(lib.tensor(xs)).square().mean().backward()
            opt.step()
        params.append([p.detach().numpy() for p in m.parameters()])
    for a, b in zip(*params):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


_SPECIAL = {
    "erfc": lambda n: RNG.standard_normal(n) * 5,
    "lgamma": lambda n: RNG.standard_normal(n) * 6,
    "digamma": lambda n: RNG.random(n) * 20 + 0.01,
    "erfinv": lambda n: RNG.random(n) * 1.98 - 0.99,
    "i0": lambda n: RNG.standard_normal(n) * 30,
}


def _special(lib, name, x, dtype):
    t = lib.tensor(x, dtype=getattr(lib, dtype), requires_grad=True)
    y = getattr(lib, name)(t)
    y.backward(lib.ones_like(y))
    return y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("name", sorted(_SPECIAL))
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_special_functions_in_pieces_change_no_value(name, dtype):
    """Arrays of several pieces (100,003 values, the last piece shorter, with inf, -inf, NaN, 0)
    give the bits that the same values give in arrays below one piece (evaluated whole)."""
    x = np.concatenate([_SPECIAL[name](100_003), [np.inf, -np.inf, np.nan, 0.0]])
    whole = _special(gg, name, x, dtype)
    small = [_special(gg, name, x[i : i + 10_000], dtype) for i in range(0, x.size, 10_000)]
    for got, parts in zip(whole, zip(*small)):
        np.testing.assert_array_equal(got, np.concatenate(parts))


@pytest.mark.parametrize("name", ["erfc", "erfinv"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_special_functions_in_pieces_match_torch(torch, name, dtype):
    x = np.concatenate([_SPECIAL[name](100_003), [np.inf, -np.inf, np.nan, 0.0]])
    outs = [_special(lib, name, x, dtype) for lib in (torch, gg)]
    tol = 1e-12 if dtype == "float64" else 2e-6
    for a, b in zip(*outs):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol * 1e-2, equal_nan=True)
