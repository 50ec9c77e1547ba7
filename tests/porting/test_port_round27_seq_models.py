"""Round 27 patterns of the sequence models that ran unchanged, kept as parity checks against
PyTorch (float64): conformer's relative shift (``view`` of a row-sliced padded score tensor,
``view_as``), xlstm's stabilised parallel mLSTM (cumsum of ``logsigmoid``, ``where`` with a
``-inf`` fill, row max, ``maximum``) and performer's FAVOR+ projection (``linalg.qr`` of a
Gaussian block, ``diag(norms) @ q.t()``)."""

import math

import numpy as np

import glassgrad as gg


def rel_shift(lib, s):
    b, h, t1, t2 = s.size()
    zeros = s.new_zeros(b, h, t1, 1)
    padded = lib.cat([zeros, s], dim=-1).view(b, h, t2 + 1, t1)
    return padded[:, :, 1:].view_as(s)[:, :, :, : t2 // 2 + 1]


def mlstm_parallel(lib, q, k, v, ig, fg):
    b, nh, s, dh = q.shape
    log_f = lib.nn.functional.logsigmoid(fg)
    cs = lib.cat([lib.zeros((b, nh, 1, 1), dtype=q.dtype), lib.cumsum(log_f, dim=-2)], dim=-2)
    rep = cs.repeat(1, 1, 1, s + 1)
    ltr = lib.tril(lib.ones((s, s), dtype=lib.bool))
    log_fg = lib.where(ltr, (rep - rep.transpose(-2, -1))[:, :, 1:, 1:], -float("inf"))
    log_d = log_fg + ig.transpose(-2, -1)
    max_d, _ = lib.max(log_d, dim=-1, keepdim=True)
    d = lib.exp(log_d - max_d)
    c = (q @ (k / math.sqrt(dh)).transpose(-2, -1)) * d
    norm = lib.maximum(c.sum(dim=-1, keepdim=True).abs(), lib.exp(-max_d))
    return (c / (norm + 1e-6)) @ v


def favor_projection(lib, block, gauss):
    q, _ = lib.linalg.qr(lib.tensor(block), mode="reduced")
    return lib.diag(lib.tensor(gauss).norm(dim=1)) @ q.t()


def run(lib, fn, arrays):
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *ts)
    w = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * lib.tensor(w)).sum().backward()
    return [out.detach().numpy()] + [t.grad.numpy() for t in ts]


def check(torch, fn, arrays):
    for g, w in zip(run(gg, fn, arrays), run(torch, fn, arrays)):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-12)


def test_conformer_relative_shift(torch):
    s = np.random.default_rng(0).standard_normal((2, 3, 5, 9))
    check(torch, rel_shift, [s])


def test_xlstm_parallel_stabilized(torch):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 2, 6, 4)) for _ in range(3))
    ig, fg = (rng.standard_normal((2, 2, 6, 1)) for _ in range(2))
    check(torch, mlstm_parallel, [q, k, v, ig, fg])


def test_performer_orthogonal_projection(torch):
    rng = np.random.default_rng(0)
    block, gauss = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))
    got = favor_projection(gg, block, gauss).numpy()
    want = favor_projection(torch, block, gauss).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    rows = got / np.linalg.norm(got, axis=1, keepdims=True)
    np.testing.assert_allclose(rows @ rows.T, np.eye(6), atol=1e-12)  # orthogonal rows
