"""Round 40, group sbert: sentence-transformers (SentenceTransformer, CrossEncoder, SparseEncoder).

``SparseEncoder.encode`` turns each batch of SPLADE embeddings into a sparse COO tensor, iterates
its rows (``list.extend(batch)``: ``unbind(0)``), stacks them back (``torch.stack``) and picks
``emb[0]`` for one sentence; ``util.semantic_search`` takes chunks with ``index_select`` and
``util.pairwise_cos_sim`` multiplies two sparse tensors. Each test compares with PyTorch: indices,
values, shapes and PyTorch's ``is_coalesced()`` flag.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import IndexOutOfRangeError, ShapeError

DENSE = np.array([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 4.0, 0.0]])
NC_IX = [[1, 0, 1, 2], [0, 1, 0, 3]]  # (1, 0) stored twice: not coalesced
NC_VALS = [1.0, 2.0, 3.0, -1.0]


def _pair(torch, ix, vals, size):
    g = gg.sparse_coo_tensor(gg.tensor(ix), gg.tensor(np.array(vals)), size)
    t = torch.sparse_coo_tensor(torch.tensor(ix), torch.tensor(np.array(vals)), size)
    return g, t


def _same(g, t):
    """Same layout, shape, dtype, coalesced flag, stored indices and values (or the same dense value)."""
    if not t.is_sparse:
        assert not getattr(g, "is_sparse", False)
        np.testing.assert_array_equal(g.detach().numpy(), t.detach().numpy())
        return
    assert g.is_sparse and tuple(g.shape) == tuple(t.shape)
    assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert g.is_coalesced() == t.is_coalesced()
    np.testing.assert_array_equal(g._indices().numpy(), t._indices().numpy())
    np.testing.assert_array_equal(g._values().detach().numpy(), t._values().detach().numpy())


def test_select_getitem_unbind_and_iteration(torch):
    g, t = gg.tensor(DENSE).to_sparse(), torch.tensor(DENSE).to_sparse()
    for i in (0, 1, 2, -1):
        _same(g[i], t[i])
        _same(g.select(0, i), t.select(0, i))
    for i in range(4):
        _same(g.select(1, i), t.select(1, i))
    for dim in (0, 1, -1):
        gu, tu = g.unbind(dim), t.unbind(dim)
        assert isinstance(gu, tuple) and len(gu) == len(tu)
        for a, b in zip(gu, tu):
            _same(a, b)
    rows = list(g)
    assert len(rows) == 3
    for a, b in zip(rows, list(t)):
        _same(a, b)
    _same(g[0][3], t[0][3])  # the only sparse dim selected: a 0-d dense tensor


def test_select_of_uncoalesced_and_hybrid(torch):
    g, t = _pair(torch, NC_IX, NC_VALS, (3, 4))
    for i in range(3):
        _same(g[i], t[i])
    _same(g[1][0], t[1][0])  # the two stored copies add up
    hv = np.arange(6.0).reshape(2, 3)
    gh = gg.sparse_coo_tensor(gg.tensor([[0, 2]]), gg.tensor(hv), (3, 3))
    th = torch.sparse_coo_tensor(torch.tensor([[0, 2]]), torch.tensor(hv), (3, 3))
    for i in range(3):
        _same(gh[i], th[i])  # no sparse dim left: the dense row (zeros where nothing is stored)


def test_index_select_sparse_dims(torch):
    g, t = gg.tensor(DENSE).to_sparse(), torch.tensor(DENSE).to_sparse()
    for dim, idx in ((0, [2, 0, 2]), (0, [2]), (1, [2, 0]), (1, [3]), (-1, [1, 1, 0]), (0, [])):
        _same(
            g.index_select(dim, gg.tensor(idx, dtype=gg.int64)),
            t.index_select(dim, torch.tensor(idx, dtype=torch.int64)),
        )
    g, t = _pair(torch, NC_IX, NC_VALS, (3, 4))
    _same(g.index_select(0, gg.tensor([1, 2])), t.index_select(0, torch.tensor([1, 2])))


def test_cat_and_stack_of_sparse(torch):
    g, t = gg.tensor(DENSE).to_sparse(), torch.tensor(DENSE).to_sparse()
    gn, tn = _pair(torch, NC_IX, NC_VALS, (3, 4))
    for dim in (0, 1, -1):
        _same(gg.cat([g, gn, g], dim), torch.cat([t, tn, t], dim))
    for dim in (0, 1, 2, -1):
        _same(gg.stack([g, gn], dim), torch.stack([t, tn], dim))
    _same(gg.stack(list(g)), torch.stack(list(t)))  # SparseEncoder.encode's round trip
    _same(gg.stack([g[1], g[1]]), torch.stack([t[1], t[1]]))  # nothing stored: coalesced
    _same(gg.cat([g]), torch.cat([t]))
    for lib, x in ((gg, g), (torch, t)):  # PyTorch's Tensor[] argument refuses a generator
        with pytest.raises(TypeError, match="must be tuple of Tensors, not generator"):
            lib.stack(y for y in (x, x))
    _same(gg.stack([g.float(), g.double()]), torch.stack([t.float(), t.double()]))


def test_sparse_times_sparse(torch):
    a = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 5.0]])
    b = np.array([[3.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    ga, gb = gg.tensor(a).to_sparse(), gg.tensor(b).to_sparse()
    ta, tb = torch.tensor(a).to_sparse(), torch.tensor(b).to_sparse()
    _same(ga * gb, ta * tb)
    _same(gb * ga, tb * ta)
    g, t = _pair(torch, NC_IX, NC_VALS, (3, 4))
    _same(g * g, t * t)  # uncoalesced: PyTorch's layout since round 58 (tests/ops/test_sparse_round58.py)
    hv = np.arange(6.0).reshape(2, 3)
    gh = gg.sparse_coo_tensor(gg.tensor([[0, 2]]), gg.tensor(hv), (3, 3)).coalesce()
    th = torch.sparse_coo_tensor(torch.tensor([[0, 2]]), torch.tensor(hv), (3, 3)).coalesce()
    _same(gh * gh, th * th)


def test_sparse_coo_tensor_with_at_most_one_entry_is_coalesced(torch):
    for ix, v in (([[1]], [1.0]), ([[0, 2]], [1.0, 2.0])):
        g = gg.sparse_coo_tensor(gg.tensor(ix), gg.tensor(v), (3,))
        t = torch.sparse_coo_tensor(torch.tensor(ix), torch.tensor(v), (3,))
        assert g.is_coalesced() == t.is_coalesced()
    ix = gg.tensor([[1]])
    assert not gg.sparse_coo_tensor(ix, gg.tensor([1.0]), (3,), is_coalesced=False).is_coalesced()
    assert (
        gg.sparse_coo_tensor(size=(2, 3)).is_coalesced()
        == torch.sparse_coo_tensor(size=(2, 3)).is_coalesced()
    )


def test_pairwise_cosine_of_sparse_rows_as_sentence_transformers(torch):
    """util.normalize_embeddings' sparse branch, then (a * b).sum(-1), in both libraries."""
    rng = np.random.default_rng(0)
    da = rng.standard_normal((4, 6)) * (rng.random((4, 6)) < 0.5)
    db = rng.standard_normal((4, 6)) * (rng.random((4, 6)) < 0.5)

    def run(lib, x, y):
        def norm(e):
            e = e.coalesce()
            ix, v = e.indices(), e.values()
            rn = lib.zeros(e.size(0), dtype=v.dtype)
            rn.index_add_(0, ix[0], v**2)
            rn = lib.sqrt(rn).index_select(0, ix[0])
            return lib.sparse_coo_tensor(ix, v / rn, e.size())

        rows = lib.stack(list(lib.tensor(x).to_sparse()))
        return (norm(rows) * norm(lib.tensor(y).to_sparse())).to_dense().sum(-1)

    np.testing.assert_allclose(run(gg, da, db).numpy(), run(torch, da, db).numpy(), rtol=0, atol=1e-15)


