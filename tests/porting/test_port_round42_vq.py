"""Round 42, group vq: vector-quantize-pytorch and DINOv2's model and losses on glassgrad.

Both ran unchanged (no glassgrad defect found); these tests pin, against PyTorch, the patterns the
two programs lean on: KoLeo's diagonal fill through a strided flat view (``dots.view(-1)[:: n + 1]``)
with ``max`` and ``PairwiseDistance``; Sinkhorn-Knopp's in-place normalisations; DINOv2's bicubic
position-embedding resize with a non-integer ``scale_factor`` tuple (with and without antialias);
the EMA teacher update through ``_foreach_mul_``/``_foreach_add_(alpha=)``; and the EMA codebook
update's ``one_hot``/``einsum``/``lerp_`` steps.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F


def _koleo(lib, x, eps=1e-8):
    x = lib.nn.functional.normalize(x, eps=eps, p=2, dim=-1)
    dots = lib.mm(x, x.t())
    n = x.shape[0]
    dots.view(-1)[:: (n + 1)].fill_(-1)
    _, nn_idx = lib.max(dots, dim=1)
    dist = lib.nn.PairwiseDistance(2, eps=1e-8)(x, x[nn_idx])
    return -lib.log(dist + eps).mean(), nn_idx


def test_koleo_loss_matches_pytorch(torch):
    x = np.random.default_rng(0).standard_normal((7, 5))
    a = torch.tensor(x, requires_grad=True)
    b = gg.tensor(x, requires_grad=True)
    la, ia = _koleo(torch, a)
    lb, ib = _koleo(gg, b)
    la.backward()
    lb.backward()
    np.testing.assert_array_equal(ib.numpy(), ia.numpy())
    np.testing.assert_allclose(lb.item(), la.item(), rtol=1e-13, atol=0)
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-12, atol=1e-14)


def _sinkhorn(lib, t, temp=0.07, iters=3):
    q = lib.exp(t / temp).t()
    b, k = q.shape[1], q.shape[0]
    q /= lib.sum(q)
    for _ in range(iters):
        q /= lib.sum(q, dim=1, keepdim=True)
        q /= k
        q /= lib.sum(q, dim=0, keepdim=True)
        q /= b
    q *= b
    return q.t()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sinkhorn_knopp_centering_matches_pytorch(torch, dtype):
    t = (np.random.default_rng(1).standard_normal((6, 9)) * 0.3).astype(dtype)
    with torch.no_grad():
        want = _sinkhorn(torch, torch.tensor(t)).numpy()
    with gg.no_grad():
        got = _sinkhorn(gg, gg.tensor(t)).numpy()
    tol = 1e-13 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(got, want, rtol=tol, atol=0)
    np.testing.assert_allclose(got.sum(1), np.ones(6), rtol=tol * 10)


@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("scale", [(0.525, 0.525), (2.1 / 4, 3.1 / 4), (1.275, 0.775)])
def test_bicubic_pos_embed_resize_matches_pytorch(torch, antialias, scale):
    x = np.random.default_rng(2).standard_normal((1, 6, 4, 4))
    w = np.random.default_rng(3).standard_normal
    a = torch.tensor(x, requires_grad=True)
    b = gg.tensor(x, requires_grad=True)
    oa = torch.nn.functional.interpolate(a, scale_factor=scale, mode="bicubic", antialias=antialias)
    ob = F.interpolate(b, scale_factor=scale, mode="bicubic", antialias=antialias)
    assert tuple(ob.shape) == tuple(oa.shape)
    g = w(tuple(oa.shape))
    oa.backward(torch.tensor(g))
    ob.backward(gg.tensor(g))
    np.testing.assert_allclose(ob.detach().numpy(), oa.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_ema_teacher_update_with_foreach_matches_pytorch(torch):
    rng = np.random.default_rng(4)
    s = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    t = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ta, sa = [torch.tensor(v) for v in t], [torch.tensor(v) for v in s]
    tb, sb = [gg.tensor(v) for v in t], [gg.tensor(v) for v in s]
    torch._foreach_mul_(ta, 0.99)
    torch._foreach_add_(ta, sa, alpha=0.01)
    gg._foreach_mul_(tb, 0.99)
    gg._foreach_add_(tb, sb, alpha=0.01)
    for x, y, t0, s0 in zip(tb, ta, t, s):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-15, atol=0)
        np.testing.assert_allclose(x.numpy(), t0 * 0.99 + 0.01 * s0, rtol=1e-15)


def _ema_codebook(lib, x, embed, cluster, embed_avg, decay=0.8, eps=1e-5):
    dist = -lib.cdist(x, embed)
    ind = dist.argmax(dim=-1)
    onehot = lib.nn.functional.one_hot(ind, embed.shape[-2]).type(x.dtype)
    cluster.lerp_(onehot.sum(dim=0), 1 - decay)
    embed_avg.lerp_(lib.einsum("nd,nc->cd", x, onehot), 1 - decay)
    smoothed = (cluster + eps) / (cluster.sum() + embed.shape[0] * eps) * cluster.sum()
    return ind, embed_avg / smoothed.unsqueeze(-1)


def test_ema_codebook_update_matches_pytorch(torch):
    rng = np.random.default_rng(5)
    x, e = rng.standard_normal((10, 4)), rng.standard_normal((6, 4))
    c, avg = rng.random(6), rng.standard_normal((6, 4))
    ia, ea = _ema_codebook(torch, *(torch.tensor(v) for v in (x, e, c, avg)))
    ib, eb = _ema_codebook(gg, *(gg.tensor(v) for v in (x, e, c, avg)))
    np.testing.assert_array_equal(ib.numpy(), ia.numpy())
    np.testing.assert_allclose(eb.numpy(), ea.numpy(), rtol=1e-13, atol=1e-15)
