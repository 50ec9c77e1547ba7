"""Round 34, state-space models (safari's standalone Hyena, s5-pytorch's S5): distilled repros.

Both programs agree with PyTorch; S5's associative scan (a port of ``jax.lax.associative_scan``)
stopped at ``torch.ops.aten.slice``, the ATen slice that takes its dim as an argument. The other
tests pin what the programs lean on: Hyena's FFT long convolution (``rfft``/``irfft`` at twice
the length, ``norm='forward'``) and S5's complex diagonal recurrence (zero-order-hold
discretisation of a complex parameter, a scan written with ``aten.slice``, ``vmap`` over the batch
with an in-place write, the real part of a complex product) through backward."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

CASES = [
    (1, 0, -1, 2),  # the scan's even elements: stop -1 counts from the end
    (1, 1, None, 2),
    (-1, 2, None, 1),
    (0, 0, 1, 1),
    (1, -100, 100, 1),  # out-of-range bounds clamp, as in Python slicing
    (1, 3, 1, 1),  # empty
    (2, 0, 3, 3),
]


@pytest.mark.parametrize("dim,start,end,step", CASES)
def test_aten_slice_matches_torch(torch, dim, start, end, step):
    x = np.random.default_rng(0).standard_normal((2, 5, 4))
    tx = torch.tensor(x, requires_grad=True)
    gx = gg.tensor(x, requires_grad=True)
    ty = torch.ops.aten.slice(tx, dim, start, end, step)
    gy = gg.ops.aten.slice(gx, dim, start, end, step)
    assert tuple(gy.shape) == tuple(ty.shape)
    np.testing.assert_array_equal(gy.detach().numpy(), ty.detach().numpy())
    w = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    (ty * torch.tensor(w)).sum().backward()
    (gy * gg.tensor(w)).sum().backward()
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())


def test_aten_slice_defaults_overloads_and_view(torch):
    x = gg.arange(10.0).reshape(2, 5)
    np.testing.assert_array_equal(gg.ops.aten.slice(x).numpy(), x.numpy())  # dim 0, whole range
    np.testing.assert_array_equal(gg.ops.aten.slice(x, 0, end=1).numpy(), [[0, 1, 2, 3, 4]])
    np.testing.assert_array_equal(gg.ops.aten.slice.Tensor(x, 1, 0, 2).numpy(), [[0, 1], [5, 6]])
    v = gg.ops.aten.slice(x, 1, 1, None, 2)
    v.mul_(0)  # a view: the write shows in x, as in PyTorch
    np.testing.assert_array_equal(x.numpy(), [[0, 0, 2, 0, 4], [5, 0, 7, 0, 9]])
    assert gg.ops.aten.slice(x, 1, 0, 2).grad_fn is None
    y = gg.ops.aten.slice(gg.ones(3, requires_grad=True), 0, 1)
    assert type(y.grad_fn).__name__ == "SliceBackward0"


def test_aten_slice_errors_name_the_op(torch):
    x = gg.zeros(2, 5)
    with pytest.raises(RuntimeError, match=r"aten\.slice.*positive step, got 0"):
        gg.ops.aten.slice(x, 1, 0, 5, 0)
    with pytest.raises(RuntimeError):  # PyTorch refuses a non-positive step too
        torch.ops.aten.slice(torch.zeros(2, 5), 1, 0, 5, -1)
    with pytest.raises(IndexError, match=r"aten\.slice.*dim in \[-2, 1\].*got 2"):
        gg.ops.aten.slice(x, 2)
    with pytest.raises(AttributeError, match=r"no operator 'not_an_op'"):
        gg.ops.aten.not_an_op  # noqa: B018


def _interleave_scan(mod, a, b):
    """Prefix products/sums of (a, b) pairs, as the program's odd/even associative scan."""
    sl = mod.ops.aten.slice
    if a.shape[0] < 2:
        return a, b
    a0, a1, b0, b1 = sl(a, 0, 0, -1, 2), sl(a, 0, 1, None, 2), sl(b, 0, 0, -1, 2), sl(b, 0, 1, None, 2)
    ra, rb = _interleave_scan(mod, a0 * a1, mod.addcmul(b1, a1, b0))
    n = a.shape[0]
    m = (n + 1) // 2 - 1  # even positions after the first: each combines the odd prefix before it
    ea = mod.cat([sl(a, 0, 0, 1), sl(ra, 0, 0, m) * sl(a, 0, 2, None, 2)])
    eb = mod.cat([sl(b, 0, 0, 1), mod.addcmul(sl(b, 0, 2, None, 2), sl(a, 0, 2, None, 2), sl(rb, 0, 0, m))])
    oa = mod.stack([ea[: n // 2], ra], 1).flatten(0, 1)
    ob = mod.stack([eb[: n // 2], rb], 1).flatten(0, 1)
    if n % 2:
        oa, ob = mod.cat([oa, ea[-1:]]), mod.cat([ob, eb[-1:]])
    return oa, ob


def _s5(mod, lam, bmat, cmat, logstep, u):
    """S5 forward: zoh-discretised complex diagonal SSM over a batch via vmap. u (N, L, H) -> (N, L, H)."""
    lam, cm = mod.complex(lam[..., 0], lam[..., 1]), mod.complex(cmat[..., 0], cmat[..., 1])
    bt = mod.complex(bmat[..., 0], bmat[..., 1])
    lam_bar = mod.exp(lam * mod.exp(logstep))
    b_bar = (1 / lam * (lam_bar - mod.ones(lam.shape[0])))[..., None] * bt

    def one(seq):
        bu = mod.vmap(lambda x: b_bar @ x)(seq.type(lam_bar.dtype))
        bu[0] = bu[0] + 0.5 * lam_bar  # the program's injected state, written in place
        _, xs = _interleave_scan(mod, lam_bar.tile(seq.shape[0], 1), bu)
        return mod.vmap(lambda x: (cm @ x).real)(xs)

    return mod.vmap(one)(u)


def test_s5_complex_scan_grads_match_torch(torch):
    rng = np.random.default_rng(0)
    p, h, n, ln = 4, 3, 2, 7
    lam = np.stack([-0.5 - rng.random(p), rng.standard_normal(p)], -1)
    arrays = [lam, rng.standard_normal((p, h, 2)), rng.standard_normal((h, p, 2)), rng.standard_normal(p) - 2]
    u = rng.random((n, ln, h))
    res = []
    for mod in (torch, gg):
        params = [mod.tensor(a, requires_grad=True) for a in arrays]
        y = _s5(mod, *params, mod.tensor(u))
        (y.sin().sum()).backward()
        res.append([y.detach().numpy()] + [q.grad.numpy() for q in params])
    for t, g in zip(*res):
        np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-13)
    # the scan against a plain loop of x_k = lam_bar * x_{k-1} + bu_k
    lam_c = lam[:, 0] + 1j * lam[:, 1]
    bar = np.exp(lam_c * np.exp(arrays[3]))
    bt = arrays[1][..., 0] + 1j * arrays[1][..., 1]
    c = arrays[2][..., 0] + 1j * arrays[2][..., 1]
    x, want = 0.5 * bar / bar, []  # the injected 0.5 * lam_bar enters as x_{-1} = 0.5
    for k in range(ln):
        x = bar * x + ((bar - 1) / lam_c)[:, None] * bt @ u[0, k]
        want.append((c @ x).real)
    np.testing.assert_allclose(res[1][0][0], np.array(want), rtol=1e-12, atol=1e-13)


def test_hyena_fftconv_matches_torch(torch):
    """safari's fftconv: y = irfft(rfft(u, 2L) * rfft(k, 2L) / 2L, norm='forward')[..., :L] + u * D."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3, 8)), rng.standard_normal((3, 8)), rng.standard_normal(3)]
    res = []
    for mod in (torch, gg):
        u, k, d = (mod.tensor(a, requires_grad=True) for a in arrays)
        n = 2 * u.shape[-1]
        k_f = mod.fft.rfft(k, n=n) / n
        u_f = mod.fft.rfft(u.to(dtype=k.dtype), n=n)
        y = mod.fft.irfft(u_f * k_f, n=n, norm="forward")[..., : u.shape[-1]] + u * d.unsqueeze(-1)
        (y * y).sum().backward()
        res.append([y.detach().numpy(), u.grad.numpy(), k.grad.numpy(), d.grad.numpy()])
    for t, g in zip(*res):
        np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-12)
    causal = np.array([[np.convolve(arrays[0][b, c], arrays[1][c])[:8] for c in range(3)] for b in range(2)])
    np.testing.assert_allclose(res[1][0], causal + arrays[0] * arrays[2][:, None], atol=1e-12)
