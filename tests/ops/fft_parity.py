"""The check the fft tests share: one ``torch.fft`` call against ``glassgrad.fft``'s, on the same
(real or complex) input: output dtype, shape and values, and the input's gradient under a random
real weighting of the output's real view (so both parts of a complex output are weighted)."""

from __future__ import annotations

import numpy as np

import glassgrad as gg

#: n-dim calls: sizes that pad, cut and keep (-1), dims in any order and negative, every norm
MANY = [
    {},
    {"s": (7, 3)},
    {"s": (2, -1), "dim": (0, 2), "norm": "ortho"},
    {"dim": (2, 0), "norm": "forward"},
    {"s": (5,)},
    {"dim": -2},
    {"s": (4, 1, 6)},
    {"dim": (-1, -3), "s": (3, 5), "norm": "ortho"},
]


def parity(torch, name, kw, shape, complex_in=False, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(*shape, 2) if complex_in else shape).astype(dtype)
    tx, gx = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
    ti = torch.view_as_complex(tx) if complex_in else tx
    gi = gg.view_as_complex(gx) if complex_in else gx
    ty, gy = getattr(torch.fft, name)(ti, **kw), getattr(gg.fft, name)(gi, **kw)
    assert str(gy.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1], (gy.dtype, ty.dtype)
    assert gy.shape == tuple(ty.shape)
    tr = torch.view_as_real(ty.resolve_conj()) if ty.is_complex() else ty
    gr = gg.view_as_real(gy) if gy.is_complex() else gy
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-5}
    np.testing.assert_allclose(gr.detach().numpy(), tr.detach().numpy(), **tol)
    w = rng.normal(size=tuple(tr.shape)).astype(dtype)
    (tr * torch.tensor(w)).sum().backward()
    (gr * gg.tensor(w)).sum().backward()
    assert gx.grad.dtype == gx.dtype
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), **tol)
    return gy
