"""Port round 30, group meta: MAML (dragen1860/MAML-Pytorch learner.py/meta.py), prototypical
networks (jakesnell/prototypical-networks, orobix's prototypical_loss.py) and siamese/triplet
metric learning (adambielski/siamese-triplet losses.py/utils.py). Distilled repros of how they use
the API, each run on PyTorch and glassgrad and compared (float64)."""

from __future__ import annotations

import copy
from itertools import combinations

import numpy as np

import glassgrad as gg


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# ------------------------------------------------------------------ printing (MAML's Learner)
def _learner_repr(lib):
    class Learner(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.vars = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3, dtype=lib.float64))])

        def extra_repr(self):
            return "conv2d:(ch_in:1, ch_out:8)\nlinear:(in:8, out:3)\n"  # ends in a newline

    class Meta(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = Learner()

    return repr(Meta()), repr(Learner())


def test_blank_extra_repr_line_stays_empty_when_nested(torch):
    # Meta's repr printed "    \n" (indent on a blank line) where PyTorch prints "\n"
    got = _learner_repr(gg)
    want = tuple(r.replace("torch.", "glassgrad.") for r in _learner_repr(torch))
    assert got == want
    assert "\n\n    (vars)" in got[0]


# ------------------------------------------------------------------ top-level distance functions
def test_top_level_pairwise_distance_and_cosine_similarity(torch):
    x, y = np.random.default_rng(0).standard_normal((2, 4, 5))
    for name, kw in [("pairwise_distance", {"p": 1.5, "keepdim": True}), ("cosine_similarity", {"dim": 0})]:
        outs = []
        for lib in (gg, torch):
            a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
            out = getattr(lib, name)(a, b, **kw)
            out.sum().backward()
            outs.append((out.detach().numpy(), a.grad.numpy(), b.grad.numpy()))
        for g, t in zip(*outs):
            _close(g, t)


# ------------------------------------------------------------------ MAML: functional net, 2nd order
def _maml_meta_grads(lib):
    F = lib.nn.functional
    rng = np.random.default_rng(1)
    vars = lib.nn.ParameterList(
        [
            lib.nn.Parameter(lib.tensor(rng.standard_normal(s) * 0.5))
            for s in [(4, 1, 3, 3), (4,), (4,), (4,), (3, 4)]
        ]
        + [lib.nn.Parameter(lib.zeros(3, dtype=lib.float64))]
    )
    running = [lib.zeros(4, dtype=lib.float64), lib.ones(4, dtype=lib.float64)]

    def net(x, w):
        x = F.conv2d(x, w[0], w[1], stride=2, padding=0)
        x = F.relu(x, inplace=True)
        x = F.batch_norm(x, running[0], running[1], weight=w[2], bias=w[3], training=True)
        x = F.adaptive_avg_pool2d(x, 1).view(x.size(0), -1)
        return F.linear(x, w[4], w[5])

    xs, xq = lib.tensor(rng.random((3, 1, 9, 9))), lib.tensor(rng.random((6, 1, 9, 9)))
    ys, yq = lib.tensor(np.arange(3)), lib.tensor(np.arange(6) % 3)
    loss = F.cross_entropy(net(xs, vars), ys)
    grad = lib.autograd.grad(loss, vars, create_graph=True)
    fast = list(map(lambda p: p[1] - 0.4 * p[0], zip(grad, vars)))
    for _ in range(2):
        grad = lib.autograd.grad(F.cross_entropy(net(xs, fast), ys), fast, create_graph=True)
        fast = list(map(lambda p: p[1] - 0.4 * p[0], zip(grad, fast)))
    loss_q = F.cross_entropy(net(xq, fast), yq)
    loss_q.backward()
    clone = copy.deepcopy(vars)  # finetunning copies the net
    return (
        [loss_q.item()]
        + [p.grad.numpy() for p in vars]
        + [r.numpy() for r in running]
        + [clone[0].detach().numpy()]
    )


def test_maml_second_order_meta_gradient_matches_pytorch(torch):
    for g, t in zip(_maml_meta_grads(gg), _maml_meta_grads(torch)):
        _close(g, t, 1e-9)


# ------------------------------------------------------------------ prototypical networks
def _proto(lib):
    F = lib.nn.functional
    rng = np.random.default_rng(2)
    z = lib.tensor(rng.standard_normal((12, 5)), requires_grad=True)
    target = lib.tensor(np.array([0, 1, 2, 0, 1, 2, 2, 1, 0, 0, 1, 2]))
    n_support = 2

    def supp_idxs(c):  # orobix's prototypical_loss
        return target.eq(c).nonzero()[:n_support].squeeze(1)

    classes = lib.unique(target)
    n_classes = len(classes)
    n_query = target.eq(classes[0].item()).sum().item() - n_support
    prototypes = lib.stack([z[idx].mean(0) for idx in map(supp_idxs, classes)])
    query_idxs = lib.stack(list(map(lambda c: target.eq(c).nonzero()[n_support:], classes))).view(-1)
    q = z[query_idxs]
    n, m, d = q.size(0), prototypes.size(0), q.size(1)
    dists = lib.pow(q.unsqueeze(1).expand(n, m, d) - prototypes.unsqueeze(0).expand(n, m, d), 2).sum(2)
    log_p_y = F.log_softmax(-dists, dim=1).view(n_classes, n_query, -1)
    target_inds = lib.arange(0, n_classes).view(n_classes, 1, 1).expand(n_classes, n_query, 1).long()
    loss = -log_p_y.gather(2, target_inds).squeeze().view(-1).mean()
    _, y_hat = log_p_y.max(2)
    acc = y_hat.eq(target_inds.squeeze(2)).float().mean()
    loss.backward()
    return loss.item(), acc.item(), str(acc.dtype).split(".")[-1], z.grad.numpy()


def test_prototypical_loss_matches_pytorch(torch):
    g, t = _proto(gg), _proto(torch)
    assert g[1:3] == t[1:3]
    _close(g[0], t[0])
    _close(g[3], t[3])


# ------------------------------------------------------------------ siamese-triplet selectors
def _online_losses(lib):
    F = lib.nn.functional
    rng = np.random.default_rng(3)
    emb = lib.tensor(rng.standard_normal((8, 2)), requires_grad=True)
    labels = np.array([0, 0, 1, 1, 1, 2, 2, 0])
    dm = -2 * emb.mm(lib.t(emb)) + emb.pow(2).sum(dim=1).view(1, -1) + emb.pow(2).sum(dim=1).view(-1, 1)
    all_pairs = lib.LongTensor(np.array(list(combinations(range(len(labels)), 2))))
    positive = all_pairs[(labels[all_pairs[:, 0]] == labels[all_pairs[:, 1]]).nonzero()]
    negative = all_pairs[(labels[all_pairs[:, 0]] != labels[all_pairs[:, 1]]).nonzero()]
    neg_d = dm[negative[:, 0], negative[:, 1]].cpu().data.numpy()
    top = negative[lib.LongTensor(np.argpartition(neg_d, len(positive))[: len(positive)])]
    triplets = []
    for a, p in positive.numpy():
        negs = np.where(labels != labels[a])[0]
        values = dm[a, p] - dm[lib.LongTensor(np.array([a])), lib.LongTensor(negs)] + 1.0
        triplets.append([a, p, negs[np.argmax(values.data.cpu().numpy())]])
    t = lib.LongTensor(np.array(triplets))
    ap = (emb[t[:, 0]] - emb[t[:, 1]]).pow(2).sum(1)
    an = (emb[t[:, 0]] - emb[t[:, 2]]).pow(2).sum(1)
    triplet = F.relu(ap - an + 1.0).mean()
    contrastive = lib.cat(
        [(emb[positive[:, 0]] - emb[positive[:, 1]]).pow(2).sum(1),
         F.relu(1.0 - (emb[top[:, 0]] - emb[top[:, 1]]).pow(2).sum(1).sqrt()).pow(2)], dim=0
    ).mean()  # fmt: skip
    builtin = lib.nn.TripletMarginLoss(margin=1.0, p=2)(emb[t[:, 0]], emb[t[:, 1]], emb[t[:, 2]])
    (triplet + contrastive + builtin).backward()
    return [tuple(positive.shape), tuple(top.shape), triplets], [
        triplet.item(),
        contrastive.item(),
        builtin.item(),
        emb.grad.numpy(),
    ]


def test_online_triplet_and_contrastive_selection_matches_pytorch(torch):
    (gs, gv), (ts, tv) = _online_losses(gg), _online_losses(torch)
    assert gs == ts
    for g, t in zip(gv, tv):
        _close(g, t)
