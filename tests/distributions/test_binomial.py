"""``Binomial`` against ``torch.distributions.Binomial``: log_prob (PyTorch's stable form), its
gradients in probs and logits, moments, entropy by enumeration, the support, expand, KL, sampling
(shapes, range, mean, the seeded generator) and the refusals."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import distributions as D
from glassgrad.autograd import gradcheck
from glassgrad.distributions.binomial import Binomial

RNG = np.random.default_rng(11)
TOL = dict(rtol=1e-10, atol=1e-12)

COUNTS = np.array([[3.0], [7.0]])  # (2, 1), broadcast with a (4,) parameter
PROBS = np.array([0.0, 0.2, 0.65, 1.0])
LOGITS = np.array([-40.0, -1.5, 0.0, 3.0])
VALUES = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 4.0, 7.0, 7.0]])


def _np(t):
    return t.detach().numpy()


def _both(torch, count, key, param):
    """(glassgrad dist, torch dist, glassgrad leaf, torch leaf) with float64 parameter leaves."""
    ours, theirs = gg.tensor(param, requires_grad=True), torch.tensor(param, requires_grad=True)
    c_ours = gg.tensor(count) if isinstance(count, np.ndarray) else count
    c_theirs = torch.tensor(count) if isinstance(count, np.ndarray) else count
    return (
        D.Binomial(c_ours, **{key: ours}),
        torch.distributions.Binomial(c_theirs, **{key: theirs}),
        ours,
        theirs,
    )


def test_module_path_and_class_attributes(torch):
    assert D.Binomial is Binomial and "Binomial" in D.__all__
    assert Binomial.has_enumerate_support and not Binomial.has_rsample
    assert set(Binomial.arg_constraints) == set(torch.distributions.Binomial.arg_constraints)
    assert repr(Binomial.arg_constraints["total_count"]) == "IntegerGreaterThan(lower_bound=0)"
    assert D.Binomial(probs=gg.tensor(0.3)).total_count.item() == 1.0  # default total_count


@pytest.mark.parametrize("key,param", [("probs", PROBS), ("logits", LOGITS)])
def test_log_prob_and_gradients_like_torch(torch, key, param):
    d, t, x, tx = _both(torch, COUNTS, key, param)
    assert tuple(d.batch_shape) == tuple(t.batch_shape) == (2, 4)
    lp, tlp = d.log_prob(gg.tensor(VALUES)), t.log_prob(torch.tensor(VALUES))
    np.testing.assert_allclose(_np(lp), _np(tlp), **TOL)
    w = RNG.standard_normal(VALUES.shape)
    finite = np.isfinite(_np(tlp))  # log 0 = -inf where p is 0 or 1 and k is not at that end
    (lp * gg.tensor(w * finite)).sum().backward()
    (tlp * torch.tensor(w * finite)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **TOL)


@pytest.mark.parametrize("count", [5, 4.0, np.array([6.0, 6.0, 6.0, 6.0])])
@pytest.mark.parametrize("key,param", [("probs", PROBS), ("logits", LOGITS)])
def test_moments_entropy_and_support_like_torch(torch, count, key, param):
    d, t, x, tx = _both(torch, count, key, param)
    for name in ("mean", "mode", "variance", "stddev", "probs", "logits"):
        np.testing.assert_allclose(_np(getattr(d, name)), _np(getattr(t, name)), err_msg=name, **TOL)
    h, th = d.entropy(), t.entropy()
    np.testing.assert_allclose(_np(h), _np(th), **TOL)
    h.sum().backward()
    th.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for expand in (True, False):
        s, ts = d.enumerate_support(expand), t.enumerate_support(expand)
        assert tuple(s.shape) == tuple(ts.shape) and s.dtype == gg.float64
        np.testing.assert_array_equal(_np(s), _np(ts))


def test_total_count_forms_broadcast_like_torch(torch):
    for count in (3, 3.0, np.array([[1.0], [2.0], [9.0]]), np.array(4.0)):
        d = D.Binomial(
            gg.tensor(count) if isinstance(count, np.ndarray) else count, probs=gg.tensor([0.1, 0.5])
        )
        t = torch.distributions.Binomial(
            torch.tensor(count) if isinstance(count, np.ndarray) else count, probs=torch.tensor([0.1, 0.5])
        )
        assert tuple(d.batch_shape) == tuple(t.batch_shape) and tuple(d.event_shape) == ()
        assert d.total_count.dtype == gg.float32 and tuple(d.total_count.shape) == tuple(t.total_count.shape)
    d = D.Binomial(gg.tensor([2, 5]), logits=gg.tensor([0.3, -0.3], dtype=gg.float64))
    assert d.total_count.dtype == gg.float64  # an integer count takes the parameter's dtype


def test_mode_at_edges_like_torch(torch):
    p = np.array([0.0, 0.25, 0.5, 0.999, 1.0])
    np.testing.assert_array_equal(
        _np(D.Binomial(3, probs=gg.tensor(p)).mode),
        _np(torch.distributions.Binomial(3, probs=torch.tensor(p)).mode),
    )


def test_kl_like_torch(torch):
    p, q = np.array([0.1, 0.5, 0.9]), np.array([0.3, 0.5, 0.2])
    pc, qc = np.array([5.0, 5.0, 6.0]), np.array([5.0, 5.0, 5.0])
    xs = [gg.tensor(p, requires_grad=True), gg.tensor(q, requires_grad=True)]
    txs = [torch.tensor(p, requires_grad=True), torch.tensor(q, requires_grad=True)]
    kl = D.kl_divergence(D.Binomial(gg.tensor(pc), probs=xs[0]), D.Binomial(gg.tensor(qc), logits=xs[1]))
    tkl = torch.distributions.kl_divergence(
        torch.distributions.Binomial(torch.tensor(pc), probs=txs[0]),
        torch.distributions.Binomial(torch.tensor(qc), logits=txs[1]),
    )
    np.testing.assert_allclose(_np(kl), _np(tkl), **TOL)
    assert np.isinf(_np(kl)[2])
    kl[:2].sum().backward()
    tkl[:2].sum().backward()
    for x, tx in zip(xs, txs):
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **TOL)
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        D.kl_divergence(D.Binomial(2, probs=gg.tensor(0.5)), D.Binomial(3, probs=gg.tensor(0.5)))


def test_expand_like_torch(torch):
    for key in ("probs", "logits"):
        d = D.Binomial(gg.tensor([[4.0]]), **{key: gg.tensor([0.2, 0.7])}).expand((3, 2))
        t = torch.distributions.Binomial(torch.tensor([[4.0]]), **{key: torch.tensor([0.2, 0.7])}).expand(
            (3, 2)
        )
        assert tuple(d.batch_shape) == tuple(t.batch_shape) == (3, 2)
        assert tuple(d.total_count.shape) == (3, 2) and tuple(d.param_shape) == (3, 2)
        np.testing.assert_allclose(_np(d.mean), _np(t.mean), rtol=1e-6)
        assert tuple(d.sample((5,)).shape) == (5, 3, 2)


def test_sample_shapes_range_mean_and_seed():
    d = D.Binomial(gg.tensor([[10.0], [50.0]]), probs=gg.tensor([0.0, 0.3, 1.0], dtype=gg.float64))
    gg.manual_seed(3)
    s = d.sample((4000,))
    assert tuple(s.shape) == (4000, 2, 3) and s.dtype == gg.float64 and not s.requires_grad
    a = s.numpy()
    assert np.all(a == np.round(a)) and np.all(a >= 0) and np.all(a <= np.array([[10.0], [50.0]]))
    np.testing.assert_allclose(a.mean(0), _np(d.mean), atol=0.3)
    np.testing.assert_allclose(a.var(0), _np(d.variance), rtol=0.15, atol=1e-9)
    gg.manual_seed(3)
    np.testing.assert_array_equal(d.sample((4000,)).numpy(), a)
    assert tuple(D.Binomial(2, probs=gg.tensor(0.5)).sample().shape) == ()
    assert tuple(D.Binomial(2, logits=gg.tensor([0.5])).sample(3).shape) == (3, 1)


@pytest.mark.parametrize("key", ["probs", "logits"])
def test_gradcheck_log_prob_and_entropy(key):
    param = RNG.uniform(0.1, 0.9, (2, 3)) if key == "probs" else RNG.standard_normal((2, 3)) * 2
    k = gg.tensor(RNG.integers(0, 6, (2, 3)).astype(np.float64))
    x = gg.tensor(param).requires_grad_()
    assert gradcheck(lambda p: D.Binomial(5, **{key: p}).log_prob(k), [x])
    assert gradcheck(lambda p: D.Binomial(5, **{key: p}).entropy(), [x])


def test_refusals(torch):
    with pytest.raises(ValueError, match="Binomial: expected exactly one of probs or logits, got neither"):
        D.Binomial(3)
    with pytest.raises(ValueError, match="got both"):
        D.Binomial(3, probs=gg.tensor(0.5), logits=gg.tensor(0.0))
    with pytest.raises(ValueError, match="Binomial: expected parameter total_count"):
        D.Binomial(-1, probs=gg.tensor(0.5))
    with pytest.raises(ValueError, match="Binomial: expected parameter total_count"):
        D.Binomial(2.5, probs=gg.tensor(0.5))
    with pytest.raises(ValueError, match="Binomial: expected parameter probs"):
        D.Binomial(2, probs=gg.tensor(1.5))
    with pytest.raises(ValueError):  # PyTorch refuses the same
        torch.distributions.Binomial(2.5, probs=torch.tensor(0.5))
    d = D.Binomial(gg.tensor([2.0, 4.0]), probs=gg.tensor(0.5))
    with pytest.raises(ValueError, match="Binomial.log_prob: expected value within the support"):
        d.log_prob(gg.tensor([3.0, 3.0]))
    with pytest.raises(ValueError, match="within the support"):
        d.log_prob(gg.tensor([0.5, 1.0]))
    with pytest.raises(NotImplementedError, match="Binomial.entropy: inhomogeneous total_count"):
        d.entropy()
    with pytest.raises(NotImplementedError, match="Binomial.enumerate_support: inhomogeneous"):
        d.enumerate_support()
    d = D.Binomial(-1, probs=gg.tensor(1.5), validate_args=False)  # no checks asked for
    assert d.total_count.item() == -1.0
