"""Round 66 (op_db's second-order and forward-mode sweep): ops that refused where PyTorch runs.

- ``slice_scatter``/``select_scatter``/``diagonal_scatter`` with a dual input or src raised
  ``UnfollowedChangeError`` (their in-place write through a view of a clone);
- ``angle`` of a real dual tensor had no forward rule;
- ``normal``/``bernoulli`` refused ``create_graph=True`` (no recorded rule for their sample node);
- conv and eval batch norm refused forward-over-reverse (no forward rule for ``unlinked``).
"""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.autograd.forward_ad as gfa
import glassgrad.nn.functional as GF

RNG = np.random.default_rng(660)

SCATTERS = {
    "slice_scatter": ((4, 5), (2, 5), lambda lib, x, s: lib.slice_scatter(x, s, 0, 1, 4, 2)),
    "select_scatter": ((4, 5), (4,), lambda lib, x, s: lib.select_scatter(x, s, 1, 2)),
    "diagonal_scatter": ((4, 5), (4,), lambda lib, x, s: lib.diagonal_scatter(x, s, 1)),
}


def _tangent(lib, fad, f, arrays, tangents):
    with fad.dual_level():
        duals = [
            fad.make_dual(lib.from_numpy(a.copy()), lib.from_numpy(t.copy()))
            if t is not None
            else lib.from_numpy(a.copy())
            for a, t in zip(arrays, tangents)
        ]
        out = f(lib, *duals)
        primal, tangent = fad.unpack_dual(out)
        return primal.detach().numpy().copy(), None if tangent is None else tangent.detach().numpy().copy()


@pytest.mark.parametrize("name", sorted(SCATTERS))
@pytest.mark.parametrize("which", ["both", "input", "src"])
def test_scatter_tangents_match_pytorch(torch, name, which):
    import torch.autograd.forward_ad as tfa

    xs, ss, f = SCATTERS[name]
    arrays = [RNG.standard_normal(xs), RNG.standard_normal(ss)]
    tangents = [RNG.standard_normal(xs), RNG.standard_normal(ss)]
    if which == "input":
        tangents[1] = None
    elif which == "src":
        tangents[0] = None
    ep, et = _tangent(torch, tfa, f, arrays, tangents)
    gp, gt = _tangent(gg, gfa, f, arrays, tangents)
    np.testing.assert_array_equal(gp, ep)
    np.testing.assert_allclose(gt, et, rtol=0, atol=0)


def test_angle_of_a_real_dual_tensor_has_a_zero_tangent(torch):
    import torch.autograd.forward_ad as tfa

    a, t = np.array([-2.0, 0.0, 3.0]), RNG.standard_normal(3)
    ep, et = _tangent(torch, tfa, lambda lib, x: lib.angle(x), [a], [t])
    gp, gt = _tangent(gg, gfa, lambda lib, x: lib.angle(x), [a], [t])
    np.testing.assert_array_equal(gp, ep)
    np.testing.assert_array_equal(gt, et)


@pytest.mark.parametrize("sampler", ["normal", "bernoulli"])
def test_samplers_take_create_graph(torch, sampler):
    """The parameters' gradients are zeros with no graph (PyTorch's NormalBackward/BernoulliBackward)."""
    res = []
    for lib in (torch, gg):
        m = lib.full((3,), 0.5, dtype=lib.float64, requires_grad=True)
        y = (lib.normal(m, m) if sampler == "normal" else lib.bernoulli(m)) * m
        (gm,) = lib.autograd.grad(y.sum(), m, create_graph=True)
        np.testing.assert_array_equal(gm.detach().numpy(), y.detach().numpy() / 0.5)  # d(y)/dm = draws
        (h,) = lib.autograd.grad(gm.sum(), m, allow_unused=True)
        res.append(None if h is None else h.numpy())
    np.testing.assert_array_equal(res[1], res[0])


