"""Review of round 30's additions (reviewer A): vmap/is_grads_batched, the top-level layer
functions, heaviside, nanquantile's q-gradient and cov's edges, each against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg


def _np(t):
    return t.detach().numpy()


def test_vmap_out_dims_one_tuple_for_a_lone_tensor(torch):
    x = np.arange(24.0).reshape(2, 3, 4)
    want = torch.vmap(lambda v: v * 2, out_dims=(1,))(torch.tensor(x))
    got = gg.vmap(lambda v: v * 2, out_dims=(1,))(gg.tensor(x))
    assert tuple(got.shape) == tuple(want.shape) == (3, 2, 4)
    np.testing.assert_array_equal(_np(got), want.numpy())


def test_is_grads_batched_materializes_unused_inputs_unbatched(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        z = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        seeds = lib.eye(3, dtype=lib.float64)
        return lib.autograd.grad(x**2, [x, z], seeds, is_grads_batched=True, materialize_grads=True)

    want, got = run(torch), run(gg)
    for w, g in zip(want, got, strict=True):
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_array_equal(_np(g), w.numpy())


def test_is_grads_batched_empty_batch_raises_index_error(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        return lib.autograd.grad(x**2, x, lib.ones(0, 2, dtype=lib.float64), is_grads_batched=True)

    with pytest.raises(IndexError):
        run(torch)
    with pytest.raises(IndexError, match="is_grads_batched"):
        run(gg)


@pytest.mark.parametrize("padding_idx", [-2, -1, 2])
def test_top_level_embedding_negative_padding_idx_is_none(torch, padding_idx):
    w = np.arange(12.0).reshape(4, 3)
    idx = [0, 2, 3, 2]
    grads = []
    for lib in (torch, gg):
        wt = lib.tensor(w, requires_grad=True)
        (g,) = lib.autograd.grad(lib.embedding(wt, lib.tensor(idx), padding_idx).sum(), wt)
        grads.append(_np(g))
    np.testing.assert_array_equal(grads[1], grads[0])


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 2, 1, 2, 2)])
def test_feature_dropout_any_rank_from_two(torch, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_array_equal(
        _np(gg.feature_dropout(gg.tensor(x), 0.5, False)),
        torch.feature_dropout(torch.tensor(x), 0.5, False).numpy(),
    )
    gg.manual_seed(0)
    y = _np(gg.feature_dropout(gg.ones(*shape, dtype=gg.float64), 0.5, True))
    assert y.shape == shape
    # one keep-or-drop per (sample, channel): constant over the remaining dims, 0 or 1 / (1 - p)
    slabs = y.reshape(shape[0], shape[1], -1)
    assert np.all(slabs == slabs[..., :1])
    assert set(np.unique(y)) <= {0.0, 2.0}
    with pytest.raises(ValueError, match="feature_dropout"):
        gg.feature_dropout(gg.ones(3), 0.5, True)


def test_fill_refuses_a_value_tensor_with_dims(torch):
    with pytest.raises(RuntimeError):
        torch.fill(torch.ones(2), torch.tensor([3.0, 4.0]))
    with pytest.raises(RuntimeError, match="fill"):
        gg.fill(gg.ones(2), gg.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(_np(gg.fill(gg.ones(2), gg.tensor(3.0))), [3.0, 3.0])


@pytest.mark.parametrize(
    ("x", "v", "dtype"),
    [([-1, 0, 2], [7], "int64"), ([-1, 0, 2], [7], "int8"), ([True, False], [True], "bool")],
)
def test_heaviside_keeps_integer_and_bool_dtypes(torch, x, v, dtype):
    want = torch.heaviside(
        torch.tensor(x, dtype=getattr(torch, dtype)), torch.tensor(v, dtype=getattr(torch, dtype))
    )
    got = gg.heaviside(gg.tensor(x, dtype=getattr(gg, dtype)), gg.tensor(v, dtype=getattr(gg, dtype)))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert got.tolist() == want.tolist()


def test_nanquantile_q_gradient_with_an_all_nan_slice(torch):
    x = np.array([[1.0, 2.0, 3.0], [np.nan] * 3, [np.nan, 1.0, 2.0]])
    out = []
    for lib in (torch, gg):
        xt = lib.tensor(x, requires_grad=True)
        q = lib.tensor([0.25, 0.5, 0.9], dtype=lib.float64, requires_grad=True)
        y = lib.nanquantile(xt, q, 1)
        out.append([_np(t) for t in lib.autograd.grad(lib.nan_to_num(y).sum(), [xt, q])])
    for w, g in zip(out[0], out[1], strict=True):
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_cov_edges(torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6))
    aw = rng.random(6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a64 = [1.0, 1.0, 2.0]
        pairs = [
            lambda lib: lib.cov(lib.tensor([[1.0, 2.0, 4.0]])),  # one variable: 0-d
            lambda lib: lib.cov(lib.tensor(x, dtype=lib.float32), aweights=lib.tensor(aw)),  # float64
            lambda lib: lib.cov(lib.tensor([[1, 2, 4]]), aweights=lib.tensor(a64, dtype=lib.float64)),
            lambda lib: lib.cov(lib.tensor(x), fweights=lib.tensor([1, 2, 0, 3, 1, 1]), correction=20),
            lambda lib: lib.corrcoef(lib.tensor([[1.0, 2.0, 4.0]])),
        ]
        for make in pairs:
            want, got = make(torch), make(gg)
            assert tuple(got.shape) == tuple(want.shape)
            assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
            np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError):
        torch.cov(torch.tensor([[1.0, 2.0, 4.0]]), aweights=torch.tensor([1, 1, 2]))
    with pytest.raises(TypeError, match="aweights"):
        gg.cov(gg.tensor([[1.0, 2.0, 4.0]]), aweights=gg.tensor([1, 1, 2]))


def _dists(lib):
    d, f64 = lib.distributions, lib.float64
    return [
        (d.Uniform(lib.tensor([0.0, 1.0], dtype=f64), 2.0), lib.tensor([0.5, 1.5], dtype=f64)),
        (d.Bernoulli(probs=lib.tensor([0.2, 0.7], dtype=f64)), lib.tensor([0.0, 1.0], dtype=f64)),
        (d.Bernoulli(logits=lib.tensor([0.2, 0.7], dtype=f64)), lib.tensor([0.0, 1.0], dtype=f64)),
        (d.Categorical(probs=lib.tensor([[0.2, 0.8], [0.5, 0.5]], dtype=f64)), lib.tensor([0, 1])),
        (d.OneHotCategorical(logits=lib.tensor([0.2, 0.8], dtype=f64)), lib.tensor([0.0, 1.0], dtype=f64)),
        (
            d.MultivariateNormal(lib.zeros(2, 3, dtype=f64), 2 * lib.eye(3, dtype=f64)),
            lib.tensor([1.0, 2.0, 3.0], dtype=f64),
        ),
    ]


def test_expand_of_uniform_bernoulli_categorical_onehot_mvn(torch):
    for (td, tv), (gd, gv) in zip(_dists(torch), _dists(gg), strict=True):
        te, ge = td.expand((4, *td.batch_shape[-1:])), gd.expand((4, *gd.batch_shape[-1:]))
        assert type(ge).__name__ == type(te).__name__
        assert tuple(ge.batch_shape) == tuple(te.batch_shape)
        assert tuple(ge.event_shape) == tuple(te.event_shape)
        assert tuple(ge.sample((3,)).shape) == tuple(te.sample((3,)).shape)
        np.testing.assert_allclose(_np(ge.log_prob(gv)), te.log_prob(tv).numpy(), rtol=1e-12)
        np.testing.assert_allclose(_np(ge.entropy()), te.entropy().numpy(), rtol=1e-12)


def test_logistic_from_a_scalar_uniform_and_a_vector_affine(torch):
    # TransformedDistribution expands the base to the batch the transforms widen it to
    def run(lib):
        d, t = lib.distributions, lib.distributions.transforms
        base = d.Uniform(lib.tensor(0.0, dtype=lib.float64), lib.tensor(1.0, dtype=lib.float64))
        loc = lib.tensor([0.0, 1.0, -1.0], dtype=lib.float64)
        dist = d.TransformedDistribution(base, [t.SigmoidTransform().inv, t.AffineTransform(loc, 2.0)])
        value = lib.tensor([0.1, 0.2, 0.3], dtype=lib.float64)
        return tuple(dist.batch_shape), dist.log_prob(value), tuple(dist.expand((2, 3)).batch_shape)

    (tb, tl, te), (gb, gl, ge) = run(torch), run(gg)
    assert (gb, ge) == (tb, te)
    np.testing.assert_allclose(_np(gl), tl.numpy(), rtol=1e-12)


def test_dim_order_with_size_one_dims_and_ties(torch):
    def layouts(lib):
        return [
            lib.empty(2, 1, 4, 5).to(memory_format=lib.channels_last),
            lib.empty(1, 2, 3, 1, 1).permute(0, 1, 3, 2, 4),
            lib.empty(3, 1, 1, 2, 1).permute(1, 0, 2, 3, 4),
            lib.empty(2, 3, 4).transpose(0, 2),
            lib.empty(3, 1).expand(3, 4),
        ]

    for t, g in zip(layouts(torch), layouts(gg), strict=True):
        assert tuple(g.stride()) == tuple(t.stride())
        assert tuple(g.dim_order()) == tuple(t.dim_order())
