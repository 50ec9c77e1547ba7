"""Round 55, group fixmatch: semi- and self-supervised training loops (FixMatch, Barlow Twins,
VICReg, MoCo v3, SwAV) ran with only their imports changed and matched PyTorch; no defect was
found. These tests keep the loops' less common patterns under PyTorch parity in float64:

- Barlow Twins / VICReg: in-place ``div_`` on a matmul result, ``diagonal(c).add_(-1).pow_(2)``
  (in-place ops on a view of a graph tensor) and ``off_diagonal`` (``flatten()[:-1].view(n - 1,
  n + 1)[:, 1:].flatten()``), then backward; their LARS step (``norm``, nested ``where``).
- SwAV: the Sinkhorn-Knopp iterations with in-place divisions, the swapped-prediction loss, and the
  queue shift ``queue[i, bs:] = queue[i, :-bs].clone()``.
- FixMatch: ``interleave``/``de_interleave`` around a model, the confidence-masked pseudo-label loss.
- MoCo v3: ``einsum`` on a list of operands and the momentum update through ``param.data = ...``.
Expected values come from PyTorch 2.13's CPU build.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg


def _off_diagonal(x):
    n, _ = x.shape
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def _barlow_loss(lib, z1, z2, batch):
    def bn(z):
        return lib.nn.functional.batch_norm(z, None, None, training=True)

    c = bn(z1).T @ bn(z2)
    c.div_(batch)
    on_diag = lib.diagonal(c).add_(-1).pow_(2).sum()
    off_diag = _off_diagonal(c).pow_(2).sum()
    return on_diag + 0.0051 * off_diag


def _vicreg_loss(lib, x, y):
    f = lib.nn.functional
    repr_loss = f.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = lib.sqrt(x.var(dim=0) + 0.0001)
    std_y = lib.sqrt(y.var(dim=0) + 0.0001)
    std_loss = lib.mean(f.relu(1 - std_x)) / 2 + lib.mean(f.relu(1 - std_y)) / 2
    n, d = x.shape
    cov_x = (x.T @ x) / (n - 1)
    cov_y = (y.T @ y) / (n - 1)
    cov_loss = _off_diagonal(cov_x).pow_(2).sum().div(d) + _off_diagonal(cov_y).pow_(2).sum().div(d)
    return 25.0 * repr_loss + 25.0 * std_loss + cov_loss


def _both(lib_a, lib_b, *arrays):
    return (
        [lib_a.tensor(a, requires_grad=True) for a in arrays],
        [lib_b.tensor(a, requires_grad=True) for a in arrays],
    )


def test_barlow_twins_loss_in_place_on_views_matches_pytorch(torch):
    rng = np.random.default_rng(0)
    z1, z2 = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    (a1, a2), (b1, b2) = _both(torch, gg, z1, z2)
    want = _barlow_loss(torch, a1, a2, 6)
    got = _barlow_loss(gg, b1, b2, 6)
    want.backward()
    got.backward()
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-13)
    for g, w in ((b1, a1), (b2, a2)):
        np.testing.assert_allclose(g.grad.numpy(), w.grad.numpy(), rtol=1e-11, atol=1e-13)


def test_vicreg_loss_matches_pytorch(torch):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((7, 4)) * 0.3, rng.standard_normal((7, 4)) * 2.0
    (a1, a2), (b1, b2) = _both(torch, gg, x, y)
    want, got = _vicreg_loss(torch, a1, a2), _vicreg_loss(gg, b1, b2)
    want.backward()
    got.backward()
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-13)
    for g, w in ((b1, a1), (b2, a2)):
        np.testing.assert_allclose(g.grad.numpy(), w.grad.numpy(), rtol=1e-11, atol=1e-13)


def _lars_step(lib, p, grad, weight_decay=1e-4, eta=0.001, lr=0.2, mu=None):
    with lib.no_grad():
        dp = grad.add(p, alpha=weight_decay)
        param_norm = lib.norm(p)
        update_norm = lib.norm(dp)
        one = lib.ones_like(param_norm)
        q = lib.where(
            param_norm > 0.0, lib.where(update_norm > 0, (eta * param_norm / update_norm), one), one
        )
        dp = dp.mul(q)
        mu = lib.zeros_like(p) if mu is None else mu
        mu.mul_(0.9).add_(dp)
        p.add_(mu, alpha=-lr)
    return mu


def test_lars_step_with_zero_and_nonzero_norms_matches_pytorch(torch):
    rng = np.random.default_rng(2)
    cases = [
        (rng.standard_normal((3, 4)), rng.standard_normal((3, 4))),
        (np.zeros((2, 2)), rng.standard_normal((2, 2))),
    ]
    cases.append((rng.standard_normal((2, 3)), np.zeros((2, 3))))
    for p0, g0 in cases:
        pa, pb = torch.tensor(p0), gg.tensor(p0)
        ma = mb = None
        for _ in range(3):
            ma = _lars_step(torch, pa, torch.tensor(g0), mu=ma)
            mb = _lars_step(gg, pb, gg.tensor(g0), mu=mb)
        np.testing.assert_allclose(pb.numpy(), pa.numpy(), rtol=1e-14, atol=1e-16)
        np.testing.assert_allclose(mb.numpy(), ma.numpy(), rtol=1e-14, atol=1e-16)


def _sinkhorn(lib, out, epsilon=0.05, iters=3):
    q = lib.exp(out / epsilon).t()
    b, k = q.shape[1], q.shape[0]
    q /= lib.sum(q)
    for _ in range(iters):
        q /= lib.sum(q, dim=1, keepdim=True)
        q /= k
        q /= lib.sum(q, dim=0, keepdim=True)
        q /= b
    q *= b
    return q.t()


def _swav_step(lib, scores, queue, bs, temperature=0.1):
    f = lib.nn.functional
    loss = 0
    for i, crop_id in enumerate([0, 1]):
        with lib.no_grad():
            out = scores[bs * crop_id : bs * (crop_id + 1)].detach()
            out = lib.cat((queue[i] * 0.5, out))
            queue[i, bs:] = queue[i, :-bs].clone()
            queue[i, :bs] = scores[crop_id * bs : (crop_id + 1) * bs].detach()
            q = _sinkhorn(lib, out)[-bs:]
        subloss = 0
        for v in np.delete(np.arange(3), crop_id):
            x = scores[bs * v : bs * (v + 1)] / temperature
            subloss -= lib.mean(lib.sum(q * f.log_softmax(x, dim=1), dim=1))
        loss += subloss / (np.sum([2, 1]) - 1)
    return loss / 2


def test_swav_sinkhorn_queue_and_swapped_loss_match_pytorch(torch):
    rng = np.random.default_rng(3)
    s0, q0 = rng.standard_normal((3 * 4, 5)) * 0.3, rng.standard_normal((2, 8, 5)) * 0.3
    sa, sb = torch.tensor(s0, requires_grad=True), gg.tensor(s0, requires_grad=True)
    qa, qb = torch.tensor(q0), gg.tensor(q0)
    for _ in range(2):
        la, lb = _swav_step(torch, sa, qa, 4), _swav_step(gg, sb, qb, 4)
        np.testing.assert_allclose(lb.item(), la.item(), rtol=1e-13)
        np.testing.assert_allclose(qb.numpy(), qa.numpy(), rtol=0, atol=0)
    la.backward()
    lb.backward()
    np.testing.assert_allclose(sb.grad.numpy(), sa.grad.numpy(), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(
        _sinkhorn(gg, gg.tensor(s0)).numpy(), _sinkhorn(torch, torch.tensor(s0)).numpy(), rtol=1e-13
    )


def _interleave(x, size):
    s = list(x.shape)
    return x.reshape([-1, size] + s[1:]).transpose(0, 1).reshape([-1] + s[1:])


def _de_interleave(x, size):
    s = list(x.shape)
    return x.reshape([size, -1] + s[1:]).transpose(0, 1).reshape([-1] + s[1:])


def test_fixmatch_interleaved_masked_pseudo_label_loss_matches_pytorch(torch):
    rng = np.random.default_rng(4)
    bsz, mu = 2, 3
    xs = rng.standard_normal((bsz * (2 * mu + 1), 3, 2, 2))
    w0 = rng.standard_normal((12, 5)) * 2.0
    tx = rng.integers(0, 5, bsz)

    def run(lib):
        f = lib.nn.functional
        w = lib.tensor(w0, requires_grad=True)
        inputs = _interleave(lib.tensor(xs), 2 * mu + 1)
        logits = _de_interleave(inputs.flatten(1) @ w, 2 * mu + 1)
        logits_x = logits[:bsz]
        logits_u_w, logits_u_s = logits[bsz:].chunk(2)
        lx = f.cross_entropy(logits_x, lib.tensor(tx), reduction="mean")
        pseudo = lib.softmax(logits_u_w.detach() / 1.0, dim=-1)
        max_probs, targets_u = lib.max(pseudo, dim=-1)
        mask = max_probs.ge(0.95).float()
        lu = (f.cross_entropy(logits_u_s, targets_u, reduction="none") * mask).mean()
        loss = lx + 1.0 * lu
        loss.backward()
        return loss.item(), mask.numpy(), targets_u.numpy(), w.grad.numpy()

    want, got = run(torch), run(gg)
    assert 0 < want[1].sum() < len(want[1])  # the mask keeps some rows and drops others
    np.testing.assert_allclose(got[0], want[0], rtol=1e-13)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2], want[2])
    np.testing.assert_allclose(got[3], want[3], rtol=1e-11, atol=1e-13)


def test_moco_einsum_list_and_momentum_update_through_data_match_pytorch(torch):
    rng = np.random.default_rng(5)
    q0, k0 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    pb0, pm0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))

    def run(lib):
        f = lib.nn.functional
        q = lib.tensor(q0, requires_grad=True)
        k = f.normalize(lib.tensor(k0), dim=1)
        logits = lib.einsum("nc,mc->nm", [f.normalize(q, dim=1), k]) / 0.2
        loss = lib.nn.CrossEntropyLoss()(logits, lib.arange(4, dtype=lib.long)) * (2 * 0.2)
        loss.backward()
        pb, pm = lib.nn.Parameter(lib.tensor(pb0)), lib.nn.Parameter(lib.tensor(pm0), requires_grad=False)
        with lib.no_grad():
            pm.data = pm.data * 0.99 + pb.data * (1.0 - 0.99)
        return loss.item(), q.grad.numpy(), pm.detach().numpy(), pm.requires_grad, type(pm).__name__

    want, got = run(torch), run(gg)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-13)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-15)
    assert got[3:] == want[3:] == (False, "Parameter")
