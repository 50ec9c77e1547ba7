"""Review of round 30's additions (reviewer B): defects found against PyTorch, each with its fix's test."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F


@pytest.mark.parametrize(
    ("x_dtype", "w_dtype"), [("float16", "float32"), ("float16", "float64"), ("float32", "float64")]
)
def test_rms_norm_weight_of_another_dtype_keeps_input_dtype(torch, x_dtype, w_dtype):
    """PyTorch's rms_norm returns the input's dtype whatever the weight's (it scales in the wider
    one, then casts back); glassgrad returned the weight's wider dtype."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 8)) * 3).astype(x_dtype)
    w = rng.standard_normal(8).astype(w_dtype)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    gx, gw = gg.tensor(x, requires_grad=True), gg.tensor(w, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's once-per-process note on the mixed dtypes
        to = torch.nn.functional.rms_norm(tx, (8,), tw)
    go = F.rms_norm(gx, (8,), gw)
    assert str(go.dtype).split(".")[-1] == str(to.dtype).split(".")[-1] == x_dtype
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-6, atol=0)
    to.sum().backward()
    go.sum().backward()
    assert gx.grad.dtype == gx.dtype and gw.grad.dtype == gw.dtype
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("beta", "threshold"), [(3.0, 20.0), (0.7, 5.0)])
def test_softplus_float16_gradient_from_unrounded_beta_x(torch, beta, threshold):
    """float16 softplus: PyTorch's backward takes sigmoid(beta x) from beta x in float32; saving
    beta x rounded to float16 put about a fifth of the gradients one ulp off for beta = 3, 0.7."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((100, 40)) * 3).astype(np.float16)
    g = rng.standard_normal((100, 40)).astype(np.float16)
    tx, gx = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
    (torch.nn.functional.softplus(tx, beta, threshold) * torch.tensor(g)).sum().backward()
    (F.softplus(gx, beta, threshold) * gg.tensor(g)).sum().backward()
    assert gx.grad.dtype == gg.float16
    # (a rare one-ulp difference is left to the float32 exp of NumPy and PyTorch's vector library)
    assert np.mean(gx.grad.numpy() != tx.grad.numpy()) < 0.002


def test_softplus_float16_double_backward(torch):
    x = np.array([0.5, -1.0, 3.0], dtype=np.float16)
    tx, gx = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.softplus(tx, beta=3.0).sum(), tx, create_graph=True)
    (gg_,) = gg.autograd.grad(F.softplus(gx, beta=3.0).sum(), gx, create_graph=True)
    assert gg_.dtype == gg.float16
    np.testing.assert_array_equal(gg_.detach().numpy(), tg.detach().numpy())
    tg.sum().backward()
    gg_.sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=2e-3)


def _cb_pairs(lib):
    D = lib.distributions

    def t(*v):
        return lib.tensor(np.array(v, dtype=np.float64))

    cb = D.ContinuousBernoulli(t(0.3, 0.8))
    return [
        (D.Beta(t(2.0, 0.5), t(1.0, 3.0)), cb),
        (cb, D.Exponential(t(1.5, 0.3))),
        (cb, D.Pareto(t(1.0, 2.0), t(2.0, 3.0))),
        (D.Exponential(t(1.5, 0.3)), cb),
        (D.Gamma(t(2.0, 0.5), t(1.0, 3.0)), cb),
        (D.Chi2(t(3.0, 5.0)), cb),
        (D.Laplace(t(0.0, 1.0), t(1.0, 2.0)), cb),
        (D.Pareto(t(1.0, 2.0), t(2.0, 3.0)), cb),
    ]


@pytest.mark.parametrize("i", range(8))
def test_kl_continuous_bernoulli_cross_family_pairs(torch, i):
    """PyTorch registers these KL pairs with ContinuousBernoulli (two closed forms, six infinite);
    glassgrad raised NotImplementedError for them."""
    tp, tq = _cb_pairs(torch)[i]
    gp, gq = _cb_pairs(gg)[i]
    want = torch.distributions.kl_divergence(tp, tq).numpy()
    got = gg.distributions.kl_divergence(gp, gq)
    assert got.shape == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_kl_beta_continuous_bernoulli_gradients(torch):
    a, b, lam = [0.5, 3.0], [2.0, 0.7], [0.2, 0.9]
    ta, tb, tl = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b, lam))
    ga, gb, gl = (gg.tensor(v, dtype=gg.float64, requires_grad=True) for v in (a, b, lam))
    D, G = torch.distributions, gg.distributions
    D.kl_divergence(D.Beta(ta, tb), D.ContinuousBernoulli(tl)).sum().backward()
    G.kl_divergence(G.Beta(ga, gb), G.ContinuousBernoulli(gl)).sum().backward()
    for t, g in ((ta, ga), (tb, gb), (tl, gl)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-8)


def test_getitem_index_past_its_dim_beside_none_is_index_error(torch):
    """``x[None, idx, 0]`` with an index past its dim: PyTorch raises IndexError; glassgrad raised a
    ShapeError ("cannot be combined") that ``except IndexError`` missed."""
    with pytest.raises(IndexError):
        torch.zeros((2, 3, 4))[None, torch.tensor([0, 2]), 0]
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2, 3, 4\)"):
        gg.zeros((2, 3, 4))[None, gg.tensor([0, 2]), 0]


def test_index_fill_out_of_range_value_names_index_fill(torch):
    with pytest.raises(RuntimeError):
        torch.ones(2, dtype=torch.float16).index_fill(0, torch.tensor([0]), 1e5)
    with pytest.raises(RuntimeError, match="^index_fill: value 100000.0 .*float16"):
        gg.ones(2, dtype=gg.float16).index_fill(0, gg.tensor([0]), 1e5)
    np.testing.assert_array_equal(
        gg.ones(3).index_fill(0, gg.tensor([0, 2]), -2.5).numpy(),
        torch.ones(3).index_fill(0, torch.tensor([0, 2]), -2.5).numpy(),
    )


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_steps_complex_parameters_as_real_pairs(torch, line_search_fn):
    """PyTorch's LBFGS takes complex parameters (its flat vector holds their real views); glassgrad
    refused them while the other optimizers of this round took them."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))
    b = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    z0 = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    r0 = rng.standard_normal(2)
    out = []
    for lib in (torch, gg):
        p, q = lib.tensor(z0, requires_grad=True), lib.tensor(r0, requires_grad=True)
        opt = lib.optim.LBFGS([p, q], lr=0.5, max_iter=7, history_size=3, line_search_fn=line_search_fn)
        aa, bb = lib.tensor(a), lib.tensor(b)

        def closure(opt=opt, p=p, q=q, aa=aa, bb=bb):
            opt.zero_grad()
            r = aa @ p - bb
            loss = (r * r.conj()).real.sum() + (q**2).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        out.append((p.detach().numpy(), q.detach().numpy()))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=0, atol=1e-10)


