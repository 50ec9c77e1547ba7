"""Top-level torch functions and Tensor methods added in the twentieth session, against PyTorch:
quantile/nanquantile, cov/corrcoef, integer arithmetic, unravel_index/block_diag, the layer
functions at torch's top level (with torch's own argument orders), the view copies and
scatters, predicates, deprecated spellings and switches."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

RNG = np.random.default_rng(3030)
X = RNG.standard_normal((3, 5, 4))
XN = X.copy()
XN[0, 1, 2] = np.nan
XN[1, :, 0] = np.nan


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _pair(torch, a, grad=False):
    t, g = torch.tensor(a), gg.tensor(a)
    if grad:
        t.requires_grad_(), g.requires_grad_()
    return t, g


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("q", [0.3, [0.0, 0.25, 1.0]])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (1, False), (-1, True)])
@pytest.mark.parametrize("mode", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_matches_torch(torch, name, q, dim, keepdim, mode):
    data = XN if name == "nanquantile" else X
    tx, gx = _pair(torch, data, grad=True)
    tq, gq = (
        (torch.tensor(q, dtype=torch.float64), gg.tensor(q, dtype=gg.float64))
        if isinstance(q, list)
        else (q, q)
    )
    t = getattr(torch, name)(tx, tq, dim=dim, keepdim=keepdim, interpolation=mode)
    g = getattr(gg, name)(gx, gq, dim=dim, keepdim=keepdim, interpolation=mode)
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(_np(g), _np(t), rtol=1e-12, equal_nan=True)
    w = np.arange(1.0, t.numel() + 1).reshape(t.shape)
    (t.nan_to_num() * torch.tensor(w)).sum().backward()
    (g.nan_to_num() * gg.tensor(w)).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_quantile_nan_float32_method_and_errors(torch):
    tx, gx = _pair(torch, XN.astype(np.float32))
    np.testing.assert_allclose(_np(gx.quantile(0.7, 1)), _np(tx.quantile(0.7, 1)), rtol=1e-6, equal_nan=True)
    assert gradcheck(
        lambda x: gg.quantile(x, gg.tensor([0.2, 0.9], dtype=gg.float64), dim=1),
        (gg.tensor(X, requires_grad=True),),
    )
    with pytest.raises(RuntimeError, match="quantile: expected q in"):  # (PyTorch's type)
        gg.quantile(gg.tensor(X), 1.5)
    with pytest.raises(gg.errors.DTypeError, match="quantile: expected a float32 or float64"):
        gg.quantile(gg.tensor([1, 2]), 0.5)
    with pytest.raises(RuntimeError, match="interpolation"):
        gg.quantile(gg.tensor(X), 0.5, interpolation="cubic")


@pytest.mark.parametrize("weights", ["none", "f", "a", "fa"])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov_matches_torch(torch, weights, correction):
    data, f, a = RNG.standard_normal((3, 6)), np.array([1, 2, 1, 3, 1, 1]), RNG.uniform(0.1, 2, 6)
    tk, gk = {}, {}
    if "f" in weights:
        tk["fweights"], gk["fweights"] = torch.tensor(f), gg.tensor(f)
    if "a" in weights:
        tk["aweights"], gk["aweights"] = torch.tensor(a), gg.tensor(a)
    tx, gx = _pair(torch, data, grad=True)
    t, g = torch.cov(tx, correction=correction, **tk), gg.cov(gx, correction=correction, **gk)
    np.testing.assert_allclose(_np(g), _np(t), rtol=1e-12)
    t.sum().backward(), g.sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(gg.corrcoef(gx)), _np(torch.corrcoef(tx)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_np(gg.cov(gx[0])), _np(torch.cov(tx[0])), rtol=1e-12)


def test_integer_arithmetic_matches_torch(torch):
    a, b = np.array([12, -18, 0, 7]), np.array([8, 12, 0, 5])
    for name in ("gcd", "lcm"):
        np.testing.assert_array_equal(
            _np(getattr(gg, name)(gg.tensor(a), gg.tensor(b))),
            _np(getattr(torch, name)(torch.tensor(a), torch.tensor(b))),
        )
    x = np.array([-1.5, 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(
        _np(gg.heaviside(gg.tensor(x), gg.tensor(0.5, dtype=gg.float64))),
        _np(torch.heaviside(torch.tensor(x), torch.tensor(0.5, dtype=torch.float64))),
    )
    h = gg.heaviside(gg.tensor(x, requires_grad=True), gg.tensor(0.5, dtype=gg.float64))
    assert h.grad_fn.name() == "NotImplemented"
    with pytest.raises(RuntimeError, match="heaviside: the derivative"):
        h.sum().backward()
    m, e = gg.frexp(gg.tensor([8.0, 0.3, 0.0, -5.0]))
    tm, te = torch.frexp(torch.tensor([8.0, 0.3, 0.0, -5.0]))
    np.testing.assert_array_equal(_np(m), _np(tm)), np.testing.assert_array_equal(_np(e), _np(te))
    assert e.dtype == gg.int32
    tx, gx = _pair(torch, x, grad=True)
    t, g = torch.ldexp(tx, torch.tensor([1, 2, 3, -1])), gg.ldexp(gx, gg.tensor([1, 2, 3, -1]))
    np.testing.assert_allclose(_np(g), _np(t))
    g.sum().backward()
    # d/dx x 2^e = 2^e; PyTorch 2.13 gives 0 for a negative integer e (its backward's 2^e is an
    # integer power, truncated): compared with the hand-derived value
    np.testing.assert_allclose(gx.grad.numpy(), 2.0 ** np.array([1, 2, 3, -1]))
    with pytest.raises(gg.errors.DTypeError, match="gcd: expected integer"):
        gg.gcd(gg.tensor([1.0]), gg.tensor([2.0]))


def test_unravel_index_and_block_diag(torch):
    for idx, shape in (([5, 7, 0], (2, 4)), ([-1, 3], (2, 2)), (11, (3, 4))):
        ours, theirs = gg.unravel_index(gg.tensor(idx), shape), torch.unravel_index(torch.tensor(idx), shape)
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(_np(o), _np(t))
    with pytest.raises(ValueError, match="unravel_index"):
        gg.unravel_index(gg.tensor([8]), (2, 4))
    parts = [np.array(2.0), np.array([1.0, 2.0]), RNG.standard_normal((2, 3))]
    tp = [torch.tensor(p, requires_grad=True) for p in parts]
    gp = [gg.tensor(p, requires_grad=True) for p in parts]
    t, g = torch.block_diag(*tp), gg.block_diag(*gp)
    np.testing.assert_array_equal(_np(g), _np(t))
    w = RNG.standard_normal(t.shape)
    (t * torch.tensor(w)).sum().backward(), (g * gg.tensor(w)).sum().backward()
    for a, b in zip(gp, tp, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())
    assert gg.block_diag(gg.tensor([1]), gg.tensor([0.5])).dtype == gg.float32  # promoted as torch's


NN = {  # name -> (args builder(lib, t)); compared as values
    "conv1d": lambda L, t: L.conv1d(t(X), t(RNG_W["c1"]), None, 1, 1),
    "conv2d": lambda L, t: L.conv2d(t(X[None]), t(RNG_W["c2"]), t(RNG_W["b2"]), 1, 1),
    "max_pool1d": lambda L, t: L.max_pool1d(t(X), 2),
    "max_pool2d": lambda L, t: L.max_pool2d(t(X[None]), 2, 1),
    "max_pool1d_with_indices": lambda L, t: L.max_pool1d_with_indices(t(X), 2)[1],
    "adaptive_max_pool1d": lambda L, t: L.adaptive_max_pool1d(t(X), 2)[1],
    "avg_pool1d": lambda L, t: L.avg_pool1d(t(X), 2),
    "layer_norm": lambda L, t: L.layer_norm(t(X), (4,), t(RNG_W["g4"]), None, 1e-5),
    "group_norm": lambda L, t: L.group_norm(t(X), 1),
    "batch_norm": lambda L, t: L.batch_norm(
        t(X), t(RNG_W["g5"]), t(RNG_W["b5"]), None, None, True, 0.1, 1e-5, False
    ),
    "instance_norm": lambda L, t: L.instance_norm(
        t(X), t(RNG_W["g5"]), t(RNG_W["b5"]), None, None, True, 0.1, 1e-5, False
    ),
    "embedding": lambda L, t: L.embedding(t(RNG_W["emb"]), t(np.array([[0, 2], [1, 1]])), -1, False, False),
    "embedding-padding": lambda L, t: L.embedding(t(RNG_W["emb"]), t(np.array([0, 2, 1])), 1),
    "pixel_shuffle": lambda L, t: L.pixel_shuffle(t(RNG_W["ps"]), 2),
    "pairwise_distance": lambda L, t: L.pairwise_distance(t(X[0]), t(X[1])),
    "cosine_similarity": lambda L, t: L.cosine_similarity(t(X[0]), t(X[1])),
    "selu": lambda L, t: L.selu(t(X)),
    "celu": lambda L, t: L.celu(t(X), 0.7),
    "threshold": lambda L, t: L.threshold(t(X), 0.1, -2.0),
    "rrelu-eval": lambda L, t: L.rrelu(t(X)),
    "prelu": lambda L, t: L.prelu(t(X), t(np.array([0.25]))),
    "hardshrink": lambda L, t: L.hardshrink(t(X), 0.3),
    "bilinear": lambda L, t: L.bilinear(t(X[0]), t(X[1]), t(RNG_W["bil"])),
    "rms_norm": lambda L, t: L.rms_norm(t(X), (4,)),
    "constant_pad_nd": lambda L, t: L.constant_pad_nd(t(X), (1, 2), 3.0),
    "dropout-eval": lambda L, t: L.dropout(t(X), 0.5, False),
    "feature_dropout-p0": lambda L, t: L.feature_dropout(t(X[None]), 0.0, True),
}
RNG_W = {
    "c1": RNG.standard_normal((2, 5, 3)), "c2": RNG.standard_normal((2, 3, 3, 3)), "b2": RNG.standard_normal(2),
    "g4": RNG.standard_normal(4), "g5": RNG.standard_normal(5), "b5": RNG.standard_normal(5),
    "emb": RNG.standard_normal((3, 4)), "ps": RNG.standard_normal((1, 8, 2, 2)), "bil": RNG.standard_normal((2, 4, 4)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(NN))
def test_layer_functions_at_the_top_level(torch, name):
    t = NN[name](torch, torch.tensor)
    g = NN[name](gg, gg.tensor)
    assert tuple(g.shape) == tuple(t.shape) and str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(_np(g), _np(t), rtol=1e-10, atol=1e-12)


COPIES = {
    "view_copy": lambda L, x: L.view_copy(x, (4, 15)),
    "transpose_copy": lambda L, x: L.transpose_copy(x, 0, 2),
    "permute_copy": lambda L, x: L.permute_copy(x, (2, 0, 1)),
    "select_copy": lambda L, x: L.select_copy(x, 1, 2),
    "slice_copy": lambda L, x: L.slice_copy(x, 1, 1, 5, 2),
    "diagonal_copy": lambda L, x: L.diagonal_copy(x, 1, 1, 2),
    "expand_copy": lambda L, x: L.expand_copy(x[:, :1], (3, 5, 4)),
    "unsqueeze_copy": lambda L, x: L.unsqueeze_copy(x, 1),
    "squeeze_copy": lambda L, x: L.squeeze_copy(x[:, :1]),
    "t_copy": lambda L, x: L.t_copy(x[0]),
    "unfold_copy": lambda L, x: L.unfold_copy(x, 1, 2, 2),
    "alias_copy": lambda L, x: L.alias_copy(x),
    "detach_copy": lambda L, x: L.detach_copy(x),
    "split_copy": lambda L, x: L.split_copy(x, 2, 1)[1],
    "split_with_sizes_copy": lambda L, x: L.split_with_sizes_copy(x, [1, 4], 1)[1],
    "unbind_copy": lambda L, x: L.unbind_copy(x, 2)[3],
    "split_with_sizes": lambda L, x: L.split_with_sizes(x, [2, 3], 1)[1],
    "slice_scatter": lambda L, x: L.slice_scatter(x, x[:, 1:5:2] * 3, 1, 1, 5, 2),
    "select_scatter": lambda L, x: L.select_scatter(x, x[:, 2] * 3, 1, 2),
    "diagonal_scatter": lambda L, x: L.diagonal_scatter(x, x.diagonal(1, 1, 2) * 3, 1, 1, 2),
    "as_strided_scatter": lambda L, x: L.as_strided_scatter(
        x, x.as_strided((2, 2), (5, 1)) * 3, (2, 2), (5, 1)
    ),
}


@pytest.mark.parametrize("name", sorted(COPIES))
def test_view_copies_and_scatters(torch, name):
    tx, gx = _pair(torch, X, grad=True)
    t, g = COPIES[name](torch, tx), COPIES[name](gg, gx)
    assert tuple(g.shape) == tuple(t.shape) and tuple(g.stride()) == tuple(t.stride())
    np.testing.assert_allclose(_np(g), _np(t))
    if name == "detach_copy":  # (PyTorch's result requires grad and refuses a backward)
        assert not g.requires_grad
        return
    w = RNG.standard_normal(t.shape)
    (g * gg.tensor(w)).sum().backward()
    if name == "as_strided_scatter":
        # the input's gradient is g where src did not overwrite it: hand-derived, since PyTorch
        # 2.13's AsStridedScatterBackward0 gets it wrong ([0, 0, 2, 0, 0, 0] for g = arange(6),
        # src at flat 0 and 2, where the right answer is [0, 1, 0, 3, 4, 5]); here src = 3 x[those]
        expected = w.copy().reshape(-1)
        expected[[0, 1, 5, 6]] *= 3  # (src is 3 x those elements of the input itself)
        np.testing.assert_allclose(gx.grad.numpy().reshape(-1)[:8], expected[:8])
        return
    (t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy())


def test_predicates_and_small_functions(torch):
    assert gg.is_nonzero(gg.tensor([0.5])) and not gg.is_nonzero(gg.tensor(0))
    for bad in (gg.tensor([1.0, 2.0]), gg.tensor([])):
        with pytest.raises(RuntimeError, match="ambiguous"):
            gg.is_nonzero(bad)
    z = np.array([1 + 0j, 1 + 1j])
    np.testing.assert_array_equal(_np(gg.isreal(gg.tensor(z))), _np(torch.isreal(torch.tensor(z))))
    assert bool(gg.isreal(gg.ones(2)).all()) and gg.is_same_size(gg.ones(2, 3), gg.zeros(2, 3))
    np.testing.assert_allclose(
        _np(gg.rsub(gg.tensor(X), 5, alpha=2)), _np(torch.rsub(torch.tensor(X), 5, alpha=2))
    )
    np.testing.assert_allclose(_np(gg.fill(gg.tensor(X), 3.0)), _np(torch.fill(torch.tensor(X), 3.0)))
    np.testing.assert_allclose(_np(gg.adjoint(gg.tensor(X))), _np(torch.adjoint(torch.tensor(X))))
    assert gg.get_device(gg.ones(1)) == torch.get_device(torch.ones(1)) == -1
    a = np.array([[2.0, 0.0], [1.0, 3.0]])
    b = RNG.standard_normal((2, 3))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ours = gg.triangular_solve(gg.tensor(b), gg.tensor(a), upper=False)
        gg.triangular_solve(gg.tensor(b), gg.tensor(a), upper=False, transpose=True)
        chol = gg.cholesky(gg.tensor(a @ a.T))
        chain = gg.chain_matmul(gg.tensor(a), gg.tensor(a), gg.tensor(b))
    assert [str(w.message).split(" is ")[0] for w in seen] == [
        "torch.triangular_solve",
        "torch.cholesky",
        "torch.chain_matmul",
    ]
    theirs = torch.triangular_solve(torch.tensor(b), torch.tensor(a), upper=False)
    np.testing.assert_allclose(_np(ours.solution), _np(theirs.solution))
    np.testing.assert_allclose(_np(gg.triangular_solve(gg.tensor(b), gg.tensor(a), upper=False, transpose=True)[0]),
                               _np(torch.triangular_solve(torch.tensor(b), torch.tensor(a), upper=False, transpose=True)[0]))  # fmt: skip
    np.testing.assert_allclose(_np(chol), np.linalg.cholesky(a @ a.T))
    np.testing.assert_allclose(_np(chain), a @ a @ b)


def test_draws_switches_and_methods(torch):
    rates = gg.tensor([0.5, 4.0, 20.0]).expand(4000, 3)
    draws = gg.poisson(rates)
    assert draws.dtype == gg.float32 and draws.shape == (4000, 3)
    np.testing.assert_allclose(_np(draws.mean(0)), [0.5, 4.0, 20.0], rtol=0.08)
    counts = gg.binomial(gg.tensor([10.0, 50.0]).expand(4000, 2), gg.tensor([0.3, 0.9]))
    np.testing.assert_allclose(_np(counts.mean(0)), [3.0, 45.0], rtol=0.05)
    assert not gg.is_inference_mode_enabled()
    with gg.inference_mode():
        assert gg.is_inference_mode_enabled() and not gg.ones(1).is_inference()
    for switch in (gg.set_anomaly_enabled, gg.set_warn_always, gg.set_flush_denormal):
        with pytest.raises(TypeError, match="expected a bool"):
            switch([1.0])  # (a truthy list must not turn a process-wide mode on)
    assert not gg.is_anomaly_enabled()
    gg.set_anomaly_enabled(True)
    assert gg.is_anomaly_enabled()
    gg.set_anomaly_enabled(False)
    assert not gg.is_anomaly_enabled() and gg.set_flush_denormal(True) is False
    before = gg.get_default_dtype()
    with pytest.warns(UserWarning, match="set_default_tensor_type is deprecated"):
        gg.set_default_tensor_type("torch.DoubleTensor")
    assert gg.get_default_dtype() == gg.float64
    gg.set_default_dtype(before)
    x, tx = gg.tensor(X), torch.tensor(X)
    assert x.sum_to_size(5, 1).shape == tx.sum_to_size(5, 1).shape
    np.testing.assert_allclose(_np(x.sum_to_size(5, 1)), _np(tx.sum_to_size(5, 1)))
    assert x.permute(2, 0, 1).dim_order() == tx.permute(2, 0, 1).dim_order()
    assert (x.itemsize, x.nbytes) == (tx.itemsize, tx.nbytes)
    assert x.narrow_copy(1, 1, 2).is_contiguous() and x.new_empty_strided((2, 3), (1, 2)).stride() == (1, 2)
    with pytest.raises(RuntimeError, match="sum_to_size"):
        x.sum_to_size(2, 4)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular_left_unitriangular_and_cholesky_upper(torch, left, upper, unit):
    a = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = RNG.standard_normal((2, 3, 4) if left else (2, 4, 3))
    (ta, ga), (tb, gb) = _pair(torch, a, grad=True), _pair(torch, b, grad=True)
    t = torch.linalg.solve_triangular(ta, tb, upper=upper, left=left, unitriangular=unit)
    g = gg.linalg.solve_triangular(ga, gb, upper=upper, left=left, unitriangular=unit)
    np.testing.assert_allclose(_np(g), _np(t), rtol=1e-10)
    w = RNG.standard_normal(t.shape)
    (t * torch.tensor(w)).sum().backward(), (g * gg.tensor(w)).sum().backward()
    for ours, theirs in ((ga, ta), (gb, tb)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    spd = a @ a.transpose(0, 2, 1)
    (tc, gc) = _pair(torch, spd, grad=True)
    t, g = torch.linalg.cholesky(tc, upper=upper), gg.linalg.cholesky(gc, upper=upper)
    np.testing.assert_allclose(_np(g), _np(t), rtol=1e-10)
    wc = RNG.standard_normal((2, 3, 3))
    (t * torch.tensor(wc)).sum().backward(), (g * gg.tensor(wc)).sum().backward()
    np.testing.assert_allclose(gc.grad.numpy(), tc.grad.numpy(), rtol=1e-9, atol=1e-12)


LOSSES = {  # name -> call(lib, t, reduction)
    "triplet_margin_loss": lambda L, t, r: L.triplet_margin_loss(t(X[0]), t(X[1]), t(X[2]), 0.5, 2, 1e-6, True, r),
    "margin_ranking_loss": lambda L, t, r: L.margin_ranking_loss(t(X[0, 0]), t(X[1, 0]), t(np.array([1.0, -1, 1, -1])), 0.1, r),
    "cosine_embedding_loss": lambda L, t, r: L.cosine_embedding_loss(t(X[0]), t(X[1]), t(np.array([1.0, -1, 1, -1, 1])), 0.2, r),
    "hinge_embedding_loss": lambda L, t, r: L.hinge_embedding_loss(t(X[0]), t(np.sign(X[1])), 1.0, r),
    "kl_div": lambda L, t, r: L.kl_div(t(X[0]), t(np.abs(X[1])), r),
    "poisson_nll_loss": lambda L, t, r: L.poisson_nll_loss(t(X[0]), t(np.abs(X[1])), True, False, 1e-8, r),
    "binary_cross_entropy_with_logits": lambda L, t, r: L.binary_cross_entropy_with_logits(t(X[0]), t((X[1] > 0) * 1.0), None, t(np.full(4, 2.0)), r),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_top_level_losses_take_atens_int_reduction(torch, name, reduction):
    t = LOSSES[name](torch, torch.tensor, reduction)
    g = LOSSES[name](gg, gg.tensor, reduction)
    np.testing.assert_allclose(_np(g), _np(t), rtol=1e-10, atol=1e-12)
    with pytest.raises(TypeError, match="reduction as ATen's int"):
        LOSSES[name](gg, gg.tensor, "mean")


@pytest.mark.parametrize("dtype, bound", [("float16", 1e5), ("float32", 1e39), ("float16", -7e4)])
def test_clamp_refuses_a_bound_past_the_dtype_range(torch, dtype, bound):
    with pytest.raises(RuntimeError):
        torch.zeros(2, dtype=getattr(torch, dtype)).clamp(max=bound)
    with pytest.raises(RuntimeError, match="clamp: value .* without overflow"):
        gg.zeros(2, dtype=getattr(gg, dtype)).clamp(max=bound)
    assert gg.zeros(2, dtype=getattr(gg, dtype)).clamp(max=6e4).dtype == getattr(gg, dtype)


LAST = {  # name -> call(lib, t); compared as values (and gradients where differentiable)
    "renorm": lambda L, t: L.renorm(t(X[0]), 2, 0, 1.5),
    "renorm-p1-dim1": lambda L, t: t(X[0]).renorm(1, 1, 2.0),
    "vander": lambda L, t: L.vander(t(X[0, 0])),
    "vander-increasing-N": lambda L, t: L.vander(t(X[0, 0]), N=3, increasing=True),
    "unflatten": lambda L, t: L.unflatten(t(X), 2, (2, 2)),
    "ravel": lambda L, t: L.ravel(t(X).transpose(0, 2)),
    "narrow_copy": lambda L, t: L.narrow_copy(t(X), 1, 1, 3),
    "hardshrink-method": lambda L, t: t(X).hardshrink(0.4),
    "prelu-method": lambda L, t: t(X).prelu(t(np.array([0.2]))),
}


@pytest.mark.parametrize("name", sorted(LAST))
def test_last_functions(torch, name):
    tx, gx = [], []
    grad = not name.startswith("vander")
    t = LAST[name](torch, lambda a: tx.append(torch.tensor(a, requires_grad=grad)) or tx[-1])
    g = LAST[name](gg, lambda a: gx.append(gg.tensor(a, requires_grad=True)) or gx[-1])
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(_np(g), _np(t), rtol=1e-10, atol=1e-12)
    if name.startswith("vander"):  # PyTorch 2.13's vander backward raises (its own in-place cumprod)
        assert gradcheck(lambda x: LAST[name](gg, lambda a: x), (gg.tensor(X[0, 0], requires_grad=True),))
        return
    w = RNG.standard_normal(t.shape)
    (t * torch.tensor(w)).sum().backward(), (g * gg.tensor(w)).sum().backward()
    for a, b in zip(gx, tx, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_last_switches_windows_and_norms(torch):
    for periodic, beta in ((True, 12.0), (False, 5.0)):
        np.testing.assert_allclose(
            _np(gg.kaiser_window(7, periodic, beta)), _np(torch.kaiser_window(7, periodic, beta)), rtol=1e-6
        )
    x = X[0]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        nuc, fro = gg.nuclear_norm(gg.tensor(x)), gg.frobenius_norm(gg.tensor(x), dim=(0, 1))
    assert [str(w.message).split(" is ")[0] for w in seen] == ["torch.nuclear_norm", "torch.frobenius_norm"]
    np.testing.assert_allclose(nuc.item(), np.linalg.norm(x, "nuc"))
    np.testing.assert_allclose(fro.item(), np.linalg.norm(x))
    assert (
        gg.empty_permuted((2, 3, 4), (0, 2, 1)).stride()
        == torch.empty_permuted((2, 3, 4), (0, 2, 1)).stride()
    )
    t = gg.tensor(x)
    assert gg.is_signed(t) and not gg.is_neg(t) and gg.resolve_neg(t) is t and not gg.is_inference(t)
    assert t.cfloat().dtype == gg.complex64 and t.cdouble().dtype == gg.complex128
    assert t.to_sparse_coo().is_sparse


def test_new_inplace_methods_refuse_a_result_the_tensor_cannot_hold(torch):
    # ldexp_ on an integer tensor: PyTorch refuses the float result; a copy would truncate it
    for lib, err in ((torch, RuntimeError), (gg, RuntimeError)):
        a = lib.tensor([1, 2])
        with pytest.raises(err):
            a.ldexp_(lib.tensor([-1]))
        assert a.tolist() == [1, 2]
    a = gg.tensor([12, 18])
    assert a.gcd_(gg.tensor([8, 12])) is a and a.tolist() == [4, 6]
    w = gg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError):
        w.renorm_(2, 0, 0.5)  # a leaf that requires grad, refused as every in-place op is
