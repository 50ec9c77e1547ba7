"""Round 28 (unet group): set_transformer's mixture-of-Gaussians sampler needs
``torch.distributions.Dirichlet`` (``Dirichlet(torch.ones(K)).sample(torch.Size([B]))`` feeding
``Categorical(probs=pi)``); these compare it with PyTorch and with hand-derived values."""

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.distributions import Categorical, Dirichlet

ALPHA = np.array([[0.5, 1.5, 2.0], [3.0, 1.2, 0.7], [2.5, 2.0, 4.0]])
VALUE = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3], [0.05, 0.05, 0.9]])


def test_mog_sampler_shapes_and_simplex():
    gg.manual_seed(0)
    pi = Dirichlet(gg.ones(4)).sample(gg.Size([5]))
    assert tuple(pi.shape) == (5, 4) and pi.dtype == gg.float32
    np.testing.assert_allclose(pi.sum(-1).numpy(), np.ones(5), rtol=1e-6)
    assert (pi.numpy() > 0).all()
    labels = Categorical(probs=pi).sample(gg.Size([7])).transpose(0, 1).contiguous()
    assert tuple(labels.shape) == (5, 7) and labels.dtype == gg.int64


def test_shapes_and_module_path():
    from glassgrad.distributions.dirichlet import Dirichlet as DirichletByPath

    d = DirichletByPath(gg.ones(2, 3, dtype=gg.float64))
    assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == (3,)
    assert tuple(d.sample((4,)).shape) == (4, 2, 3) and d.sample().dtype == gg.float64
    with pytest.raises(ValueError, match="Dirichlet"):
        Dirichlet(gg.tensor(1.0))
    with pytest.raises(ValueError):
        Dirichlet(gg.tensor([1.0, -1.0]))


def test_sample_moments_match_the_formulas():
    gg.manual_seed(3)
    s = Dirichlet(gg.tensor([2.0, 5.0, 1.0], dtype=gg.float64)).sample((40000,)).numpy()
    a0 = 8.0
    mean = np.array([2.0, 5.0, 1.0]) / a0
    np.testing.assert_allclose(s.mean(0), mean, atol=5e-3)
    np.testing.assert_allclose(s.var(0), mean * (1 - mean) / (a0 + 1), rtol=5e-2)


def test_log_prob_by_hand():
    a, x = ALPHA[0], VALUE[0]
    want = sum((ai - 1) * math.log(xi) for ai, xi in zip(a, x))
    want += math.lgamma(a.sum()) - sum(math.lgamma(ai) for ai in a)
    got = Dirichlet(gg.tensor(a)).log_prob(gg.tensor(x)).item()
    assert got == pytest.approx(want, rel=1e-13)


def test_parity_with_torch_values_and_gradients(torch):
    t = torch.distributions.Dirichlet(torch.tensor(ALPHA, requires_grad=True))
    g = Dirichlet(gg.tensor(ALPHA, requires_grad=True))
    for name in ("mean", "variance", "mode"):
        np.testing.assert_allclose(
            getattr(g, name).detach().numpy(), getattr(t, name).detach().numpy(), rtol=1e-13
        )
    tl, gl = t.log_prob(torch.tensor(VALUE)), g.log_prob(gg.tensor(VALUE))
    np.testing.assert_allclose(gl.detach().numpy(), tl.detach().numpy(), rtol=1e-13)
    tl.sum().backward()
    gl.sum().backward()
    np.testing.assert_allclose(g.concentration.grad.numpy(), t.concentration.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.entropy().detach().numpy(), t.entropy().detach().numpy(), rtol=1e-13)


def test_mode_below_one_matches_torch(torch):
    a = np.array([[0.5, 0.3, 0.9], [2.0, 3.0, 0.5]])
    t = torch.distributions.Dirichlet(torch.tensor(a)).mode.numpy()
    np.testing.assert_allclose(Dirichlet(gg.tensor(a)).mode.numpy(), t)


