"""What porting round 30's graph programs needed (docs/porting.md, "Real scripts ported"): the
index helpers that graph code builds its edge lists and pooled read-outs from. ``triu_indices`` /
``tril_indices`` and ``combinations`` (all-pairs edges of a molecule), ``index_reduce`` (per-node
max / mean / product of incoming messages) and ``segment_reduce`` (per-graph pooling of batched
nodes), and PyTorch's warn-once notes on ``scatter(reduce=)`` with a tensor src and on
``index_reduce``. Each script runs on glassgrad and on PyTorch and the results are compared."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad
from glassgrad.autograd import gradcheck

from .helpers import assert_same

RNG = np.random.RandomState(0)
SELF = RNG.randn(4, 3)
SRC = RNG.randn(6, 3)
IDX = np.array([0, 2, 2, 1, 0, 2])  # node 3 receives nothing, node 2 three messages
W = RNG.randn(4, 3)
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:index_reduce\(\) is in beta:UserWarning"),
    pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning"),  # PyTorch's own note
]


def script_edge_lists(torch):
    pairs = torch.triu_indices(5, 5, offset=1)  # undirected edges i < j
    lower = torch.tril_indices(4, 3, -1)
    wide = torch.triu_indices(3, 5, -1, dtype=torch.int32)
    empty = [torch.triu_indices(0, 3), torch.tril_indices(3, 3, -10), torch.triu_indices(3, 3, 10)]
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    comb = torch.combinations(x)
    rep = torch.combinations(x, r=3, with_replacement=True)
    (comb.prod(dim=1).sum() + rep.pow(2).sum()).backward()
    nodes = torch.arange(4)
    edges = torch.combinations(nodes, 2).t()
    return [pairs, lower, wide, *empty, comb, rep, x.grad, edges, torch.combinations(x, r=0),
            torch.combinations(x, r=4)]  # fmt: skip


def test_all_pairs_edge_lists_as_pytorch(torch):
    assert_same(script_edge_lists(glassgrad), script_edge_lists(torch), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lib", ["glassgrad", "torch"])
def test_edge_list_refusals_as_pytorch(lib, torch):
    L = glassgrad if lib == "glassgrad" else torch
    with pytest.raises((RuntimeError, ValueError)):
        L.triu_indices(-1, 3)
    with pytest.raises((RuntimeError, ValueError)):
        L.combinations(L.ones(2, 2))
    with pytest.raises((RuntimeError, ValueError)):
        L.combinations(L.ones(3), r=-1)


def script_index_reduce(torch, reduce, include_self):
    s = torch.tensor(SELF, requires_grad=True)
    src = torch.tensor(SRC, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's beta note, said once per process
        out = s.index_reduce(0, torch.tensor(IDX), src, reduce, include_self=include_self)
    (out * torch.tensor(W)).sum().backward()
    return [out, s.grad, src.grad]


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_values_and_gradients_as_pytorch(reduce, include_self, torch):
    ours = script_index_reduce(glassgrad, reduce, include_self)
    assert_same(ours, script_index_reduce(torch, reduce, include_self), rtol=1e-12, atol=1e-12)


def script_index_reduce_forms(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ints = torch.tensor([-3, 5, 7])
        src = torch.tensor([-4, 2, 6])
        mean_int = ints.index_reduce(0, torch.tensor([0, 0, 2]), src, "mean")
        idx32 = torch.tensor([0, 0, 2], dtype=torch.int32)
        mean_int32 = ints.index_reduce(0, idx32, src, "mean", include_self=False)
        s = torch.tensor(SELF.T.copy(), requires_grad=True)
        d = torch.tensor(SRC.T.copy(), requires_grad=True)
        dim1 = s.index_reduce(1, torch.tensor(IDX), d, "amax", include_self=False)
        (dim1 * dim1).sum().backward()
        inplace = torch.tensor(SELF).index_reduce_(0, torch.tensor(IDX), torch.tensor(SRC), "prod")
        fn = torch.index_reduce(torch.tensor(SELF), 0, torch.tensor(IDX), torch.tensor(SRC), "mean")
    return [mean_int, mean_int32, dim1, s.grad, d.grad, inplace, fn]


def test_index_reduce_forms_as_pytorch(torch):
    ours = script_index_reduce_forms(glassgrad)
    assert_same(ours, script_index_reduce_forms(torch), rtol=1e-12, atol=1e-12)


def test_index_reduce_refusals():
    x, idx, src = glassgrad.tensor(SELF), glassgrad.tensor(IDX), glassgrad.tensor(SRC)
    with pytest.raises(ValueError, match="index_reduce: expected reduce"):
        x.index_reduce(0, idx, src, "sum")  # PyTorch has index_add for that
    with pytest.raises(Exception, match="index_reduce"):
        x.index_reduce(0, idx, src.float(), "prod")
    with pytest.raises(Exception, match="index_reduce"):
        x.index_reduce(0, idx, src[:4], "prod")


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax"])
def test_index_reduce_gradcheck(reduce):
    s = glassgrad.tensor(SELF, requires_grad=True)
    src = glassgrad.tensor(SRC, requires_grad=True)
    idx = glassgrad.tensor(IDX)
    assert gradcheck(lambda a, b: a.index_reduce(0, idx, b, reduce, include_self=False), (s, src))


def script_segment_reduce(torch, reduce, kw, data=SRC, axis=0):
    d = torch.tensor(data, requires_grad=True)
    kw = {k: (torch.tensor(v) if isinstance(v, list) else v) for k, v in kw.items()}
    out = torch.segment_reduce(d, reduce, axis=axis, **kw)
    weight = torch.tensor(np.random.RandomState(3).randn(*out.shape))
    (out.nan_to_num(0.0, 0.0, 0.0) * weight).sum().backward()
    return [out, d.grad]


FORMS = [
    ({"lengths": [2, 0, 4]}, SRC, 0),
    ({"offsets": [0, 3, 3, 6]}, SRC, 0),
    ({"lengths": [2, 0, 4], "initial": 0.5}, SRC, 0),
    ({"lengths": [2, 1, 0], "initial": 1.0}, np.array([1.0, 1.0, 3.0]), 0),  # ties with initial
    ({"lengths": [[2, 1], [0, 3]]}, SRC[:2].copy(), 1),
    ({"lengths": [[2, 1], [0, 3]]}, SRC[:2].copy(), -1),
    ({"lengths": [2, 1], "unsafe": True}, SRC, 0),  # stops short: the rest is left out
]


@pytest.mark.parametrize("reduce", ["sum", "mean", "prod", "max", "min"])
@pytest.mark.parametrize("form", range(len(FORMS)))
def test_segment_reduce_values_and_gradients_as_pytorch(reduce, form, torch):
    kw, data, axis = FORMS[form]
    ours = script_segment_reduce(glassgrad, reduce, kw, data, axis)
    assert_same(ours, script_segment_reduce(torch, reduce, kw, data, axis), rtol=1e-12, atol=1e-12)


def test_segment_reduce_float32_and_int32_lengths(torch):
    def run(L):
        d = L.tensor(SRC, dtype=L.float32)
        return L.segment_reduce(d, "mean", lengths=L.tensor([2, 4], dtype=L.int32))

    assert_same(run(glassgrad), run(torch))


@pytest.mark.parametrize("lib", ["glassgrad", "torch"])
def test_segment_reduce_refusals_as_pytorch(lib, torch):
    L = glassgrad if lib == "glassgrad" else torch
    d = L.tensor(SRC)
    with pytest.raises((RuntimeError, ValueError)):
        L.segment_reduce(d, "sum", lengths=L.tensor([2, 3]))  # sums to 5, not 6
    with pytest.raises((RuntimeError, ValueError)):
        L.segment_reduce(d, "sum")
    with pytest.raises((RuntimeError, ValueError)):
        L.segment_reduce(d, "avg", lengths=L.tensor([6]))
    with pytest.raises((RuntimeError, NotImplementedError)):
        L.segment_reduce(L.arange(3), "sum", lengths=L.tensor([3]))  # integer data


def test_segment_reduce_gradcheck():
    d = glassgrad.tensor(SRC, requires_grad=True)
    lengths = glassgrad.tensor([2, 0, 4])
    for reduce in ("sum", "mean", "prod", "max"):
        assert gradcheck(lambda a: glassgrad.segment_reduce(a, reduce, lengths=lengths, initial=-5.0), (d,))


def _said(fn):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fn()
    return [str(w.category.__name__) for w in seen]


def test_warn_once_notes_as_pytorch():
    x = glassgrad.zeros(4, 3)
    idx = glassgrad.tensor(IDX[:3]).unsqueeze(-1).expand(-1, 3)
    src = glassgrad.ones(3, 3)
    assert _said(lambda: x.scatter(0, idx, 2.0, reduce="add")) == []  # a number: no note
    assert _said(lambda: x.scatter(0, idx, src, reduce="add")) == ["UserWarning"]
    assert _said(lambda: x.scatter(0, idx, src, reduce="multiply")) == []  # once per process
    i1 = glassgrad.tensor(IDX[:3])
    assert _said(lambda: x.index_reduce(0, i1, src, "amax")) == ["UserWarning"]
    assert _said(lambda: x.index_reduce_(0, i1, src, "amax")) == []
    with pytest.warns(UserWarning, match=r"^index_reduce\(\) is in beta"):
        glassgrad.ops.scatter._WARNED.clear()
        x.index_reduce(0, i1, src, "mean")


def script_pdist(torch):
    # duplicate rows: a zero distance off the diagonal, whose gradient PyTorch takes as zero
    rows = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]])
    out = []
    for p in (0.0, 1.0, 2.0, 3.0, float("inf")):
        x = torch.tensor(rows, requires_grad=True)
        d = torch.pdist(x, p)
        (d * torch.arange(1.0, 7.0, dtype=torch.float64)).sum().backward()
        out += [d, x.grad]
    out += [torch.nn.functional.pdist(torch.tensor(SRC), p=1.5), torch.pdist(torch.ones(1, 3))]
    return out


def test_pdist_as_pytorch(torch):
    assert_same(script_pdist(glassgrad), script_pdist(torch), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lib", ["glassgrad", "torch"])
def test_pdist_refusals_as_pytorch(lib, torch):
    L = glassgrad if lib == "glassgrad" else torch
    for bad in (lambda: L.pdist(L.ones(3)), lambda: L.pdist(L.ones(2, 3), p=-1.0)):
        with pytest.raises((RuntimeError, ValueError)):
            bad()
    with pytest.raises((RuntimeError, TypeError)):
        L.pdist(L.ones(2, 3, dtype=L.int64))


def test_pdist_gradcheck():
    x = glassgrad.tensor(SRC, requires_grad=True)
    assert gradcheck(lambda a: glassgrad.pdist(a, 3.0), (x,))


EDGES = np.array([[0, 1, 1, 2, 0, 1], [1, 0, 2, 1, 1, 3]])  # (0, 1) twice: coalesced first


def script_sparse_softmax(torch):
    out = []
    for fn, dim, hybrid in [("softmax", 1, False), ("softmax", 0, False), ("log_softmax", 1, False),
                            ("softmax", 2, True), ("log_softmax", 1, True)]:  # fmt: skip
        v = torch.tensor(
            np.arange(12.0).reshape(6, 2) / 5 if hybrid else np.arange(1.0, 7.0), requires_grad=True
        )
        a = torch.sparse_coo_tensor(torch.tensor(EDGES), v, (3, 4, 2) if hybrid else (3, 4))
        s = getattr(torch.sparse, fn)(a, dim)
        dense = s.to_dense()
        (
            dense * torch.arange(float(dense.numel()), dtype=torch.float64).reshape(dense.shape)
        ).sum().backward()
        out += [s.is_coalesced(), s._indices(), s._values(), dense, v.grad]
    a32 = torch.sparse_coo_tensor(torch.tensor(EDGES), torch.arange(1.0, 7.0, dtype=torch.float64), (3, 4))
    out.append(torch.sparse.softmax(a32, 1, dtype=torch.float32).to_dense())
    return out


def test_sparse_softmax_as_pytorch(torch):
    assert_same(script_sparse_softmax(glassgrad), script_sparse_softmax(torch), rtol=1e-12, atol=1e-12)


def test_sparse_softmax_negative_dim_and_gradcheck():
    # dim=-1 is dim=1 here (PyTorch 2.13's backward for a negative dim fails its own gradcheck)
    idx = glassgrad.tensor(EDGES)

    def attention(v, dim):
        return glassgrad.sparse.softmax(glassgrad.sparse_coo_tensor(idx, v, (3, 4)), dim).to_dense()

    v = glassgrad.tensor(np.arange(1.0, 7.0), requires_grad=True)
    assert gradcheck(lambda t: attention(t, -1), (v,))
    np.testing.assert_allclose(attention(v, -1).detach().numpy(), attention(v, 1).detach().numpy())
    with pytest.raises(NotImplementedError, match="sparse.softmax"):
        glassgrad.sparse.softmax(glassgrad.ones(2, 3), 1)
