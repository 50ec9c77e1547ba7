"""glassgrad.distributions against torch.distributions: the same parameters (float64) in both,
then log_prob, entropy, moments, shapes and KL values must agree, and so must the gradients of
log_prob, entropy, KL and rsample (with the same noise fed to both) w.r.t. the parameters."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import distributions as D

RNG = np.random.default_rng(0)
TOL = dict(rtol=1e-9, atol=1e-12)


def _spd(batch, k):
    a = RNG.standard_normal((*batch, k, k))
    return a @ np.swapaxes(a, -1, -2) + k * np.eye(k)


PARAMS = {  # name -> (builder(lib module, tensors), {param: numpy value}, values for log_prob)
    "Normal": (
        lambda d, t: d.Normal(t["loc"], t["scale"]),
        {"loc": RNG.standard_normal((3, 2)), "scale": RNG.uniform(0.5, 2, (2,))},
        RNG.standard_normal((4, 3, 2)),
    ),
    "Uniform": (
        lambda d, t: d.Uniform(t["low"], t["high"]),
        {"low": RNG.uniform(-1, 0, (3,)), "high": RNG.uniform(0.5, 2, (3,))},
        RNG.uniform(-0.5, 0.5, (2, 3)),
    ),
    "Bernoulli-probs": (
        lambda d, t: d.Bernoulli(probs=t["probs"]),
        {"probs": RNG.uniform(0.05, 0.95, (2, 3))},
        RNG.integers(0, 2, (5, 2, 3)).astype(np.float64),
    ),
    "Bernoulli-logits": (
        lambda d, t: d.Bernoulli(logits=t["logits"]),
        {"logits": RNG.standard_normal((4,)) * 3},
        RNG.integers(0, 2, (4,)).astype(np.float64),
    ),
    "Categorical-probs": (
        lambda d, t: d.Categorical(probs=t["probs"]),
        {"probs": RNG.uniform(0.1, 1, (3, 5))},
        RNG.integers(0, 5, (2, 3)),
    ),
    "Categorical-logits": (
        lambda d, t: d.Categorical(logits=t["logits"]),
        {"logits": RNG.standard_normal((2, 3, 4))},
        RNG.integers(0, 4, (3,)),
    ),
    "MVN-cov": (
        lambda d, t: d.MultivariateNormal(t["loc"], covariance_matrix=t["cov"]),
        {"loc": RNG.standard_normal((2, 3)), "cov": _spd((2,), 3)},
        RNG.standard_normal((4, 2, 3)),
    ),
    "MVN-tril-broadcast": (
        lambda d, t: d.MultivariateNormal(t["loc"], scale_tril=t["tril"]),
        {"loc": RNG.standard_normal((3,)), "tril": np.tril(RNG.uniform(0.2, 1, (2, 3, 3))) + np.eye(3)},
        RNG.standard_normal((2, 3)),
    ),
    "Independent-Normal": (
        lambda d, t: d.Independent(d.Normal(t["loc"], t["scale"]), 1),
        {"loc": RNG.standard_normal((2, 4)), "scale": RNG.uniform(0.5, 2, (2, 4))},
        RNG.standard_normal((3, 2, 4)),
    ),
}


def _build(lib, name):
    build, params, value = PARAMS[name]
    tensors = {k: lib.tensor(v, requires_grad=True) for k, v in params.items()}
    dist = build(lib.distributions if lib is not gg else D, tensors)
    vdtype = lib.int64 if name.startswith("Categorical") else lib.float64
    return dist, tensors, lib.tensor(value, dtype=vdtype)


def _np(t):
    return t._data if isinstance(t, gg.Tensor) else t.detach().numpy()


def _grads(lib, out, tensors):
    for t in tensors.values():
        t.grad = None
    out.sum().backward()
    return {k: _np(t.grad) for k, t in tensors.items() if t.grad is not None}


def _same_grads(ours, theirs):
    assert ours.keys() == theirs.keys() and ours
    for k in theirs:
        np.testing.assert_allclose(ours[k], theirs[k], **TOL, err_msg=k)


@pytest.mark.parametrize("name", list(PARAMS))
def test_values_and_shapes_match_torch(torch, name):
    ours, _, v = _build(gg, name)
    theirs, _, tv = _build(torch, name)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    for sample_shape in [(), (5,), (2, 3)]:
        assert tuple(ours.sample(sample_shape).shape) == tuple(theirs.sample(sample_shape).shape)
    assert ours.sample().dtype.name.split(".")[-1] == str(theirs.sample().dtype).split(".")[-1]
    np.testing.assert_allclose(_np(ours.log_prob(v)), _np(theirs.log_prob(tv)), **TOL)
    np.testing.assert_allclose(_np(ours.entropy()), _np(theirs.entropy()), **TOL)
    for attr in ("mean", "mode", "stddev", "variance"):
        np.testing.assert_allclose(_np(getattr(ours, attr)), _np(getattr(theirs, attr)), **TOL, err_msg=attr)
    for attr in ("probs", "logits", "covariance_matrix", "scale_tril"):
        if hasattr(theirs, attr):
            np.testing.assert_allclose(
                _np(getattr(ours, attr)), _np(getattr(theirs, attr)), **TOL, err_msg=attr
            )


@pytest.mark.parametrize("name", list(PARAMS))
def test_gradients_of_log_prob_and_entropy_match_torch(torch, name):
    ours, params, v = _build(gg, name)
    theirs, tparams, tv = _build(torch, name)
    _same_grads(_grads(gg, ours.log_prob(v), params), _grads(torch, theirs.log_prob(tv), tparams))
    ours, params, _ = _build(gg, name)
    theirs, tparams, _ = _build(torch, name)
    _same_grads(_grads(gg, ours.entropy(), params), _grads(torch, theirs.entropy(), tparams))


RSAMPLE = ["Normal", "Uniform", "MVN-cov", "MVN-tril-broadcast", "Independent-Normal"]


@pytest.mark.parametrize("name", RSAMPLE)
def test_rsample_with_the_same_noise_matches_torch(torch, monkeypatch, name):
    ours, params, _ = _build(gg, name)
    theirs, tparams, _ = _build(torch, name)
    shape = (3, *theirs.batch_shape, *theirs.event_shape)
    noise = RNG.uniform(0, 1, shape) if name == "Uniform" else RNG.standard_normal(shape)

    def fixed(*args, **kwargs):
        return torch.tensor(noise)

    monkeypatch.setattr(torch.distributions.normal, "_standard_normal", fixed)
    monkeypatch.setattr(torch.distributions.multivariate_normal, "_standard_normal", fixed)
    monkeypatch.setattr(torch, "rand", fixed)
    monkeypatch.setattr(D.utils, "standard_normal", lambda shape, dtype: gg.tensor(noise))
    monkeypatch.setattr(D.utils, "standard_uniform", lambda shape, dtype: gg.tensor(noise))
    x, tx = ours.rsample((3,)), theirs.rsample((3,))
    np.testing.assert_allclose(_np(x), _np(tx), **TOL)
    _same_grads(_grads(gg, (x**2).sum(-1), params), _grads(torch, (tx**2).sum(-1), tparams))


KL_PAIRS = [
    (
        "Normal",
        lambda d, t: d.Normal(t["loc"], t["scale"]),
        lambda d, t: d.Normal(t["loc"] * 0.5, t["scale"] + 1),
    ),
    (
        "Bernoulli",
        lambda d, t: d.Bernoulli(probs=t["probs"]),
        lambda d, t: d.Bernoulli(logits=t["probs"] * 2 - 1),
    ),
    (
        "Categorical",
        lambda d, t: d.Categorical(probs=t["probs"]),
        lambda d, t: d.Categorical(logits=t["probs"] * 3),
    ),
    (
        "Uniform",
        lambda d, t: d.Uniform(t["low"], t["high"]),
        lambda d, t: d.Uniform(t["low"] - 1, t["high"] + 0.5),
    ),
    (
        "MVN",
        lambda d, t: d.MultivariateNormal(t["loc"], covariance_matrix=t["cov"]),
        lambda d, t: d.MultivariateNormal(t["loc"] * 2 + 1, scale_tril=t["tril"]),
    ),
    (
        "Independent",
        lambda d, t: d.Independent(d.Normal(t["loc"], t["scale"]), 1),
        lambda d, t: d.Independent(d.Normal(t["loc"] + 1, t["scale"] * 2), 1),
    ),
]
KL_PARAMS = {
    "Normal": {"loc": RNG.standard_normal((3,)), "scale": RNG.uniform(0.5, 2, (3,))},
    "Bernoulli": {"probs": RNG.uniform(0.05, 0.95, (4,))},
    "Categorical": {"probs": RNG.uniform(0.1, 1, (2, 4))},
    "Uniform": {"low": RNG.uniform(-1, 0, (3,)), "high": RNG.uniform(0.5, 2, (3,))},
    "MVN": {
        "loc": RNG.standard_normal((2, 3)),
        "cov": _spd((2,), 3),
        "tril": np.tril(RNG.uniform(0.2, 1, (3, 3))) + np.eye(3),
    },
    "Independent": {"loc": RNG.standard_normal((2, 3)), "scale": RNG.uniform(0.5, 2, (2, 3))},
}


@pytest.mark.parametrize(("name", "make_p", "make_q"), KL_PAIRS, ids=[p[0] for p in KL_PAIRS])
def test_kl_divergence_and_its_gradients_match_torch(torch, name, make_p, make_q):
    def run(lib, dmod):
        t = {k: lib.tensor(v, requires_grad=True) for k, v in KL_PARAMS[name].items()}
        kl = dmod.kl_divergence(make_p(dmod, t), make_q(dmod, t))
        value = _np(kl).copy()
        return value, _grads(lib, kl, t)

    ours, theirs = run(gg, D), run(torch, torch.distributions)
    np.testing.assert_allclose(ours[0], theirs[0], **TOL)
    assert np.all(ours[0] > 0)
    _same_grads(ours[1], theirs[1])


def test_kl_edge_cases_match_torch(torch):
    """Zero masses: 0 log 0 = 0, and mass where q has none gives +∞; disjoint uniforms give +∞."""
    cases = [
        lambda d, lib: d.kl_divergence(d.Bernoulli(probs=lib.tensor([0.0, 1.0, 0.3])), d.Bernoulli(probs=lib.tensor([0.5, 0.0, 1.0]))),
        lambda d, lib: d.kl_divergence(d.Categorical(probs=lib.tensor([0.0, 0.5, 0.5])), d.Categorical(probs=lib.tensor([0.5, 0.5, 0.0]))),
        lambda d, lib: d.kl_divergence(d.Categorical(probs=lib.tensor([0.0, 0.5, 0.5])), d.Categorical(probs=lib.tensor([0.2, 0.3, 0.5]))),
        lambda d, lib: d.kl_divergence(d.Uniform(lib.tensor([0.0, 0.0]), lib.tensor([1.0, 3.0])), d.Uniform(lib.tensor([-1.0, 0.0]), lib.tensor([2.0, 2.0]))),
    ]  # fmt: skip
    for case in cases:
        np.testing.assert_allclose(_np(case(D, gg)), _np(case(torch.distributions, torch)), rtol=1e-6)


def test_uniform_log_prob_outside_without_validation_is_minus_inf(torch):
    for lib, d in ((gg, D), (torch, torch.distributions)):
        u = d.Uniform(lib.tensor([0.0]), lib.tensor([1.0]), validate_args=False)
        assert _np(u.log_prob(lib.tensor([1.5])))[0] == -np.inf


ERRORS = [
    lambda d, lib: d.Normal(lib.tensor([0.0]), lib.tensor([-1.0])),
    lambda d, lib: d.Normal(lib.tensor([0.0]), lib.tensor([1.0])).log_prob(lib.tensor([float("nan")])),
    lambda d, lib: d.Bernoulli(probs=lib.tensor([1.5])),
    lambda d, lib: d.Bernoulli(probs=lib.tensor([0.5]), logits=lib.tensor([0.0])),
    lambda d, lib: d.Bernoulli(lib.tensor([0.5])).log_prob(lib.tensor([2.0])),
    lambda d, lib: d.Categorical(probs=lib.tensor([0.5, -0.5])),
    lambda d, lib: d.Categorical(logits=lib.tensor([0.0, 1.0])).log_prob(lib.tensor(2)),
    lambda d, lib: d.Categorical(),
    lambda d, lib: d.Uniform(lib.tensor([1.0]), lib.tensor([0.0])),
    lambda d, lib: d.Uniform(lib.tensor([0.0]), lib.tensor([1.0])).log_prob(lib.tensor([1.5])),
    lambda d, lib: d.MultivariateNormal(lib.zeros(2), covariance_matrix=-lib.eye(2)),
    lambda d, lib: d.MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2, 2)),
    lambda d, lib: d.MultivariateNormal(lib.zeros(2)),
    lambda d, lib: d.MultivariateNormal(lib.zeros(2), lib.eye(2)).log_prob(lib.zeros(3)),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # probs summing to 0 divide by 0 before the check
@pytest.mark.parametrize("make", ERRORS)
def test_invalid_arguments_raise_value_error_like_torch(torch, make):
    with pytest.raises(ValueError):
        make(torch.distributions, torch)
    with pytest.raises(ValueError, match=r"\w+"):
        make(D, gg)


def test_validation_can_be_turned_off():
    d = D.Normal(gg.tensor([0.0]), gg.tensor([-1.0]), validate_args=False)
    assert d.scale.item() == -1.0
    D.Distribution.set_default_validate_args(False)
    try:
        D.Bernoulli(probs=gg.tensor([1.5]))
    finally:
        D.Distribution.set_default_validate_args(True)


def test_samples_follow_the_distribution():
    gg.manual_seed(0)
    n = D.Normal(gg.tensor([1.0, -2.0]), gg.tensor([0.5, 2.0])).sample((20000,))
    np.testing.assert_allclose(n._data.mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(n._data.std(0), [0.5, 2.0], rtol=0.03)
    c = D.Categorical(probs=gg.tensor([0.1, 0.6, 0.3])).sample((20000,))
    assert c.dtype == gg.int64
    np.testing.assert_allclose(np.bincount(c._data, minlength=3) / 20000, [0.1, 0.6, 0.3], atol=0.015)
    b = D.Bernoulli(probs=gg.tensor([0.2, 0.9])).sample((20000,))
    np.testing.assert_allclose(b._data.mean(0), [0.2, 0.9], atol=0.015)
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    m = D.MultivariateNormal(
        gg.tensor([1.0, 0.0]), covariance_matrix=gg.tensor(cov, dtype=gg.float32)
    ).sample((20000,))
    np.testing.assert_allclose(np.cov(m._data.T), cov, atol=0.06)
    u = D.Uniform(gg.tensor(-1.0), gg.tensor(3.0)).sample((20000,))
    assert u._data.min() >= -1 and u._data.max() < 3 and abs(u._data.mean() - 1) < 0.05
    assert not n.requires_grad


def test_policy_gradient_recipe_flows_to_the_network():
    """The REINFORCE step a port runs unchanged: sample an action, weight its log-probability."""
    policy = gg.nn.Linear(4, 3)
    state = gg.randn(8, 4)
    dist = D.Categorical(logits=policy(state))
    action = dist.sample()
    loss = -(dist.log_prob(action) * gg.randn(8)).mean() - 0.01 * dist.entropy().mean()
    loss.backward()
    assert policy.weight.grad is not None and np.abs(policy.weight.grad._data).sum() > 0


def test_register_kl_picks_the_most_specific_pair():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return gg.tensor(123.0)

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 123.0
    assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 0.0
    with pytest.raises(NotImplementedError, match=r"no closed form is registered for \(Normal, Bernoulli\)"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.5))
