"""Round 32, recsys (pmixer/SASRec.pytorch, gusye1234/LightGCN-PyTorch): distilled repros.

LightGCN keeps its normalised adjacency as a float32 sparse COO tensor; running the model in
float64 takes ``Graph.double()``, which glassgrad refused on sparse tensors (every dtype cast was
blocked with the dense-only methods although each is ``self.to(dtype)``). The other tests pin what
the two programs lean on, against PyTorch: LightGCN's propagation ``sparse.mm`` x3 / stack / mean /
split with its BPR loss, its edge dropout on ``indices()``/``values()``, and SASRec's causal
``MultiheadAttention`` block with Conv1d(kernel_size=1) feed-forward and BCE-with-logits on the
logits picked by ``np.where``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

CASTS = ("double", "float", "half", "long", "int", "short", "char", "byte", "bool")


@pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")  # (PyTorch's own)
@pytest.mark.parametrize("coalesce", [False, True])
def test_sparse_dtype_casts_as_torch(torch, coalesce):
    ix = [[0, 1, 1, 0], [2, 0, 0, 2]]
    vals = [0.5, -2.0, 3.0, 1.25]
    ts = torch.sparse_coo_tensor(ix, vals, (2, 3))
    gs = gg.sparse_coo_tensor(ix, vals, (2, 3))
    if coalesce:
        ts, gs = ts.coalesce(), gs.coalesce()
    for name in CASTS:
        t, g = getattr(ts, name)(), getattr(gs, name)()
        assert g.layout == gg.sparse_coo and g.is_sparse, name
        assert str(g.dtype).split(".")[1] == str(t.dtype).split(".")[1], name
        assert g.is_coalesced() == t.is_coalesced(), name
        np.testing.assert_array_equal(g.to_dense().numpy(), t.to_dense().numpy(), err_msg=name)
    assert gs.float() is gs  # already float32: no copy, as a dense tensor
    assert gs.type_as(gg.zeros(1, dtype=gg.float64)).dtype == gg.float64


def test_double_graph_propagation_gradients_as_torch(torch):
    """LightGCN in float64: ``Graph.double()`` then ``sparse.mm(Graph, emb)``; the values' grads too."""
    rng = np.random.default_rng(0)
    ix = np.stack([rng.integers(0, 6, 10), rng.integers(0, 6, 10)])
    v = rng.random(10).astype(np.float32)
    e = rng.standard_normal((6, 3))
    res = []
    for mod in (torch, gg):
        vals = mod.tensor(v, requires_grad=True)
        graph = mod.sparse_coo_tensor(mod.tensor(ix), vals, (6, 6)).coalesce().double()
        emb = mod.tensor(e, requires_grad=True)
        out = mod.sparse.mm(graph, emb)
        (out * out).sum().backward()
        assert out.dtype == mod.float64 and vals.grad.dtype == mod.float32
        res.append([out.detach().numpy(), emb.grad.numpy(), vals.grad.numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-12)


def _lightgcn_loss(mod, graph_np, user_w, item_w, users, pos, neg, n_layers=3):
    """LightGCN's computer() and bpr_loss() on a float64 graph."""
    coo = graph_np
    index = mod.stack([mod.Tensor(coo[0]).long(), mod.Tensor(coo[1]).long()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the legacy constructor's deprecation notice
        graph = mod.sparse.FloatTensor(index, mod.FloatTensor(coo[2]), mod.Size([10, 10]))
    graph = graph.coalesce().double()
    ue = mod.nn.Embedding(4, 3).double()
    ie = mod.nn.Embedding(6, 3).double()
    with mod.no_grad():
        ue.weight.copy_(mod.tensor(user_w))
        ie.weight.copy_(mod.tensor(item_w))
    all_emb = mod.cat([ue.weight, ie.weight])
    embs = [all_emb]
    for _ in range(n_layers):
        all_emb = mod.sparse.mm(graph, all_emb)
        embs.append(all_emb)
    light = mod.mean(mod.stack(embs, dim=1), dim=1)
    all_users, all_items = mod.split(light, [4, 6])
    u, p, n = (mod.tensor(a).long() for a in (users, pos, neg))
    pos_s = mod.sum(mod.mul(all_users[u], all_items[p]), dim=1)
    neg_s = mod.sum(mod.mul(all_users[u], all_items[n]), dim=1)
    reg = (1 / 2) * (ue(u).norm(2).pow(2) + ie(p).norm(2).pow(2) + ie(n).norm(2).pow(2)) / float(len(u))
    loss = mod.mean(mod.nn.functional.softplus(neg_s - pos_s)) + 1e-2 * reg
    loss.backward()
    return [loss.detach().numpy(), ue.weight.grad.numpy(), ie.weight.grad.numpy()]


def test_lightgcn_propagation_and_bpr_as_torch(torch):
    rng = np.random.default_rng(1)
    r = (rng.random((4, 6)) < 0.5).astype(np.float64)
    adj = np.zeros((10, 10))
    adj[:4, 4:], adj[4:, :4] = r, r.T
    d = adj.sum(1)
    d_inv = np.where(d > 0, d, 1.0) ** -0.5 * (d > 0)
    norm = d_inv[:, None] * adj * d_inv[None, :]
    row, col = np.nonzero(norm)
    coo = np.stack([row, col, norm[row, col]])
    args = (rng.normal(0, 0.1, (4, 3)), rng.normal(0, 0.1, (6, 3)), [0, 1, 3, 3], [2, 0, 5, 1], [4, 3, 0, 2])
    want = _lightgcn_loss(torch, coo, *args)
    got = _lightgcn_loss(gg, coo, *args)
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-13)  # float32 graph values, float64 math


def test_lightgcn_edge_dropout_keeps_chosen_edges(torch):
    """``__dropout_x``: bool mask from ``(rand + keep).int().bool()``, rows of ``indices().t()``."""
    for mod in (torch, gg):
        ix = mod.tensor([[0, 1, 2, 2], [1, 0, 0, 2]])
        x = mod.sparse_coo_tensor(ix, mod.tensor([1.0, 2.0, 3.0, 4.0]), (3, 3)).coalesce()
        keep = mod.tensor([0.9, 0.1, 0.7, 0.2]) + 0.4  # a fixed stand-in for torch.rand(nnz)
        mask = keep.int().bool()
        index, values = x.indices().t()[mask], x.values()[mask] / 0.6
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the legacy constructor's deprecation notice
            g = mod.sparse.FloatTensor(index.t(), values, x.size())
        assert tuple(g.shape) == (3, 3) and g.layout == mod.sparse_coo
        np.testing.assert_allclose(g.to_dense().numpy(), [[0, 1 / 0.6, 0], [0, 0, 0], [3 / 0.6, 0, 0]])


def _sasrec_block(mod, state, seqs_np, pos_np, neg_np, emb_np):
    """One post-norm SASRec block (attention over (L, N, E), causal bool mask) and its loss."""
    attn = mod.nn.MultiheadAttention(4, 2, 0.0).double()
    ln = mod.nn.LayerNorm(4, eps=1e-8).double()
    conv = mod.nn.Conv1d(4, 4, kernel_size=1).double()
    for m, key in ((attn, "attn"), (ln, "ln"), (conv, "conv")):
        m.load_state_dict(
            {k[len(key) + 1 :]: mod.tensor(v) for k, v in state.items() if k.startswith(key + ".")}
        )
    seqs = mod.tensor(seqs_np, requires_grad=True)
    tl = seqs.shape[1]
    mask = ~mod.tril(mod.ones((tl, tl), dtype=mod.bool))
    x = mod.transpose(seqs, 0, 1)
    out, _ = attn(x, x, x, attn_mask=mask)
    x = mod.transpose(ln(x + out), 0, 1)
    feats = x + mod.relu(conv(x.transpose(-1, -2))).transpose(-1, -2)
    emb = mod.tensor(emb_np)
    pos_logits = (feats * emb[mod.LongTensor(pos_np)]).sum(dim=-1)
    neg_logits = (feats * emb[mod.LongTensor(neg_np)]).sum(dim=-1)
    indices = np.where(pos_np != 0)
    crit = mod.nn.BCEWithLogitsLoss()
    loss = crit(pos_logits[indices], mod.ones(pos_logits.shape, dtype=mod.float64)[indices])
    loss += crit(neg_logits[indices], mod.zeros(neg_logits.shape, dtype=mod.float64)[indices])
    loss.backward()
    grads = [attn.in_proj_weight.grad, attn.out_proj.weight.grad, conv.weight.grad, ln.weight.grad]
    return [loss.detach().numpy(), seqs.grad.numpy()] + [g.numpy() for g in grads]


def test_sasrec_block_and_bce_on_where_indices_as_torch(torch):
    torch.manual_seed(0)
    state = {f"attn.{k}": v for k, v in torch.nn.MultiheadAttention(4, 2).double().state_dict().items()}
    state |= {f"conv.{k}": v for k, v in torch.nn.Conv1d(4, 4, 1).double().state_dict().items()}
    state.update(
        {"ln.weight": torch.rand(4, dtype=torch.float64) + 0.5, "ln.bias": torch.rand(4, dtype=torch.float64)}
    )
    state = {k: v.detach().numpy() for k, v in state.items()}
    rng = np.random.default_rng(2)
    seqs = rng.standard_normal((3, 5, 4))
    pos = rng.integers(1, 9, (3, 5)).astype(np.int32)
    pos[:, :2] = 0
    neg = rng.integers(1, 9, (3, 5)).astype(np.int32)
    emb = rng.standard_normal((9, 4))
    want = _sasrec_block(torch, state, seqs, pos, neg, emb)
    got = _sasrec_block(gg, state, seqs, pos, neg, emb)
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-13)


def _dynamic_gru_loop(mod, x_np, batch_sizes, w_np):
    """DeepCTR-Torch's DynamicGRU walk over a packed batch: ``begin`` becomes a tensor and grows
    in place (``begin += batch``) after each slice read and slice write has been recorded."""
    x = mod.tensor(x_np, requires_grad=True)
    w = mod.tensor(w_np, requires_grad=True)
    outputs = mod.zeros(x.shape[0], w.shape[1], dtype=mod.float64)
    hx = mod.zeros(int(batch_sizes[0]), w.shape[1], dtype=mod.float64)
    begin = 0
    for batch in mod.tensor(batch_sizes):
        new_hx = mod.tanh(x[begin : begin + batch] @ w + hx[0:batch])
        outputs[begin : begin + batch] = new_hx
        hx = new_hx
        begin += batch
    (
        outputs * mod.arange(1.0, 1.0 + outputs.numel(), dtype=mod.float64).reshape(outputs.shape)
    ).sum().backward()
    return [outputs.detach().numpy(), x.grad.numpy(), w.grad.numpy()]


def test_slices_with_tensor_bounds_grown_in_place_as_torch(torch):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((7, 3)), rng.standard_normal((3, 2))
    want = _dynamic_gru_loop(torch, x, [3, 2, 2], w)
    got = _dynamic_gru_loop(gg, x, [3, 2, 2], w)
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
