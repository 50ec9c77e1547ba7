"""glassgrad/torch_aten_more.py against PyTorch: norm_except_dim, conv_tbc, native_layer_norm,
native_batch_norm, native_dropout (values, statistics, gradients), cond/while_loop, the names."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import ShapeError

_rng = np.random.default_rng(3)


def test_norm_except_dim_and_conv_tbc_match_torch(torch):
    v = _rng.standard_normal((3, 4, 5))
    for p, d in [(2, 0), (2, 1), (1, 2), (2, -1), (3, 1)]:
        want = torch.norm_except_dim(torch.tensor(v), p, d)
        got = gg.norm_except_dim(gg.tensor(v), p, d)
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    x, w, b = _rng.standard_normal((7, 2, 3)), _rng.standard_normal((3, 3, 4)), _rng.standard_normal(4)
    for pad in (0, 1, 2):
        res = []
        for m in (torch, gg):
            args = [m.tensor(a, requires_grad=True) for a in (x, w, b)]
            out = m.conv_tbc(*args, pad)
            (out * out).sum().backward()
            res.append([out.detach().numpy()] + [a.grad.numpy() for a in args])
        for a, g in zip(*res):
            np.testing.assert_allclose(g, a, rtol=1e-10, atol=1e-12)
    assert gradcheck(
        lambda x, w, b: gg.conv_tbc(x, w, b, 1),
        tuple(
            gg.tensor(a[:4] if a.ndim == 3 and a.shape[0] == 7 else a, requires_grad=True) for a in (x, w, b)
        ),
    )
    with pytest.raises(
        ShapeError, match=r"conv_tbc: expected input \(T, B, C_in\) and weight \(K, C_in, C_out\)"
    ):
        gg.conv_tbc(gg.randn(7, 2, 3), gg.randn(3, 2, 4), gg.zeros(4))


def test_native_norms_and_dropout_match_torch(torch):
    x = _rng.standard_normal((2, 3, 4))
    w, b = _rng.standard_normal((3, 4)), _rng.standard_normal((3, 4))
    want = torch.native_layer_norm(torch.tensor(x), [3, 4], torch.tensor(w), torch.tensor(b), 1e-5)
    got = gg.native_layer_norm(gg.tensor(x), [3, 4], gg.tensor(w), gg.tensor(b), 1e-5)
    for g, t in zip(got, want):
        assert tuple(g.shape) == tuple(t.shape)
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)
    for training in (True, False):
        stats = {}
        for m in (torch, gg):
            rm, rv = m.tensor(np.zeros(3)), m.tensor(np.ones(3))
            out = m.native_batch_norm(
                m.tensor(x), m.tensor(w[:, 0]), m.tensor(b[:, 0]), rm, rv, training, 0.1, 1e-5
            )
            stats[m.__name__] = [t.numpy() for t in out] + [rm.numpy(), rv.numpy()]
        for g, t in zip(stats["glassgrad"], stats["torch"]):
            assert g.shape == t.shape
            np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12)
    xt = gg.tensor(x, requires_grad=True)
    out, mask = gg.native_dropout(xt, 0.25, True)
    assert mask.dtype == gg.bool and tuple(mask.shape) == x.shape and 0 < mask.float().mean().item() < 1
    np.testing.assert_allclose(out.detach().numpy(), np.where(mask.numpy(), x / 0.75, 0.0))
    out.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), mask.numpy() / 0.75)
    for m in (torch, gg):
        out, mask = m.native_dropout(m.tensor(x), 0.5, False)
        assert bool(mask.all()) and np.array_equal(out.numpy(), x)
        out, mask = m.native_dropout(m.tensor(x), 1.0, True)
        assert not bool(mask.any()) and not np.any(out.numpy())


def test_cond_while_loop_and_names(torch):
    for m in (torch, gg):
        one = m.tensor(1.0)
        assert m.cond(m.tensor(True), lambda x: x + 1, lambda x: x - 1, (one,)).item() == 2.0
        assert m.cond(False, lambda x: x + 1, lambda x: x - 1, (one,)).item() == 0.0
        i, s = m.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * 2), (m.tensor(0), m.tensor(1.0)))
        assert (i.item(), s.item()) == (3, 8.0)
        with pytest.raises(RuntimeError):
            m.cond(m.tensor([True, False]), lambda: 1, lambda: 2)
        assert m.newaxis is None and not m.is_distributed(m.zeros(1)) and not m.is_storage(m.zeros(1))
        assert m.is_storage(m.zeros(2).untyped_storage())
    gg.default_generator.manual_seed(5)
    a = gg.rand(3)
    gg.manual_seed(5)
    np.testing.assert_array_equal(gg.rand(3).numpy(), a.numpy())  # one generator behind both names


def test_convolution_grid_sampler_affine_grid_match_torch(torch):
    cases = [
        ((1, 2, 5, 5), (3, 2, 3, 3), True, [1, 1], [1, 1], [1, 1], False, [0, 0], 1),
        ((1, 2, 5, 5), (2, 3, 3, 3), False, [2, 2], [1, 1], [1, 1], True, [1, 1], 1),
        ((2, 2, 7), (4, 1, 3), True, [1], [0], [2], False, [0], 2),
        ((1, 2, 3, 4, 4), (2, 2, 2, 2, 2), False, [1, 1, 1], [0, 1, 0], [1, 1, 1], False, [0, 0, 0], 1),
    ]
    for xs, ws, has_bias, *args in cases:
        x, w = _rng.standard_normal(xs), _rng.standard_normal(ws)
        b = _rng.standard_normal(ws[1] * args[-1] if args[3] else ws[0])
        res = []
        for m in (torch, gg):
            ts = [m.tensor(a, requires_grad=True) for a in (x, w, b)]
            out = m.convolution(ts[0], ts[1], ts[2] if has_bias else None, *args)
            (out * out).sum().backward()
            res.append([out.detach().numpy(), ts[0].grad.numpy(), ts[1].grad.numpy()])
        for a, g in zip(*res):
            np.testing.assert_allclose(g, a, rtol=1e-10, atol=1e-10)
    x, grid = _rng.standard_normal((1, 2, 5, 5)), _rng.uniform(-1.1, 1.1, (1, 4, 4, 2))
    for interp, pad, corners in [(0, 0, False), (1, 1, True), (2, 2, False)]:
        want = torch.grid_sampler(torch.tensor(x), torch.tensor(grid), interp, pad, corners)
        got = gg.grid_sampler(gg.tensor(x), gg.tensor(grid), interp, pad, corners)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
    theta = _rng.standard_normal((2, 2, 3))
    want = torch.affine_grid_generator(torch.tensor(theta), [2, 3, 4, 5], False)
    got = gg.affine_grid_generator(gg.tensor(theta), [2, 3, 4, 5], False)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="grid_sampler: expected interpolation_mode in"):
        gg.grid_sampler(gg.tensor(x), gg.tensor(grid), 3, 0, False)
