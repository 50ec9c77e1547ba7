"""Round 61, speed hunt: the ops rewritten for speed give PyTorch's values and gradients.

gather, scatter, scatter_add and scatter_reduce now read and update their places through flat
row-major positions (``glassgrad/ops/grid_positions.py``: one ``take`` / one 1-D ``ufunc.at``)
instead of NumPy's open-grid indexing, 5 to 10 times faster; ``where`` and the activations and
losses built on it select by bit masks (``glassgrad/ops/bit_select.py``), 2 to 5 times faster.
These tests pin the results against PyTorch: every dim of a 3-D input, an index smaller than the
input in the other dims, repeated places, int32 indices, non-contiguous operands and gradients,
NaN, infinities and signed zeros, other layouts, and second order. Part 2:
``test_speed_round61_2.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.ops.grid_positions import grid_positions, reduce_positions, write_positions

DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-12, np.float32: 1e-5}


def _pair(torch, a, requires_grad=True):
    """The same array as a glassgrad and a PyTorch leaf."""
    return (
        gg.tensor(a, requires_grad=requires_grad),
        torch.tensor(a, requires_grad=requires_grad),
    )


def _index(rng, x_shape, dim, idx_shape, dtype=np.int64):
    """An index of idx_shape with values in range along dim (repeats likely)."""
    return rng.integers(0, x_shape[dim], size=idx_shape).astype(dtype)


def _close(ours, theirs, dtype):
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy(), rtol=TOL[dtype], atol=TOL[dtype]
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_gather_values_and_gradients_match_torch(torch, dim, dtype):
    rng = np.random.default_rng(dim)
    x_shape, idx_shape = (5, 6, 7), [4, 5, 6]
    idx_shape[dim] = 9  # longer than x along dim: every place read about twice
    a = rng.standard_normal(x_shape).astype(dtype)
    idx = _index(rng, x_shape, dim, tuple(idx_shape))
    w = rng.standard_normal(idx_shape).astype(dtype)
    xg, xt = _pair(torch, a)
    zg, zt = xg.gather(dim, gg.tensor(idx)), xt.gather(dim, torch.tensor(idx))
    _close(zg, zt, dtype)
    (zg * gg.tensor(w)).sum().backward()
    (zt * torch.tensor(w)).sum().backward()
    _close(xg.grad, xt.grad, dtype)


def test_gather_of_transposed_input_with_int32_index_matches_torch(torch):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 8))
    idx = rng.integers(0, 6, size=(8, 5)).astype(np.int32)
    xg, xt = _pair(torch, a)
    zg, zt = xg.t().gather(1, gg.tensor(idx)), xt.t().gather(1, torch.tensor(idx))
    _close(zg, zt, np.float64)
    assert zg.is_contiguous()
    zg.exp().sum().backward()
    zt.exp().sum().backward()
    _close(xg.grad, xt.grad, np.float64)


def test_sort_and_topk_gradients_through_gather_match_torch(torch):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((16, 50))
    xg, xt = _pair(torch, a)
    (xg.sort(-1)[0][:, :7].sum() + xg.topk(3, 0)[0].pow(2).sum()).backward()
    (xt.sort(-1)[0][:, :7].sum() + xt.topk(3, 0)[0].pow(2).sum()).backward()
    _close(xg.grad, xt.grad, np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_scatter_add_values_and_gradients_match_torch(torch, dim, dtype):
    rng = np.random.default_rng(10 + dim)
    x_shape, idx_shape = (5, 6, 7), [3, 4, 5]
    idx_shape[dim] = 11  # many values added into each place
    a = rng.standard_normal(x_shape).astype(dtype)
    s = rng.standard_normal(idx_shape).astype(dtype)  # (PyTorch's backward wants src of index's shape)
    idx = _index(rng, x_shape, dim, tuple(idx_shape))
    w = rng.standard_normal(x_shape).astype(dtype)
    xg, xt = _pair(torch, a)
    sg, st = _pair(torch, s)
    zg = xg.scatter_add(dim, gg.tensor(idx), sg)
    zt = xt.scatter_add(dim, torch.tensor(idx), st)
    _close(zg, zt, dtype)
    (zg * gg.tensor(w)).sum().backward()
    (zt * torch.tensor(w)).sum().backward()
    _close(xg.grad, xt.grad, dtype)
    _close(sg.grad, st.grad, dtype)


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_values_and_gradients_match_torch(torch, dim):
    # distinct places per row / column, so that which write wins is defined
    rng = np.random.default_rng(20 + dim)
    a = rng.standard_normal((6, 7))
    n = a.shape[dim]
    idx = np.stack([rng.permutation(n)[:4] for _ in range(5)], axis=1 - dim)  # (4, 5) or (5, 4)
    s = rng.standard_normal(idx.shape)
    xg, xt = _pair(torch, a)
    sg, st = _pair(torch, s)
    zg, zt = xg.scatter(dim, gg.tensor(idx), sg), xt.scatter(dim, torch.tensor(idx), st)
    _close(zg, zt, np.float64)
    zg.sin().sum().backward()
    zt.sin().sum().backward()
    _close(xg.grad, xt.grad, np.float64)
    _close(sg.grad, st.grad, np.float64)
    vg = gg.tensor(a).scatter(dim, gg.tensor(idx), value=2.5)
    np.testing.assert_array_equal(
        vg.numpy(), torch.tensor(a).scatter(dim, torch.tensor(idx), value=2.5).numpy()
    )


@pytest.mark.parametrize("include_self", [True, False], ids=["self", "noself"])
@pytest.mark.parametrize("reduce", ["sum", "mean", "prod", "amax", "amin"])
def test_scatter_reduce_values_and_gradients_match_torch(torch, reduce, include_self):
    rng = np.random.default_rng(30)
    a = rng.standard_normal((4, 9))
    s = rng.standard_normal((4, 10))
    if reduce in ("amax", "amin"):  # ties: the gradient is shared among the equal entries
        s[:, ::3] = a[:, :4]
    idx = rng.integers(0, 9, size=(4, 10))  # some places get nothing, some several
    xg, xt = _pair(torch, a)
    sg, st = _pair(torch, s)
    zg = xg.scatter_reduce(1, gg.tensor(idx), sg, reduce, include_self=include_self)
    zt = xt.scatter_reduce(1, torch.tensor(idx), st, reduce, include_self=include_self)
    _close(zg, zt, np.float64)
    w = rng.standard_normal(a.shape)
    (zg * gg.tensor(w)).sum().backward()
    (zt * torch.tensor(w)).sum().backward()
    _close(xg.grad, xt.grad, np.float64)
    _close(sg.grad, st.grad, np.float64)


@pytest.mark.parametrize("op", ["gather", "scatter_add", "scatter_reduce_mean"])
def test_second_order_through_the_positions_matches_torch(torch, op):
    rng = np.random.default_rng(40)
    a, s = rng.standard_normal((5, 6)), rng.standard_normal((5, 8))
    idx = rng.integers(0, 6, size=(5, 8))
    grads = []
    for lib in (gg, torch):
        x, src = lib.tensor(a, requires_grad=True), lib.tensor(s, requires_grad=True)
        i = lib.tensor(idx)
        if op == "gather":
            z = x.gather(1, i[:, :6] % 6)
        elif op == "scatter_add":
            z = x.scatter_add(1, i, src)
        else:
            z = x.scatter_reduce(1, i, src, "mean")
        (gx,) = lib.autograd.grad((z**3).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        grads.append((x.grad.detach().numpy(), None if src.grad is None else src.grad.detach().numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12, atol=1e-12)
    if grads[1][1] is not None:
        np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12, atol=1e-12)


def test_src_larger_than_index_gets_no_gradient_outside_the_index_box():
    # (PyTorch's backward refuses this case, so it is checked against the definition)
    rng = np.random.default_rng(45)
    s = gg.tensor(rng.standard_normal((5, 9)), requires_grad=True)
    idx = rng.integers(0, 6, size=(3, 7))
    w = rng.standard_normal((4, 6))
    (gg.zeros(4, 6, dtype=gg.float64).scatter_add(1, gg.tensor(idx), s) * gg.tensor(w)).sum().backward()
    want = np.zeros((5, 9))
    want[:3, :7] = w[np.arange(3)[:, None], idx]
    np.testing.assert_array_equal(s.grad.numpy(), want)


def test_non_contiguous_gradient_into_scatter_add_matches_torch(torch):
    # an expanded (stride-0) gradient: read at positions through take, whatever its layout
    rng = np.random.default_rng(50)
    a, s = rng.standard_normal((4, 5)), rng.standard_normal((4, 7))
    idx = rng.integers(0, 5, size=(4, 7))
    out = []
    for lib in (gg, torch):
        x, src = lib.tensor(a, requires_grad=True), lib.tensor(s, requires_grad=True)
        z = x.scatter_add(1, lib.tensor(idx), src)
        z.sum(0).sum().backward()  # sum's gradient arrives expanded
        out.append(src.grad.detach().numpy())
    np.testing.assert_array_equal(out[0], out[1])


def test_grid_positions_are_the_row_major_places_of_the_grid():
    rng = np.random.default_rng(60)
    idx = rng.integers(0, 7, size=(3, 4, 2))
    pos = grid_positions(idx, 1, (3, 7, 5))
    i, k = np.arange(3)[:, None, None], np.arange(2)[None, None, :]
    np.testing.assert_array_equal(pos, np.ravel_multi_index((i + 0 * idx, idx, k + 0 * idx), (3, 7, 5)))
    assert pos.dtype == np.int64


def test_writing_at_positions_refuses_a_non_contiguous_array():
    out = np.zeros((4, 3)).T  # a reshape of it would copy: the writes would be lost
    pos = np.array([0, 1])
    with pytest.raises(RuntimeError, match="write_positions: expected a C-contiguous array"):
        write_positions(out, pos, 1.0)
    with pytest.raises(RuntimeError, match="reduce_positions: expected a C-contiguous array"):
        reduce_positions(np.add, out, pos, 1.0)


# ---- where by bit masks (ops/bit_select.py): where, leaky_relu, elu, softplus and the composites on them


def _special(dtype, shape=(4, 5, 6), seed=70):
    """Random values with NaN, +-inf, +-0.0 and a few exact ties to 0 mixed in."""
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    a.reshape(-1)[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0]
    return a


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16], ids=["f64", "f32", "f16"])
def test_select_is_where_bit_for_bit(dtype):
    from glassgrad.ops.bit_select import select

    a, b = _special(dtype), _special(dtype, seed=71)
    cond = np.random.default_rng(72).random(a.shape) < 0.5
    bits = f"u{np.dtype(dtype).itemsize}"
    for x, y in ((a, b), (a, np.array(-0.0, dtype)), (np.array(np.nan, dtype), b)):
        want = np.where(cond, x, y)
        got = select(cond, x, y)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.view(bits), want.view(bits))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_where_values_gradients_and_layout_match_torch(torch, dtype):
    a, b = _special(dtype), _special(dtype, seed=73)
    cond = np.random.default_rng(74).random(a.shape) < 0.5
    outs = []
    for lib in (gg, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        z = lib.where(lib.tensor(cond), x, y)
        (z * lib.tensor(b)).nan_to_num(0.0, 1.0, -1.0).sum().backward()
        xc = lib.tensor(a).permute(0, 2, 1).contiguous().permute(0, 2, 1)  # another layout: where's own
        outs.append(
            (
                z.detach().numpy(),
                x.grad.numpy(),
                y.grad.numpy(),
                lib.where(lib.tensor(cond), xc, 0.0).stride(),
            )
        )
    for ours, theirs in zip(outs[0][:3], outs[1][:3]):
        np.testing.assert_array_equal(ours, theirs)
    assert outs[0][3] == outs[1][3]


ACTIVATIONS = {
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2),
    "elu": lambda F, x: F.elu(x, 0.7),
    "selu": lambda F, x: F.selu(x),
    "celu": lambda F, x: F.celu(x, 1.3),
    "softplus": lambda F, x: F.softplus(x, 2.0, 3.0),
    "hardshrink": lambda F, x: F.hardshrink(x, 0.4),
    "softshrink": lambda F, x: F.softshrink(x, 0.4),
    "threshold": lambda F, x: F.threshold(x, 0.1, -2.0),
    "rrelu eval": lambda F, x: F.rrelu(x, training=False),
    "smooth_l1": lambda F, x: F.smooth_l1_loss(x, x.detach() * 0.3 + 0.2, reduction="none", beta=0.5),
    "huber": lambda F, x: F.huber_loss(x, x.detach() * 0.3 + 0.2, reduction="none", delta=0.7),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_on_where_match_torch(torch, name, dtype):
    a = np.random.default_rng(80).standard_normal((3, 4, 50)).astype(dtype) * 2
    w = np.random.default_rng(81).standard_normal(a.shape).astype(dtype)
    outs = []
    for lib in (gg, torch):
        x = lib.tensor(a, requires_grad=True)
        z = ACTIVATIONS[name](lib.nn.functional, x)
        (z * lib.tensor(w)).sum().backward()
        outs.append((z.detach().numpy(), x.grad.numpy()))
    tol = 1e-12 if dtype == np.float64 else 2e-6
    for ours, theirs in zip(outs[0], outs[1]):
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def test_prelu_gradients_match_torch(torch):
    a = np.random.default_rng(82).standard_normal((4, 3, 5, 5))
    outs = []
    for lib in (gg, torch):
        x, wt = (
            lib.tensor(a, requires_grad=True),
            lib.tensor([0.1, -0.2, 0.3], dtype=lib.float64, requires_grad=True),
        )
        z = lib.nn.functional.prelu(x, wt)
        (z * z).sum().backward()
        outs.append((z.detach().numpy(), x.grad.numpy(), wt.grad.numpy()))
    for ours, theirs in zip(*outs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