def test_gradients_reach_the_values():
    rng = np.random.default_rng(1)
    for shape in ((3, 4), (2, 5), (4, 2, 3)):
        nnz = 5
        ix = np.stack([rng.integers(0, n, nnz) for n in shape])
        ix2 = np.stack([rng.integers(0, n, nnz + 2) for n in shape])
        v = gg.tensor(rng.standard_normal(nnz), requires_grad=True)
        w = gg.tensor(rng.standard_normal(nnz + 2), requires_grad=True)
        sp = lambda i, x: gg.sparse_coo_tensor(i, x, shape)  # noqa: E731
        assert gradcheck(lambda x: sp(ix, x)[shape[0] - 1].to_dense(), (v,))
        assert gradcheck(lambda x: gg.stack(list(sp(ix, x)), 1).to_dense(), (v,))
        assert gradcheck(lambda x: sp(ix, x).index_select(0, gg.tensor([1, 0, 1])).to_dense(), (v,))
        assert gradcheck(lambda x, y: (sp(ix, x) * sp(ix2, y)).to_dense(), (v, w))
        assert gradcheck(
            lambda x, y: gg.cat([sp(ix, x), sp(ix2, y)], -1 if len(shape) == 2 else 1).to_dense(), (v, w)
        )


def test_bad_input_is_named():
    s = gg.tensor(DENSE).to_sparse()
    with pytest.raises(IndexOutOfRangeError, match=r"select\(\): index 3 out of range .* at dimension 0"):
        s[3]
    with pytest.raises(IndexOutOfRangeError, match=r"index_select\(\): index 4 out of range"):
        s.index_select(1, gg.tensor([0, 4]))
    with pytest.raises(IndexOutOfRangeError, match="1-D integer index"):
        s.index_select(0, gg.tensor([[0]]))
    with pytest.raises(RuntimeError, match="dense tensor was found at position 1"):
        gg.cat([s, gg.tensor(DENSE)])
    with pytest.raises(ShapeError, match=r"stack: expected sparse tensors of one shape"):
        gg.stack([s, s.t()])
    with pytest.raises(ShapeError, match=r"cat: expected sparse tensors of one shape outside dim 0"):
        gg.cat([s, s.t()])
    with pytest.raises(ShapeError, match=r"mul: expected sparse tensors of one shape"):
        s * s.t()
    with pytest.raises(NotImplementedError, match="indexing with slice"):
        s[0:2]
    h = gg.sparse_coo_tensor(gg.tensor([[0, 2]]), gg.ones(2, 3), (3, 3))
    # (round 67: a dense dim selects from the values, as PyTorch's; it used to be refused)
    np.testing.assert_array_equal(h.select(1, 0).to_dense().numpy(), h.to_dense().numpy()[:, 0])


