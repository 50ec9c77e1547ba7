"""A two-layer GCN written the way graph-network scripts write it (pytorch/examples ``gcn``):
the normalised adjacency D^-1/2 (A + I) D^-1/2 as a sparse COO tensor, sparse features, ``torch.mm``
/ ``torch.spmm`` / ``@`` / ``torch.sparse.mm``, and a few Adam steps. The same script runs on glassgrad
and on PyTorch from the same weights and must give the same losses and parameters."""

from __future__ import annotations

import numpy as np

import glassgrad

from .helpers import assert_same

N_NODES, N_FEAT, HIDDEN, N_CLASS = 30, 12, 8, 3


def _graph() -> tuple:
    rng = np.random.default_rng(0)
    edges = rng.integers(0, N_NODES, size=(60, 2)).astype(np.int32)  # repeats and self-edges included
    feats = (rng.random((N_NODES, N_FEAT)) < 0.3).astype(np.float32)
    labels = rng.integers(0, N_CLASS, N_NODES)
    w1 = rng.standard_normal((N_FEAT, HIDDEN)).astype(np.float32) * 0.4
    w2 = rng.standard_normal((HIDDEN, N_CLASS)).astype(np.float32) * 0.4
    b1 = rng.standard_normal(HIDDEN).astype(np.float32) * 0.1
    return edges, feats, labels, w1, w2, b1


def script_gcn(torch):
    """Adjacency and features as the examples' load_cora builds them, two GraphConv layers."""
    nn, F = torch.nn, torch.nn.functional
    edges, feats, labels, w1, w2, b1 = _graph()

    features = torch.FloatTensor(feats)
    scale = 1 / torch.sum(features, dim=1)
    scale[scale == float("inf")] = 0
    features = torch.diag(scale).to_sparse() @ features  # row-normalised, as the examples
    adj = torch.sparse_coo_tensor(edges.T, torch.ones(len(edges)), (N_NODES, N_NODES), dtype=torch.int64)
    adj = torch.eye(N_NODES) + adj  # self-loops: dense + sparse is dense
    deg = torch.sqrt(1 / torch.sum(adj, dim=1))
    deg[deg == float("inf")] = 0
    deg = torch.diag(deg).to_sparse()
    adj = (deg @ adj @ deg).to_sparse().coalesce()
    features = features.to_sparse()

    class GraphConv(nn.Module):
        def __init__(self, w, b=None):
            super().__init__()
            self.kernel = nn.Parameter(torch.tensor(w))
            self.bias = nn.Parameter(torch.tensor(b)) if b is not None else None

        def forward(self, x, a, how):
            support = torch.mm(x, self.kernel)
            out = torch.spmm(a, support) if how == "spmm" else torch.sparse.mm(a, support)
            return out + self.bias if self.bias is not None else out

    class GCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.gc1, self.gc2 = GraphConv(w1, b1), GraphConv(w2)

        def forward(self, x, a):
            h = F.relu(self.gc1(x, a, "spmm"))
            return F.log_softmax(self.gc2(h, a, "sparse.mm"), dim=1)

    model = GCN()
    opt = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)
    target = torch.tensor(labels)
    losses = []
    for _ in range(6):
        opt.zero_grad()
        loss = F.nll_loss(model(features, adj), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    idx = adj.indices()
    extras = [idx, adj.values(), torch.sparse.sum(adj), (adj @ torch.ones(N_NODES)), adj.t().to_dense()]
    return losses, [p.detach() for p in model.parameters()], extras


def test_gcn_port(torch):
    assert_same(script_gcn(glassgrad), script_gcn(torch), rtol=1e-4, atol=1e-5)


def test_gcn_sparse_weight_gradient(torch):
    """A learnable edge weighting (values that require grad): the sparse gradient of S in S @ X."""

    def run(lib):
        edges, feats, _, w1, _, _ = _graph()
        vals = lib.tensor(np.linspace(0.5, 1.5, len(edges), dtype=np.float32), requires_grad=True)
        adj = lib.sparse_coo_tensor(lib.tensor(edges.T.astype(np.int64)), vals, (N_NODES, N_NODES))
        out = lib.sparse.mm(adj, lib.tensor(feats) @ lib.tensor(w1))
        (out**2).mean().backward()
        return [vals.grad, out.detach()]

    assert_same(run(glassgrad), run(torch), rtol=1e-4, atol=1e-6)