def test_entropy_gradient_finite_differences():
    a = ALPHA[1].copy()
    conc = gg.tensor(a, requires_grad=True)
    Dirichlet(conc).entropy().backward()
    h = 1e-6
    fd = []
    for i in range(3):
        up, dn = a.copy(), a.copy()
        up[i] += h
        dn[i] -= h
        fd.append(
            (Dirichlet(gg.tensor(up)).entropy().item() - Dirichlet(gg.tensor(dn)).entropy().item()) / (2 * h)
        )
    np.testing.assert_allclose(conc.grad.numpy(), fd, rtol=1e-6)


def test_rsample_differentiates_the_concentration():
    conc = gg.ones(3, requires_grad=True)
    d = Dirichlet(conc)
    (d.rsample((4,)) * gg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert conc.grad is not None and np.isfinite(conc.grad.numpy()).all()
    with gg.no_grad():
        assert tuple(d.rsample((2,)).shape) == (2, 3)


def test_kl_dirichlet_dirichlet_matches_torch(torch):
    a, b = ALPHA, ALPHA[::-1].copy() + 0.5
    t = torch.distributions.kl_divergence(
        torch.distributions.Dirichlet(torch.tensor(a)), torch.distributions.Dirichlet(torch.tensor(b))
    )
    pa = gg.tensor(a, requires_grad=True)
    g = gg.distributions.kl_divergence(Dirichlet(pa), Dirichlet(gg.tensor(b)))
    np.testing.assert_allclose(g.detach().numpy(), t.numpy(), rtol=1e-12)
    same = gg.distributions.kl_divergence(Dirichlet(gg.tensor(a)), Dirichlet(gg.tensor(a)))
    np.testing.assert_allclose(same.numpy(), 0.0, atol=1e-14)
    g.sum().backward()
    ta = torch.tensor(a, requires_grad=True)
    torch.distributions.kl_divergence(
        torch.distributions.Dirichlet(ta), torch.distributions.Dirichlet(torch.tensor(b))
    ).sum().backward()
    np.testing.assert_allclose(pa.grad.numpy(), ta.grad.numpy(), rtol=1e-7)  # PyTorch's trigamma: ~1e-9


def test_expand_broadcasts_the_batch():
    d = Dirichlet(gg.tensor([1.0, 2.0, 3.0])).expand((4, 2))
    assert tuple(d.batch_shape) == (4, 2) and tuple(d.event_shape) == (3,)
    assert tuple(d.log_prob(gg.tensor([0.2, 0.3, 0.5])).shape) == (4, 2)
    assert tuple(d.sample().shape) == (4, 2, 3)


def test_cuda_out_of_memory_error_is_torchs_class(torch):
    # U-Net's train.py: `except torch.cuda.OutOfMemoryError:` around train_model
    assert gg.cuda.OutOfMemoryError is gg.OutOfMemoryError
    assert issubclass(gg.OutOfMemoryError, RuntimeError)
    assert issubclass(torch.cuda.OutOfMemoryError, RuntimeError)
    try:
        raise ValueError("inner")
    except gg.cuda.OutOfMemoryError:  # the clause evaluates and does not catch other errors
        pytest.fail("caught a ValueError")
    except ValueError:
        pass


def test_independent_constraint_as_torch(torch):
    c = gg.distributions.constraints.independent(gg.distributions.constraints.positive, 1)
    tc = torch.distributions.constraints.independent(torch.distributions.constraints.positive, 1)
    v = np.array([[1.0, 2.0], [1.0, -1.0]])
    np.testing.assert_array_equal(np.asarray(c.check(gg.tensor(v))), tc.check(torch.tensor(v)).numpy())
    assert c.event_dim == tc.event_dim == 1
    assert repr(Dirichlet.arg_constraints["concentration"]) == repr(
        torch.distributions.Dirichlet.arg_constraints["concentration"]
    )
    with pytest.raises(ValueError, match="Dirichlet"):
        Dirichlet(gg.tensor([[1.0, 2.0], [0.5, -0.1]]))
