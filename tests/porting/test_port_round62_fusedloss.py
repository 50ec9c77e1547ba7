"""Round 62, fused smooth_l1_loss and huber_loss (ops/loss_smooth.py): one node each instead of
eight, with PyTorch's kernels' order of operations (float32/float64 elementwise values and both
gradients bit for bit, for any beta/delta), and their float16 arithmetic: huber's forward in
float32 (x - y of +-6e4 overflowed to inf in float16), smooth_l1's backward in float32.

PyTorch's CPU kernels run vectors over all but the last (numel mod 2 x vector width) elements,
whose scalar loop orders the backward's products differently: the sizes here are multiples of 64,
where every element takes the vector path. Reduced values are sums, whose order is NumPy's (one
ulp); the gradients of a broadcast target are summed by the engine (within float rounding).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradgradcheck
from glassgrad.errors import ShapeError

# (F's name, its threshold keyword, thresholds): 0.3 and 1.3 are not powers of two, where the
# order of the kernel's products shows
_LOSSES = [
    ("smooth_l1_loss", "beta", (0.0, 1.0, 0.5, 0.3, 2.0)),
    ("huber_loss", "delta", (1.0, 0.5, 0.3, 1.3, 2.0)),
]
_CASES = [(name, key, v) for name, key, vals in _LOSSES for v in vals]
_IDS = [f"{name}-{v}" for name, _, v in _CASES]


def _data(shape_x, shape_y, dtype, seed=0, special=True):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape_x) * 1.5).astype(dtype)
    y = (rng.standard_normal(shape_y) * 1.5).astype(dtype)
    if special:  # a zero difference, NaN, +-inf on either side, a difference on the threshold
        x.flat[0] = y.flat[0]
        x.flat[1], y.flat[2], x.flat[3], y.flat[4] = np.nan, np.nan, np.inf, -np.inf
        x.flat[5], y.flat[5] = 1.5, 1.0
    return x, y


def _run(lib, name, x, y, g, dtype, **kw):
    """(loss, dx, dy) as float64 arrays, the loss's node name."""
    X = lib.tensor(x, dtype=getattr(lib, dtype), requires_grad=True)
    Y = lib.tensor(y, dtype=getattr(lib, dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a broadcast target's warning (checked below)
        out = getattr(lib.nn.functional, name)(X, Y, **kw)
    out.backward(None if g is None else lib.tensor(g, dtype=getattr(lib, dtype)))
    return [a.detach().numpy() for a in (out, X.grad, Y.grad)], type(out.grad_fn).__name__


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)  # (NaN where NaN, signed infinities)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "key", "value"), _CASES, ids=_IDS)
def test_elementwise_values_and_both_gradients_are_torchs_bits(torch, dtype, name, key, value):
    x, y = _data((4, 32), (4, 32), dtype)
    g = np.random.default_rng(1).standard_normal((4, 32))
    got, node = _run(gg, name, x, y, g, dtype, reduction="none", **{key: value})
    want, tnode = _run(torch, name, x, y, g, dtype, reduction="none", **{key: value})
    assert node == tnode
    for a, b in zip(got, want):
        _same_bits(a, b)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "key", "value"), _CASES, ids=_IDS)
def test_reduced_losses_match_torch(torch, reduction, dtype, name, key, value):
    x, y = _data((8, 64), (8, 64), dtype, special=False)
    got, node = _run(gg, name, x, y, None, dtype, reduction=reduction, **{key: value})
    want, tnode = _run(torch, name, x, y, None, dtype, reduction=reduction, **{key: value})
    assert node == tnode  # SmoothL1LossBackward0, HuberLossBackward0; beta = 0: l1's Mean/Sum
    assert got[0].dtype == want[0].dtype and got[0].shape == ()
    np.testing.assert_allclose(got[0], want[0], rtol=2 * np.finfo(dtype).eps)  # NumPy's summation order
    _same_bits(got[1], want[1])
    _same_bits(got[2], want[2])


@pytest.mark.parametrize(("name", "key", "value"), _CASES, ids=_IDS)
def test_broadcast_target_with_reduction_none(torch, name, key, value):
    x, y = _data((5, 1, 64), (4, 1), "float64", special=False)
    g = np.random.default_rng(2).standard_normal((5, 4, 64))
    got, _ = _run(gg, name, x, y, g, "float64", reduction="none", **{key: value})
    want, _ = _run(torch, name, x, y, g, "float64", reduction="none", **{key: value})
    _same_bits(got[0], want[0])
    for a, b in zip(got[1:], want[1:]):  # summed back to (5, 1, 64) and (4, 1)
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    X, Y = gg.tensor(x), gg.tensor(y)
    with pytest.warns(UserWarning, match="target size"):
        getattr(gg.nn.functional, name)(X, Y, reduction="none", **{key: value})
    with pytest.raises(ShapeError, match="same shape"):  # reduced: refused, as before
        getattr(gg.nn.functional, name)(X, Y, **{key: value})


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize(
    ("name", "key", "value"), _CASES + [("huber_loss", "delta", 500.0)], ids=[*_IDS, "huber-500"]
)
def test_float16_rounds_as_torchs_kernels(torch, reduction, name, key, value):
    x, y = _data((4096,), (4096,), "float16", seed=5)
    x[6:10] = [6e4, -6e4, 3e4, 400]
    y[6:10] = [-6e4, 6e4, -4e4, 0]
    g = np.random.default_rng(3).standard_normal(4096).astype(np.float16) if reduction == "none" else None
    got, _ = _run(gg, name, x, y, g, "float16", reduction=reduction, **{key: value})
    want, _ = _run(torch, name, x, y, g, "float16", reduction=reduction, **{key: value})
    for a, b in zip(got, want):
        _same_bits(a, b)


