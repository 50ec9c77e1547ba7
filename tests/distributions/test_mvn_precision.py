"""MultivariateNormal given a precision matrix, against PyTorch in float64: log_prob, entropy,
their gradients with respect to P, the derived scale_tril / covariance / precision, rsample's
shape, expand, KL, and the one-of-three argument check."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(31)
A = RNG.standard_normal((2, 3, 3))
P = A @ A.transpose(0, 2, 1) + 3 * np.eye(3)
MU = RNG.standard_normal(3)
X = RNG.standard_normal((4, 2, 3))


def test_precision_matrix_matches_torch(torch):
    tp, gp = torch.tensor(P, requires_grad=True), gg.tensor(P, requires_grad=True)
    t = torch.distributions.MultivariateNormal(torch.tensor(MU), precision_matrix=tp)
    g = gg.distributions.MultivariateNormal(gg.tensor(MU), precision_matrix=gp)
    lt, lg = t.log_prob(torch.tensor(X)), g.log_prob(gg.tensor(X))
    np.testing.assert_allclose(lg.detach().numpy(), lt.detach().numpy(), rtol=1e-12)
    (lt.sum() + t.entropy().sum()).backward()
    (lg.sum() + g.entropy().sum()).backward()
    np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-14)
    for name in ("scale_tril", "covariance_matrix", "precision_matrix"):
        np.testing.assert_allclose(
            getattr(g, name).detach().numpy(), getattr(t, name).detach().numpy(), atol=1e-13
        )
    assert tuple(g.rsample((5,)).shape) == (5, 2, 3)
    assert tuple(g.expand((4, 2)).batch_shape) == (4, 2)
    q_t = torch.distributions.MultivariateNormal(torch.zeros(3, dtype=torch.float64), torch.tensor(P[0]))
    q_g = gg.distributions.MultivariateNormal(gg.zeros(3, dtype=gg.float64), gg.tensor(P[0]))
    np.testing.assert_allclose(
        gg.distributions.kl_divergence(g, q_g).detach().numpy(),
        torch.distributions.kl_divergence(t, q_t).detach().numpy(),
        rtol=1e-11,
    )


def test_covariance_gives_torchs_precision_and_one_of_three_is_required(torch):
    c = gg.distributions.MultivariateNormal(gg.tensor(MU), covariance_matrix=gg.tensor(P))
    tc = torch.distributions.MultivariateNormal(torch.tensor(MU), covariance_matrix=torch.tensor(P))
    np.testing.assert_allclose(c.precision_matrix.numpy(), tc.precision_matrix.numpy(), atol=1e-14)
    with pytest.raises(ValueError, match="exactly one of covariance_matrix, precision_matrix or scale_tril"):
        gg.distributions.MultivariateNormal(
            gg.tensor(MU), covariance_matrix=gg.tensor(P), precision_matrix=gg.tensor(P)
        )
    with pytest.raises(ValueError, match="exactly one"):
        gg.distributions.MultivariateNormal(gg.tensor(MU))