def test_untyped_storage_from_a_sequence_wraps_ints_and_refuses_floats(torch):
    data = [300, -1, 255, 7]
    assert list(gg.UntypedStorage(data)) == list(torch.UntypedStorage(data)) == [44, 255, 255, 7]
    assert list(gg.UntypedStorage([])) == list(torch.UntypedStorage([])) == []
    with pytest.raises(RuntimeError):
        torch.UntypedStorage([1.5])
    with pytest.raises(RuntimeError, match="UntypedStorage: expected a sequence of ints"):
        gg.UntypedStorage([1.5])


def test_hardswish_float16_gradient_with_create_graph(torch):
    """With create_graph the float16 hardswish gradient was computed in float16 steps (one ulp off
    PyTorch's, e.g. 0.1667 for 0.1666 at x = -1); the op's own backward already used float32."""
    x = np.array([0.5, -1.0, 2.5, -2.9, 1.7], dtype=np.float16)
    tx, gx = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.hardswish(tx).sum(), tx, create_graph=True)
    (gg_,) = gg.autograd.grad(F.hardswish(gx).sum(), gx, create_graph=True)
    assert gg_.dtype == gg.float16
    np.testing.assert_array_equal(gg_.detach().numpy(), tg.detach().numpy())
    tg.sum().backward()
    gg_.sum().backward()
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())
