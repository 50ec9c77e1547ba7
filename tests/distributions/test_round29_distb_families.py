"""Round 29 families (Poisson, Geometric, NegativeBinomial, Multinomial, MixtureSameFamily,
LowRankMultivariateNormal, RelaxedBernoulli, RelaxedOneHotCategorical, ContinuousBernoulli)
against torch.distributions in float64: shapes, log_prob, entropy, moments and their gradients."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import distributions as D

RNG = np.random.default_rng(29)
TOL = dict(rtol=1e-9, atol=1e-11)


def _mixture(d, t):
    comp = d.Independent(d.Normal(t["loc"], t["scale"]), 1)
    return d.MixtureSameFamily(d.Categorical(logits=t["w"]), comp)


CASES = {  # name -> (builder, params, log_prob value, attrs to compare)
    "Poisson": (
        lambda d, t: d.Poisson(t["rate"]),
        {"rate": RNG.uniform(0.5, 4, (2, 3))},
        RNG.integers(0, 6, (4, 2, 3)).astype(np.float64),
        ("mean", "mode", "variance"),
    ),
    "Geometric-probs": (
        lambda d, t: d.Geometric(probs=t["p"]),
        {"p": RNG.uniform(0.1, 0.9, (3,))},
        RNG.integers(0, 6, (2, 3)).astype(np.float64),
        ("mean", "mode", "variance", "logits", "entropy"),
    ),
    "Geometric-logits": (
        lambda d, t: d.Geometric(logits=t["l"]),
        {"l": RNG.standard_normal((2, 2))},
        RNG.integers(0, 6, (2, 2)).astype(np.float64),
        ("mean", "variance", "probs", "entropy"),
    ),
    "NegativeBinomial": (
        lambda d, t: d.NegativeBinomial(t["r"], probs=t["p"]),
        {"r": RNG.uniform(0.5, 5, (3,)), "p": RNG.uniform(0.1, 0.8, (2, 3))},
        RNG.integers(0, 8, (4, 2, 3)).astype(np.float64),
        ("mean", "mode", "variance", "logits"),
    ),
    "NegativeBinomial-logits": (
        lambda d, t: d.NegativeBinomial(t["r"], logits=t["l"]),
        {"r": RNG.uniform(0.5, 5, (3,)), "l": RNG.standard_normal((3,))},
        RNG.integers(0, 8, (3,)).astype(np.float64),
        ("mean", "variance", "probs"),
    ),
    "Multinomial": (
        lambda d, t: d.Multinomial(5, probs=t["p"]),
        {"p": RNG.uniform(0.1, 1, (2, 4))},
        np.array([[2.0, 0, 1, 2], [0, 0, 5, 0]]),
        ("mean", "variance", "logits", "probs", "entropy"),
    ),
    "Multinomial-logits": (
        lambda d, t: d.Multinomial(3, logits=t["l"]),
        {"l": RNG.standard_normal((3,))},
        np.array([[1.0, 1, 1], [3, 0, 0]]),
        ("mean", "variance", "probs", "entropy"),
    ),
    "MixtureSameFamily": (
        _mixture,
        {
            "w": RNG.standard_normal((2, 3)),
            "loc": RNG.standard_normal((2, 3, 4)),
            "scale": RNG.uniform(0.5, 2, (2, 3, 4)),
        },
        RNG.standard_normal((5, 2, 4)),
        ("mean", "variance"),
    ),
    "MixtureSameFamily-scalar": (
        lambda d, t: d.MixtureSameFamily(d.Categorical(probs=t["w"]), d.Normal(t["loc"], t["scale"])),
        {
            "w": RNG.uniform(0.1, 1, (3,)),
            "loc": RNG.standard_normal((3,)),
            "scale": RNG.uniform(0.5, 2, (3,)),
        },
        RNG.standard_normal((6,)),
        ("mean", "variance", "cdf"),
    ),
    "LowRankMVN": (
        lambda d, t: d.LowRankMultivariateNormal(t["loc"], t["W"], t["D"]),
        {
            "loc": RNG.standard_normal((2, 3)),
            "W": RNG.standard_normal((3, 2)),
            "D": RNG.uniform(0.5, 2, (2, 3)),
        },
        RNG.standard_normal((4, 2, 3)),
        ("mean", "mode", "variance", "covariance_matrix", "scale_tril", "precision_matrix", "entropy"),
    ),
    "ContinuousBernoulli": (
        lambda d, t: d.ContinuousBernoulli(probs=t["p"]),
        # values on both sides of the Taylor band around 1/2, and inside it
        {"p": np.array([0.1, 0.3, 0.4995, 0.5, 0.5005, 0.8, 0.97])},
        RNG.uniform(0, 1, (2, 7)),
        ("mean", "variance", "stddev", "logits", "entropy", "cdf", "icdf"),
    ),
    "ContinuousBernoulli-logits": (
        lambda d, t: d.ContinuousBernoulli(logits=t["l"]),
        {"l": RNG.standard_normal((2, 3)) * 2},
        RNG.uniform(0, 1, (2, 3)),
        ("mean", "variance", "probs", "entropy", "cdf", "icdf"),
    ),
    "RelaxedBernoulli": (
        lambda d, t: d.RelaxedBernoulli(t["T"], probs=t["p"]),
        {"T": np.array(0.7), "p": RNG.uniform(0.1, 0.9, (2, 3))},
        RNG.uniform(0.05, 0.95, (4, 2, 3)),
        ("logits", "temperature"),
    ),
    "LogitRelaxedBernoulli": (
        lambda d, t: d.relaxed_bernoulli.LogitRelaxedBernoulli(t["T"], logits=t["l"]),
        {"T": np.array(1.3), "l": RNG.standard_normal((3,))},
        RNG.standard_normal((2, 3)),
        ("probs",),
    ),
    "RelaxedOneHotCategorical": (
        lambda d, t: d.RelaxedOneHotCategorical(t["T"], logits=t["l"]),
        {"T": np.array(0.5), "l": RNG.standard_normal((2, 4))},
        RNG.dirichlet(np.ones(4), (3, 2)),
        ("probs", "logits", "temperature"),
    ),
}


def _build(lib, name):
    build, params, value, _ = CASES[name]
    tensors = {k: lib.tensor(v, requires_grad=True) for k, v in params.items()}
    return build(lib.distributions if lib is not gg else D, tensors), tensors, lib.tensor(value)


def _np(t):
    return np.asarray(t._data if isinstance(t, gg.Tensor) else t.detach().numpy())


def _attr(dist, name, lib, value):
    if name in ("entropy",):
        return dist.entropy()
    if name == "cdf":
        return dist.cdf(value)
    if name == "icdf":
        return dist.icdf(lib.tensor(np.clip(_np(value), 0, 1)))
    return getattr(dist, name)


def _grads(out, tensors):
    for t in tensors.values():
        t.grad = None
    out.sum().backward()
    return {k: _np(t.grad) for k, t in tensors.items() if t.grad is not None}


@pytest.mark.parametrize("name", list(CASES))
def test_shapes_log_prob_and_moments_match_torch(torch, name):
    ours, _, v = _build(gg, name)
    theirs, _, tv = _build(torch, name)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    assert ours.has_enumerate_support == theirs.has_enumerate_support
    for shape in [(), (5,), (2, 3)]:
        s, ts = ours.sample(shape), theirs.sample(shape)
        assert tuple(s.shape) == tuple(ts.shape)
        assert str(s.dtype).split(".")[-1] == str(ts.dtype).split(".")[-1]
    np.testing.assert_allclose(_np(ours.log_prob(v)), _np(theirs.log_prob(tv)), **TOL)
    for attr in CASES[name][3]:
        np.testing.assert_allclose(
            _np(_attr(ours, attr, gg, v)), _np(_attr(theirs, attr, torch, tv)), **TOL, err_msg=attr
        )


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_match_torch(torch, name):
    outs = ["log_prob"] + [a for a in ("entropy", "mean", "variance") if a in CASES[name][3]]
    for what in outs:
        ours, params, v = _build(gg, name)
        theirs, tparams, tv = _build(torch, name)
        if what == "log_prob":
            g, tg = _grads(ours.log_prob(v), params), _grads(theirs.log_prob(tv), tparams)
        else:
            g, tg = _grads(_attr(ours, what, gg, v), params), _grads(_attr(theirs, what, torch, tv), tparams)
        assert g.keys() == tg.keys() and g, what
        for k in tg:
            np.testing.assert_allclose(g[k], tg[k], **TOL, err_msg=f"{what} d/d{k}")


@pytest.mark.parametrize("name", list(CASES))
def test_expand_and_repr_match_torch(torch, name):
    ours, _, _ = _build(gg, name)
    theirs, _, _ = _build(torch, name)
    batch = (4,) + tuple(theirs.batch_shape)
    e, te = ours.expand(batch), theirs.expand(batch)
    assert type(e) is type(ours) and tuple(e.batch_shape) == tuple(te.batch_shape)
    assert tuple(e.sample().shape) == tuple(te.sample().shape)
    tx = te.sample()
    np.testing.assert_allclose(_np(e.log_prob(gg.tensor(tx.numpy()))), _np(te.log_prob(tx)), **TOL)
    assert (
        repr(ours).replace("torch.Size(", "").replace("])", "]")
        == repr(theirs).replace("torch.Size(", "").replace("])", "]")
        or repr(ours).split("(")[0] == repr(theirs).split("(")[0]
    )


def test_enumerate_support_is_absent_like_torch(torch):
    for name in ("Poisson", "Geometric-probs", "Multinomial"):
        ours, _, _ = _build(gg, name)
        with pytest.raises(NotImplementedError):
            ours.enumerate_support()


def test_mixture_expand_with_an_expandable_component_matches_torch(torch):
    w, rate = RNG.standard_normal((3,)), RNG.uniform(0.5, 4, (3,))
    ours = D.MixtureSameFamily(D.Categorical(logits=gg.tensor(w)), D.Poisson(gg.tensor(rate))).expand((2,))
    td = torch.distributions
    theirs = td.MixtureSameFamily(
        td.Categorical(logits=torch.tensor(w)), td.Poisson(torch.tensor(rate))
    ).expand((2,))
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape) == (2,)
    v = np.array([[0.0, 3.0], [1.0, 5.0]])
    np.testing.assert_allclose(_np(ours.log_prob(gg.tensor(v))), _np(theirs.log_prob(torch.tensor(v))), **TOL)
    assert tuple(ours.sample((4,)).shape) == tuple(theirs.sample((4,)).shape)