def test_conv_and_eval_batch_norm_forward_over_reverse(torch):
    """Gradient tangents through conv2d and eval-mode batch norm (``unlinked`` nodes) match PyTorch."""
    import torch.autograd.forward_ad as tfa

    x, w = RNG.standard_normal((2, 3, 5, 5)), RNG.standard_normal((4, 3, 3, 3))
    rm, rv = RNG.standard_normal(4), RNG.random(4) + 0.5
    tx, tw, v = RNG.standard_normal(x.shape), RNG.standard_normal(w.shape), RNG.standard_normal((2, 4, 5, 5))
    res = []
    for lib, fad, F in ((torch, tfa, torch.nn.functional), (gg, gfa, GF)):
        with fad.dual_level():
            xd = fad.make_dual(lib.from_numpy(x.copy()).requires_grad_(), lib.from_numpy(tx.copy()))
            wd = fad.make_dual(lib.from_numpy(w.copy()).requires_grad_(), lib.from_numpy(tw.copy()))
            y = F.batch_norm(
                F.conv2d(xd, wd, padding=1), lib.from_numpy(rm), lib.from_numpy(rv), training=False
            )
            grads = lib.autograd.grad(y, (xd, wd), lib.from_numpy(v.copy()), create_graph=True)
            res.append([fad.unpack_dual(q).tangent.detach().numpy().copy() for q in grads])
    for e, g in zip(*res):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_forward_over_reverse(torch, reduction, weighted):
    """Tangents of BCE's gradients (its ``binary_cross_entropy_backward`` node) match PyTorch's,
    with tangents on the probabilities and the target."""
    import torch.autograd.forward_ad as tfa

    p, y = RNG.uniform(0.05, 0.95, (3, 4)), RNG.uniform(0, 1, (3, 4))
    tp, ty = RNG.standard_normal(p.shape), RNG.standard_normal(y.shape)
    w = RNG.uniform(0.5, 2.0, (4,)) if weighted else None
    v = RNG.standard_normal(p.shape) if reduction == "none" else np.array(RNG.standard_normal())
    res = []
    for lib, fad, F in ((torch, tfa, torch.nn.functional), (gg, gfa, GF)):
        with fad.dual_level():
            pd = fad.make_dual(lib.from_numpy(p.copy()).requires_grad_(), lib.from_numpy(tp.copy()))
            yd = fad.make_dual(lib.from_numpy(y.copy()).requires_grad_(), lib.from_numpy(ty.copy()))
            wt = None if w is None else lib.from_numpy(w.copy())
            loss = F.binary_cross_entropy(pd, yd, weight=wt, reduction=reduction)
            grads = lib.autograd.grad(loss, (pd, yd), lib.from_numpy(v.copy()), create_graph=True)
            res.append([fad.unpack_dual(q).tangent.detach().numpy().copy() for q in grads])
    for e, g in zip(*res):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


# --- the differences kept (design.md, round 66) ----------------------------------------------


def test_triangular_solve_tangent_matches_central_differences():
    """Only A's upper triangle is read, so a tangent's lower entries change nothing (PyTorch's
    forward-mode tangent takes them in; its own central differences agree with this one)."""
    a = np.triu(RNG.standard_normal((4, 4))) + 4 * np.eye(4)
    b, ta, tb = RNG.standard_normal((4, 2)), RNG.standard_normal((4, 4)), RNG.standard_normal((4, 2))

    def f(lib, bb, aa):
        return lib.triangular_solve(bb, aa).solution

    _, got = _tangent(gg, gfa, f, [b, a], [tb, ta])
    eps = 1e-6
    with gg.no_grad():
        plus = f(gg, gg.from_numpy(b + eps * tb), gg.from_numpy(a + eps * ta)).numpy()
        minus = f(gg, gg.from_numpy(b - eps * tb), gg.from_numpy(a - eps * ta)).numpy()
    np.testing.assert_allclose(got, (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_logcumsumexp_tangent_at_large_inputs_matches_mpmath():
    """t_z_i = sum_{j<=i} softmax(x_{<=i})_j t_j, exactly (mpmath), at inputs near 1e4."""
    mp = pytest.importorskip("mpmath")
    rng = np.random.default_rng(6)
    x = 1e4 + rng.standard_normal(6) * 3
    t = rng.standard_normal(6)
    _, got = _tangent(gg, gfa, lambda lib, v: lib.logcumsumexp(v, 0), [x], [t])
    with mp.workdps(50):
        want = []
        for i in range(6):
            w = [mp.e ** mp.mpf(float(v)) for v in x[: i + 1]]
            want.append(float(sum(wj * mp.mpf(float(tj)) for wj, tj in zip(w, t[: i + 1])) / sum(w)))
    # x - z rounds at x's own spacing (1.8e-12 at 1e4): a few of those (PyTorch's is ~1e-6 off)
    np.testing.assert_allclose(got, want, rtol=0, atol=16 * np.spacing(1e4))


@pytest.mark.parametrize("ord_", [None, 0.5, 3.0])
def test_norm_hessian_at_zero_is_zero(ord_):
    """The second derivative of a vector norm does not exist at 0; glassgrad gives 0 (its first
    derivative there is the zero subgradient), PyTorch NaN."""
    x = gg.zeros(5, dtype=gg.float64, requires_grad=True)
    (g,) = gg.autograd.grad(gg.linalg.norm(x, ord_), x, create_graph=True)
    (h,) = gg.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h.numpy(), np.zeros(5))
