"""Round 64's differential hunt at ties and kinks (inputs built to sit exactly on them: repeated
small integers, zeros, values on clamp bounds, NaN, -inf rows) against PyTorch 2.13, float64:

- ``soft_margin_loss``/``multilabel_soft_margin_loss`` lost their curvature at a zero margin
  (second derivative 0 where PyTorch's is 1/4): their softplus was ``max(z, 0) + log1p(e^-|z|)``;
- ``clamp`` with tensor bounds gave ``min`` the gradient where ``x < min == max``; PyTorch gives
  it to nobody there (its strict ``min < max``);
- forward mode (dual numbers, ``torch.func.jvp``) took the VJP's side at ties where PyTorch's
  forward formulas take another: ``clamp`` with tensor bounds (one bound alone: the bound's tangent
  at a tie, ``clamp_min``'s: the input's; NaN: the input's), ``fmax``/``fmin`` (tie and NaN),
  ``abs`` at NaN, ``a / 0`` and ``atan2(0, 0)``;
- ``cdist``/``pdist`` with a negative or NaN ``p`` raised ValueError, not PyTorch's RuntimeError,
  and refused a bool ``p`` that PyTorch reads as a number.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

NAN = float("nan")


def _libs(torch):
    return [("torch", torch), ("glassgrad", gg)]


def _np(t):
    return None if t is None else t.detach().numpy()


def _close(want, have):
    assert want.shape == have.shape
    np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-15, equal_nan=True)


# ---- soft margin losses: the second derivative at a zero margin -------------------------------


def _soft_margin(lib, x, y):
    return lib.nn.functional.soft_margin_loss(x, y, reduction="sum")


def _multilabel(lib, x, y):
    return lib.nn.functional.multilabel_soft_margin_loss(x.reshape(2, -1), y.reshape(2, -1))


@pytest.mark.parametrize("loss", [_soft_margin, _multilabel], ids=["soft_margin", "multilabel_soft_margin"])
def test_soft_margin_losses_keep_their_curvature_at_a_zero_margin(torch, loss):
    x_np = np.array([0.0, -0.0, 1.0, -2.0, 0.0, 30.0])
    y_np = np.array([1.0, -1.0, -1.0, 1.0, 0.0, 1.0])  # multilabel reads 0/1 targets, soft margin +-1
    got = {}
    for name, lib in _libs(torch):
        x = lib.tensor(x_np, requires_grad=True)
        value = loss(lib, x, lib.tensor(y_np))
        (g,) = lib.autograd.grad(value, x, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(np.arange(1.0, 7.0))).sum(), x)
        got[name] = (_np(value), _np(g), _np(h))
    for want, have in zip(got["torch"], got["glassgrad"]):
        _close(want, have)
    assert got["glassgrad"][2][0] != 0  # sigmoid(0) sigmoid(0) = 1/4 of the curvature, not 0


# ---- clamp with tensor bounds: min == max ------------------------------------------------------


@pytest.mark.parametrize("shared", [False, True], ids=["two_bounds", "one_tensor_twice"])
def test_clamp_tensor_bounds_equal_gives_no_bound_the_gradient_below(torch, shared):
    x_np = np.array([0.0, 1.0, 2.0, 0.5, NAN, -3.0])
    lo_np = np.array([1.0, 1.0, 1.0, 0.5, 1.0, 2.0])
    hi_np = lo_np.copy() if shared else np.array([1.0, 1.0, 1.0, 0.5, 1.0, 1.0])  # the last: lo > hi
    w_np = np.arange(1.0, 7.0)
    got = {}
    for name, lib in _libs(torch):
        x, lo = lib.tensor(x_np, requires_grad=True), lib.tensor(lo_np, requires_grad=True)
        hi = lo if shared else lib.tensor(hi_np, requires_grad=True)
        y = lib.clamp(x, lo, hi)
        leaves = (x, lo) if shared else (x, lo, hi)
        grads = lib.autograd.grad((y * lib.tensor(w_np)).sum(), leaves)
        got[name] = [_np(y)] + [_np(g) for g in grads]
    for want, have in zip(got["torch"], got["glassgrad"]):
        _close(want, have)


def test_clamp_tensor_bounds_equal_double_backward(torch):
    """The recorded (create_graph) backward takes the same strict test."""
    got = {}
    for name, lib in _libs(torch):
        x = lib.tensor([0.0, 1.0, 2.0], requires_grad=True)
        lo = lib.tensor([1.0, 1.0, 1.0], requires_grad=True)
        hi = lib.tensor([1.0, 1.0, 1.0], requires_grad=True)
        y = lib.clamp(x * x, lo * lo, hi * hi)
        grads = lib.autograd.grad(y.sum(), (x, lo, hi), create_graph=True)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), (x, lo, hi))
        got[name] = [_np(g) for g in (*grads, *second)]
    for want, have in zip(got["torch"], got["glassgrad"]):
        _close(want, have)


# ---- forward mode at ties and poles ------------------------------------------------------------

_C = [-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, NAN]
_LO = [-1.0, -1.0, 0.0, 1.0, 3.0, 3.0, 0.0]
_HI = [1.0, -1.0, 0.0, 1.0, 2.0, 4.0, 1.0]
_FA = [1.0, 2.0, 0.0, -1.0, NAN, NAN, 3.0, 0.0]
_FB = [1.0, 1.0, 0.0, -1.0, 1.0, NAN, NAN, -0.0]

_FORWARD = {
    "clamp_both": ([_C, _LO, _HI], lambda lib, x, lo, hi: lib.clamp(x, lo, hi)),
    "clamp_min_kw": ([_C, _LO], lambda lib, x, lo: lib.clamp(x, min=lo)),
    "clamp_max_kw": ([_C, _HI], lambda lib, x, hi: lib.clamp(x, max=hi)),
    "clamp_nan_bounds": (
        [[1.0, 2.0, 3.0], [NAN, 2.0, 0.0], [4.0, NAN, 3.0]],
        lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
    ),
    "clamp_min_fn": ([_C, _LO], lambda lib, x, lo: lib.clamp_min(x, lo)),
    "clamp_max_fn": ([_C, _HI], lambda lib, x, hi: lib.clamp_max(x, hi)),
    "clamp_min_method": ([_C, _LO], lambda lib, x, lo: x.clamp_min(lo)),
    "clamp_max_method": ([_C, _HI], lambda lib, x, hi: x.clamp_max(hi)),
    "clip": ([_C, _LO, _HI], lambda lib, x, lo, hi: lib.clip(x, lo, hi)),
    "fmax": ([_FA, _FB], lambda lib, a, b: lib.fmax(a, b)),
    "fmin": ([_FA, _FB], lambda lib, a, b: lib.fmin(a, b)),
    "fmax_broadcast": ([[[1.0, 2.0], [2.0, 2.0]], [2.0, 2.0]], lambda lib, a, b: lib.fmax(a, b)),
    "abs_nan": ([[-2.0, -0.0, 0.0, 1.0, NAN]], lambda lib, a: lib.abs(a)),
    "div_pole": ([[1.0, 0.0, 0.0, -1.0], [0.0, 0.0, 2.0, 0.0]], lambda lib, a, b: a / b),
    "atan2_origin": ([[0.0, -0.0, 0.0, 1.0], [0.0, 0.0, -0.0, 0.0]], lambda lib, y, x: lib.atan2(y, x)),
}


def _forward(lib, inputs, fn):
    fa = lib.autograd.forward_ad
    rng = np.random.default_rng(64)
    with fa.dual_level():
        duals = []
        for values in inputs:
            primal = np.array(values)
            tangent = rng.integers(-3, 4, size=primal.shape) / 2.0
            duals.append(fa.make_dual(lib.tensor(primal), lib.tensor(tangent)))
        p, t = fa.unpack_dual(fn(lib, *duals))
        return _np(p), _np(t)


@pytest.mark.parametrize("case", sorted(_FORWARD))
def test_forward_mode_tangent_at_ties_matches_torch(torch, case):
    inputs, fn = _FORWARD[case]
    want, have = _forward(torch, inputs, fn), _forward(gg, inputs, fn)
    for w, h in zip(want, have):
        _close(w, h)


def test_clamp_min_and_clamp_give_a_tie_to_different_sides_in_forward_mode():
    """clamp(x, min=t)'s tie takes the bound's tangent, clamp_min(x, t)'s the input's, as PyTorch."""
    fa = gg.autograd.forward_ad
    with fa.dual_level():
        x = fa.make_dual(gg.tensor([1.0]), gg.tensor([10.0]))
        lo = fa.make_dual(gg.tensor([1.0]), gg.tensor([20.0]))
        assert fa.unpack_dual(gg.clamp(x, min=lo)).tangent.tolist() == [20.0]
        assert fa.unpack_dual(gg.clamp_min(x, lo)).tangent.tolist() == [10.0]


# ---- cdist / pdist: p's errors -----------------------------------------------------------------


@pytest.mark.parametrize("p", [-1.0, float("-inf"), NAN], ids=["neg", "neg_inf", "nan"])
@pytest.mark.parametrize("op", ["cdist", "pdist"])
def test_distance_negative_or_nan_p_is_a_runtime_error(torch, op, p):
    x = np.array([[0.0, 0.0], [1.0, 1.0]])
    for _, lib in _libs(torch):
        call = (lambda: lib.cdist(lib.tensor(x), lib.tensor(x), p=p)) if op == "cdist" else (
            lambda: lib.nn.functional.pdist(lib.tensor(x), p=p)
        )  # fmt: skip
        with pytest.raises(RuntimeError, match="non-negative"):
            call()


@pytest.mark.parametrize("op", ["cdist", "pdist"])
def test_distance_p_of_another_type(torch, op):
    x = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 1.0]])
    got = {}
    for name, lib in _libs(torch):
        t = lib.tensor(x)
        dist = (
            (lambda p: lib.cdist(t, t, p=p)) if op == "cdist" else (lambda p: lib.nn.functional.pdist(t, p=p))
        )
        with pytest.raises(TypeError):
            dist("2")
        got[name] = _np(dist(True))  # a bool is a number to PyTorch's parser: p = 1
    _close(got["torch"], got["glassgrad"])
