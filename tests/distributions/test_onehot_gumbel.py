"""OneHotCategorical, OneHotCategoricalStraightThrough and Gumbel against torch.distributions
(float64 parameters in both): values, shapes, moments, gradients, rsample from the same noise,
validation errors, and sample frequencies from glassgrad's own generator."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import distributions as D
from glassgrad.autograd import gradcheck

RNG = np.random.default_rng(7)
TOL = dict(rtol=1e-9, atol=1e-12)
LOGITS = RNG.standard_normal((2, 4))
PROBS = RNG.uniform(0.1, 1.0, (3, 5))
LOC, SCALE = RNG.standard_normal((2, 3)), RNG.uniform(0.5, 2.0, (3,))


def _np(t):
    return t._data if isinstance(t, gg.Tensor) else t.detach().numpy()


def test_import_paths_match_torch():
    from glassgrad.distributions.gumbel import Gumbel
    from glassgrad.distributions.one_hot_categorical import (
        OneHotCategorical,
        OneHotCategoricalStraightThrough,
    )

    assert (Gumbel, OneHotCategorical, OneHotCategoricalStraightThrough) == (
        D.Gumbel,
        D.OneHotCategorical,
        D.OneHotCategoricalStraightThrough,
    )


@pytest.mark.parametrize("form", ["logits", "probs"])
def test_one_hot_categorical_matches_torch(torch, form):
    p = LOGITS if form == "logits" else PROBS
    ours = D.OneHotCategorical(**{form: gg.tensor(p)})
    theirs = torch.distributions.OneHotCategorical(**{form: torch.tensor(p)})
    k = p.shape[-1]
    assert (tuple(ours.batch_shape), tuple(ours.event_shape)) == (tuple(theirs.batch_shape), (k,))
    for shape in [(), (5,), (2, 3)]:
        assert tuple(ours.sample(shape).shape) == tuple(theirs.sample(shape).shape)
    assert ours.sample().dtype == gg.float64
    value = np.eye(k)[RNG.integers(0, k, (6, *p.shape[:-1]))]  # (6, batch, K) one-hot
    np.testing.assert_allclose(
        _np(ours.log_prob(gg.tensor(value))), _np(theirs.log_prob(torch.tensor(value))), **TOL
    )
    for attr in ("probs", "logits", "mean", "mode", "variance", "stddev"):
        np.testing.assert_allclose(_np(getattr(ours, attr)), _np(getattr(theirs, attr)), **TOL, err_msg=attr)
    np.testing.assert_allclose(_np(ours.entropy()), _np(theirs.entropy()), **TOL)
    for expand in (True, False):
        np.testing.assert_array_equal(
            _np(ours.enumerate_support(expand)), _np(theirs.enumerate_support(expand))
        )


def test_one_hot_categorical_gradients_match_torch(torch):
    value = np.eye(4)[[1, 3]]
    lg, lt = gg.tensor(LOGITS, requires_grad=True), torch.tensor(LOGITS, requires_grad=True)
    (
        D.OneHotCategorical(logits=lg).log_prob(gg.tensor(value)) * 2
        + D.OneHotCategorical(logits=lg).entropy()
    ).sum().backward()
    d = torch.distributions.OneHotCategorical(logits=lt)
    (d.log_prob(torch.tensor(value)) * 2 + d.entropy()).sum().backward()
    np.testing.assert_allclose(lg.grad._data, lt.grad.numpy(), **TOL)


def test_straight_through_rsample_is_one_hot_with_the_probs_gradient(torch):
    w = RNG.standard_normal((3, 2, 4))
    lg, lt = gg.tensor(LOGITS, requires_grad=True), torch.tensor(LOGITS, requires_grad=True)
    x = D.OneHotCategoricalStraightThrough(logits=lg).rsample((3,))
    assert D.OneHotCategoricalStraightThrough.has_rsample and x.requires_grad
    np.testing.assert_allclose(x._data.sum(-1), 1.0)  # forward: hard one-hot samples
    assert set(np.unique(x._data)) <= {0.0, 1.0}
    (x * gg.tensor(w)).sum().backward()
    (
        torch.distributions.OneHotCategoricalStraightThrough(logits=lt).rsample((3,)) * torch.tensor(w)
    ).sum().backward()
    np.testing.assert_allclose(lg.grad._data, lt.grad.numpy(), **TOL)  # backward: the probs' gradient


def test_one_hot_categorical_refuses_what_torch_refuses(torch):
    with pytest.raises(ValueError):
        torch.distributions.OneHotCategorical(probs=torch.tensor([0.5, 0.5])).log_prob(
            torch.tensor([1.0, 1.0])
        )
    with pytest.raises(ValueError, match="support"):
        D.OneHotCategorical(probs=gg.tensor([0.5, 0.5])).log_prob(gg.tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match="exactly one"):
        D.OneHotCategorical()


def test_one_hot_categorical_sample_frequencies():
    gg.manual_seed(0)
    p = np.array([0.1, 0.6, 0.3])
    counts = D.OneHotCategorical(probs=gg.tensor(p)).sample((20000,))._data.sum(0)
    np.testing.assert_allclose(counts / 20000, p, atol=0.015)


def _gumbels(torch):
    lo, so = gg.tensor(LOC, requires_grad=True), gg.tensor(SCALE, requires_grad=True)
    lt, st = torch.tensor(LOC, requires_grad=True), torch.tensor(SCALE, requires_grad=True)
    return (D.Gumbel(lo, so), lo, so), (torch.distributions.Gumbel(lt, st), lt, st)


def test_gumbel_matches_torch(torch):
    (ours, *_), (theirs, *_) = _gumbels(torch)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape) == (2, 3)
    assert tuple(ours.sample((4,)).shape) == tuple(theirs.sample((4,)).shape)
    x = RNG.standard_normal((4, 2, 3)) * 2
    np.testing.assert_allclose(_np(ours.log_prob(gg.tensor(x))), _np(theirs.log_prob(torch.tensor(x))), **TOL)
    for attr in ("mean", "mode", "stddev", "variance"):
        np.testing.assert_allclose(_np(getattr(ours, attr)), _np(getattr(theirs, attr)), **TOL, err_msg=attr)
    np.testing.assert_allclose(_np(ours.entropy()), _np(theirs.entropy()), **TOL)
    np.testing.assert_allclose(
        _np(ours.cdf(gg.tensor(x))), _np(theirs.cdf(torch.tensor(x))), rtol=1e-7, atol=1e-12
    )
    q = RNG.uniform(0.05, 0.95, (2, 3))
    np.testing.assert_allclose(_np(ours.icdf(gg.tensor(q))), _np(theirs.icdf(torch.tensor(q))), rtol=1e-7)


def test_gumbel_number_arguments_take_the_default_dtype(torch):
    ours, theirs = D.Gumbel(0.0, 1.0), torch.distributions.Gumbel(0.0, 1.0)
    assert ours.sample().dtype == gg.float32 and theirs.sample().dtype == torch.float32
    np.testing.assert_allclose(
        _np(ours.log_prob(gg.tensor(0.5))), _np(theirs.log_prob(torch.tensor(0.5))), rtol=1e-6
    )


def test_gumbel_rsample_from_the_same_noise_matches_torch(torch, monkeypatch):
    (ours, lo, so), (theirs, lt, st) = _gumbels(torch)
    torch.manual_seed(3)
    u = torch.rand(5, 2, 3, dtype=torch.float64)  # the draw torch's base Uniform makes next
    monkeypatch.setattr(D.utils, "standard_uniform", lambda shape, dtype: gg.tensor(u.numpy()))
    torch.manual_seed(3)
    xt, xo = theirs.rsample((5,)), ours.rsample((5,))
    np.testing.assert_allclose(xo._data, xt.detach().numpy(), **TOL)
    w = RNG.standard_normal((5, 2, 3))
    (xo * gg.tensor(w)).sum().backward()
    (xt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(lo.grad._data, lt.grad.numpy(), **TOL)
    np.testing.assert_allclose(so.grad._data, st.grad.numpy(), **TOL)


def test_gumbel_log_prob_gradcheck():
    x = gg.tensor(RNG.standard_normal((2, 3)))
    loc = gg.tensor(LOC, requires_grad=True)
    scale = gg.tensor(np.broadcast_to(SCALE, (2, 3)).copy(), requires_grad=True)
    assert gradcheck(lambda a, b: D.Gumbel(a, b).log_prob(x), (loc, scale))


def test_gumbel_samples_have_its_moments_and_stay_finite():
    gg.manual_seed(0)
    s = D.Gumbel(gg.tensor(1.0), gg.tensor(2.0)).sample((50000,))._data
    assert np.isfinite(s).all()
    assert abs(s.mean() - (1 + 2 * 0.5772156649)) < 0.05
    assert abs(s.std() - 2 * math.pi / math.sqrt(6)) < 0.05


def test_gumbel_refuses_a_non_positive_scale(torch):
    with pytest.raises(ValueError):
        torch.distributions.Gumbel(torch.tensor(0.0), torch.tensor(-1.0))
    with pytest.raises(ValueError, match="scale"):
        D.Gumbel(gg.tensor(0.0), gg.tensor(-1.0))
