"""Round 28, karpathy/pytorch-normalizing-flows' Glow layer (``Invertible1x1Conv``): W assembled
from the ``lu_unpack`` of an orthogonal matrix's ``.lu()``, trained one Adam step, against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np


def _glow_step(lib, q, x0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.lu's deprecation warning
        P, L, U = lib.lu_unpack(*lib.tensor(q).lu())
    Lp, S, Up = (lib.nn.Parameter(t) for t in (L, U.diag(), lib.triu(U, diagonal=1)))
    opt = lib.optim.Adam([Lp, S, Up], lr=1e-2)
    x = lib.tensor(x0)
    for _ in range(2):
        W = (
            P
            @ (lib.tril(Lp, diagonal=-1) + lib.diag(lib.ones(3, dtype=lib.float64)))
            @ (lib.triu(Up, diagonal=1) + lib.diag(S))
        )
        z = x @ W
        log_det = lib.sum(lib.log(lib.abs(S)))
        loss = (z**2).sum() - log_det
        opt.zero_grad()
        loss.backward()
        opt.step()
    back = z @ lib.inverse(W)
    return loss.item(), Lp.detach().numpy(), S.detach().numpy(), back.detach().numpy()


def test_invertible_1x1_conv_matches_torch(torch):
    import glassgrad as gg

    rng = np.random.default_rng(0)
    q, x0 = np.linalg.qr(rng.normal(size=(3, 3)))[0], rng.normal(size=(5, 3))
    g, t = _glow_step(gg, q, x0), _glow_step(torch, q, x0)
    assert abs(g[0] - t[0]) < 1e-12 * abs(t[0])
    for a, b in zip(g[1:], t[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