def test_float16_huber_difference_past_65504_stays_finite(torch):
    # Huber with delta 0.3: 0.3 * (1.2e5 - 0.15) = 3.6e4 fits a float16; the difference does not
    x, y = np.array([6e4, -6e4, 3e4], np.float16), np.array([-6e4, 6e4, -4e4], np.float16)
    for lib in (gg, torch):
        out = lib.nn.functional.huber_loss(lib.tensor(x), lib.tensor(y), reduction="none", delta=0.3)
        assert np.isfinite(out.numpy()).all()
        np.testing.assert_allclose(out.numpy().astype(np.float64), [3.6e4, 3.6e4, 2.1e4], rtol=1e-3)


def test_mixed_dtypes_promote_and_round_the_gradient_back(torch):
    # (PyTorch's huber_loss returns the input's float32 there and its backward raises "Found dtype
    # Double but expected Float": glassgrad's promotes as smooth_l1's, as before)
    x, y = _data((2, 32), (2, 32), "float32", special=False)
    y = y.astype(np.float64) / 3
    for name, kw in (("smooth_l1_loss", {"beta": 0.3}),):
        res = []
        for lib in (gg, torch):
            X, Y = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
            out = getattr(lib.nn.functional, name)(X, Y, reduction="sum", **kw)
            out.backward()
            res.append((out.detach().numpy(), X.grad.numpy(), Y.grad.numpy()))
        (a, ax, ay), (b, bx, by) = res
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-15)
        _same_bits(ax, bx)  # float32, computed in float64 and rounded
        _same_bits(ay, by)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_huber_weight_multiplies_the_unreduced_loss(torch, reduction):
    x, y = _data((3, 64), (3, 64), "float64", special=False)
    w = np.random.default_rng(4).uniform(0.5, 2, (3, 64))
    res = []
    for lib in (gg, torch):
        X, Y = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        out = lib.nn.functional.huber_loss(X, Y, reduction=reduction, delta=0.3, weight=lib.tensor(w))
        out.sum().backward()
        res.append((out.detach().numpy(), X.grad.numpy(), Y.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-14)


@pytest.mark.parametrize(
    ("name", "key", "value"), [c for c in _CASES if c[2]], ids=[i for i, c in zip(_IDS, _CASES) if c[2]]
)
def test_double_backward_matches_torch(torch, name, key, value):
    # a gradient penalty: d/dx and d/dy of |d loss / d x|^2, and of a function of the upstream gradient
    x, y = _data((3, 8), (3, 8), "float64", special=False)
    res = []
    for lib in (gg, torch):
        X, Y = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        loss = getattr(lib.nn.functional, name)(X.tanh(), Y, reduction="mean", **{key: value})
        (gx,) = lib.autograd.grad(loss, X, create_graph=True)
        res.append([a.numpy() for a in lib.autograd.grad((gx * gx).sum(), (X, Y))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize(
    ("name", "key", "value"), [c for c in _CASES if c[2]], ids=[i for i, c in zip(_IDS, _CASES) if c[2]]
)
def test_gradgradcheck(reduction, name, key, value):
    x, y = _data((3, 4), (3, 4), "float64", seed=7, special=False)
    f = getattr(gg.nn.functional, name)
    X, Y = gg.tensor(x, requires_grad=True), gg.tensor(y, requires_grad=True)
    assert gradgradcheck(lambda a, b: f(a, b, reduction=reduction, **{key: value}), (X, Y))


@pytest.mark.parametrize(
    ("name", "key", "value"), [c for c in _CASES if c[2]], ids=[i for i, c in zip(_IDS, _CASES) if c[2]]
)
def test_forward_mode_matches_torch(torch, name, key, value):
    x, y = _data((2, 32), (2, 32), "float64", special=False)
    tx, ty = np.random.default_rng(8).standard_normal((2, 2, 32))
    res = []
    for lib in (gg, torch):
        fwad = lib.autograd.forward_ad
        with fwad.dual_level():
            X = fwad.make_dual(lib.tensor(x), lib.tensor(tx))
            Y = fwad.make_dual(lib.tensor(y), lib.tensor(ty))
            f = getattr(lib.nn.functional, name)
            res.append(
                [
                    fwad.unpack_dual(f(X, Y, reduction=r, **{key: value})).tangent.numpy()
                    for r in ("none", "sum")
                ]
            )
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_one_node_each(torch):
    x = gg.tensor(np.ones((2, 3)), requires_grad=True)
    for name, key in (("smooth_l1_loss", "beta"), ("huber_loss", "delta")):
        out = getattr(gg.nn.functional, name)(x, gg.zeros(2, 3, dtype=gg.float64), **{key: 0.5})
        tout = getattr(torch.nn.functional, name)(
            torch.ones(2, 3, dtype=torch.float64, requires_grad=True),
            torch.zeros(2, 3, dtype=torch.float64),
            **{key: 0.5},
        )
        assert out.grad_fn.name() == tout.grad_fn.name()
        assert [type(n).__name__ for n, _ in out.grad_fn.next_functions] == ["AccumulateGrad", "NoneType"]


@pytest.mark.parametrize(
    ("name", "kernel"), [("smooth_l1_loss", "smooth_l1_cpu"), ("huber_loss", "huber_cpu")]
)
def test_complex_operands_refused_as_torch(torch, name, kernel):
    # (the composite computed a complex "loss"; PyTorch's kernels have no complex code)
    for lib in (torch, gg):
        with pytest.raises(NotImplementedError, match=f"\"{kernel}\" not implemented for 'ComplexFloat'"):
            getattr(lib.nn.functional, name)(lib.tensor([1 + 1j]), lib.tensor([0j]))
    # beta = 0 is l1_loss, which takes complex operands in both
    a = torch.nn.functional.smooth_l1_loss(torch.tensor([3 + 4j]), torch.tensor([0j]), beta=0.0)
    b = gg.nn.functional.smooth_l1_loss(gg.tensor([3 + 4j]), gg.tensor([0j]), beta=0.0)
    assert b.item() == a.item() == 5.0


# ---- softshrink: one node (ops.activation_more.Softshrink) --------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("lambd", [0.0, 0.5, 0.3, 1.7, 6e4])
def test_softshrink_values_and_gradient_are_torchs_bits(torch, dtype, lambd):
    # NaN, +-inf, +-0, the bounds; an inf and a NaN upstream gradient (0 inside, as PyTorch's
    # vectorised backward); float16: the forward in float32 with lambd unrounded, the backward's
    # comparison in float16 (float16(0.3) = 0.30005 gives 5e-5 with a gradient of 0)
    rng = np.random.default_rng(9)
    x = (rng.standard_normal(4096) * 2).astype(dtype)
    x[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 0.3, -0.3, 0.5]
    g = rng.standard_normal(4096).astype(dtype)
    g[3], g[100], g[101] = np.inf, np.inf, np.nan
    res = []
    for lib in (gg, torch):
        X = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.softshrink(X, lambd)
        y.backward(lib.tensor(g))
        res.append((y.detach().numpy(), X.grad.numpy(), y.grad_fn.name()))
    (a, ga, na), (b, gb, nb) = res
    assert na == nb == "SoftshrinkBackward0"
    kind = {2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    np.testing.assert_array_equal(a.view(kind), b.view(kind))  # +0 inside, NaN's bits
    np.testing.assert_array_equal(ga.view(kind), gb.view(kind))


def test_softshrink_second_order_and_forward_mode_match_torch(torch):
    x = np.random.default_rng(10).standard_normal((4, 16)) * 2
    t = np.random.default_rng(11).standard_normal((4, 16))
    res = []
    for lib in (gg, torch):
        X = lib.tensor(x, requires_grad=True)
        (gx,) = lib.autograd.grad((lib.nn.functional.softshrink(X * X, 0.3) ** 2).sum(), X, create_graph=True)
        (h,) = lib.autograd.grad((gx * gx).sum(), X)
        fwad = lib.autograd.forward_ad
        with fwad.dual_level():
            tan = fwad.unpack_dual(
                lib.nn.functional.softshrink(fwad.make_dual(lib.tensor(x), lib.tensor(t)), 0.3)
            ).tangent
        res.append((gx.detach().numpy(), h.numpy(), tan.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    x = gg.tensor(np.random.default_rng(12).standard_normal((3, 4)) * 2, requires_grad=True)
    assert gradgradcheck(lambda a: gg.nn.functional.softshrink(a * a, 0.3), (x,))


@pytest.mark.parametrize(
    ("dtype", "lambd"),
    [("float32", 1e39), ("float32", float("inf")), ("float16", 7e4), ("float64", float("inf"))],
)
def test_softshrink_lambd_past_the_dtype_range_refused_as_torch(torch, dtype, lambd):
    with pytest.raises(RuntimeError) as want:
        torch.nn.functional.softshrink(torch.ones(2, dtype=getattr(torch, dtype)), lambd)
    with pytest.raises(RuntimeError) as got:  # (a ValueError too, as glassgrad's lambd < 0)
        gg.nn.functional.softshrink(gg.ones(2, dtype=getattr(gg, dtype)), lambd)
    assert str(got.value) == f"softshrink: {want.value}"
    with pytest.raises(NotImplementedError, match="\"softshrink_check\" not implemented for 'ComplexFloat'"):
        gg.nn.functional.softshrink(gg.tensor([1 + 1j]))  # (was clamp's DTypeError)