@pytest.mark.parametrize("where", ["meta", "dev", "dict"])
def test_load_to_the_meta_device(torch, tmp_path, where):
    """transformers reads a pytorch_model.bin's keys with ``load(..., map_location="meta")``."""
    spec = {"w": ((3, 4), "float64", True), "b": ((4,), "float32", False), "n": ((2,), "int64", False)}

    def run(lib, path):
        obj = {k: lib.zeros(s, dtype=getattr(lib, d), requires_grad=r) for k, (s, d, r) in spec.items()}
        lib.save({"sd": obj, "step": 3}, path)
        loc = {"meta": "meta", "dev": lib.device("meta"), "dict": {"cpu": "meta"}}[where]
        got = lib.load(path, map_location=loc, weights_only=True)
        return got["step"], {
            k: (v.is_meta, tuple(v.shape), str(v.dtype).split(".")[-1], v.requires_grad)
            for k, v in got["sd"].items()
        }

    assert run(gg, tmp_path / "g.pt") == run(torch, tmp_path / "t.pt")


def _forms(lib, x):
    return {
        "select": lib.select(x, 0, 2),
        "index_select": lib.index_select(x, 1, lib.tensor([3, 0])),
        "transpose": lib.transpose(x, 0, 1),
        "t": lib.t(x),
        "mul": lib.mul(x, x),
        "sum": lib.sum(x),
        "sum_dtype": lib.sum(x, dtype=lib.float32),
    }


def test_function_forms_call_the_sparse_methods(torch):
    g, t = gg.tensor(DENSE).to_sparse(), torch.tensor(DENSE).to_sparse()
    got, want = _forms(gg, g), _forms(torch, t)
    for k in want:
        if want[k].is_sparse:
            _same(got[k], want[k])
        else:
            np.testing.assert_array_equal(got[k].numpy(), want[k].numpy())
            assert str(got[k].dtype).split(".")[-1] == str(want[k].dtype).split(".")[-1]
    for a, b in zip(gg.unbind(g, dim=1), torch.unbind(t, dim=1)):
        _same(a, b)
    with pytest.raises(NotImplementedError, match="exp: not supported for sparse COO"):
        gg.exp(g)  # no sparse method of that name: still refused by name
