"""Round 27, graph networks: tkipf/pygcn and Diego999/pyGAT, distilled.

pygcn builds its normalised adjacency as ``torch.sparse.FloatTensor(indices, values, shape)``
from a scipy matrix and multiplies with ``torch.spmm``; pyGAT's sparse layer is a custom
``autograd.Function`` that makes a ``sparse_coo_tensor`` inside ``forward``, saves it, and in
``backward`` reads ``a._indices()`` and multiplies by ``a.t()``. Each test runs the same code on
glassgrad and on PyTorch and compares the results.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg


def _adjacency():
    """pygcn's utils: a symmetric scipy adjacency with self-loops, row-normalised, as COO."""
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(0)
    edges = rng.integers(0, 6, size=(9, 2))
    adj = sp.coo_matrix((np.ones(9), (edges[:, 0], edges[:, 1])), shape=(6, 6), dtype=np.float32)
    adj = adj + adj.T.multiply(adj.T > adj) - adj.multiply(adj.T > adj)  # noqa: SIM300 - pygcn's line
    adj = adj + sp.eye(6)
    adj = sp.diags(1.0 / np.asarray(adj.sum(1)).ravel()).dot(adj)
    return adj.tocoo().astype(np.float32)


def _legacy_sparse(lib, mx):
    """pygcn's sparse_mx_to_torch_sparse_tensor, verbatim but for the module name."""
    indices = lib.from_numpy(np.vstack((mx.row, mx.col)).astype(np.int64))
    values = lib.from_numpy(mx.data)
    shape = lib.Size(mx.shape)
    return lib.sparse.FloatTensor(indices, values, shape)


def test_pygcn_sparse_float_tensor_and_spmm(torch):
    mx = _adjacency()
    rng = np.random.default_rng(1)
    x, w = rng.random((6, 4)).astype(np.float32), rng.random((4, 3)).astype(np.float32)
    out = {}
    for lib in (torch, gg):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            adj = _legacy_sparse(lib, mx)
        wt = lib.tensor(w, requires_grad=True)
        y = lib.spmm(adj, lib.mm(lib.tensor(x), wt))
        y.sum().backward()
        out[lib] = (adj, y, wt.grad, caught)
    (ta, ty, tg, tw), (ga, gy, gg_, gw) = out[torch], out[gg]
    assert ga.layout == gg.sparse_coo and ga.dtype == gg.float32 and ga.shape == (6, 6)
    np.testing.assert_array_equal(ga.to_dense().numpy(), ta.to_dense().numpy())
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(gg_.numpy(), tg.numpy(), rtol=1e-6)
    # PyTorch's deprecation warning; both warn once per process for each form, so compare the
    # opening (which filters match; the rest is in our words) only where PyTorch warned here
    mine = [str(w.message).split(" is deprecated")[0] for w in gw if issubclass(w.category, UserWarning)]
    for w in tw:
        assert str(w.message).split(" is deprecated")[0] in mine


def test_legacy_sparse_constructor_forms(torch):
    i = [[0, 1], [1, 0]]
    for vals in ([1.0, 2.0], np.array([1.0, 2.0])):
        for lib_t, lib_g in ((torch.sparse.FloatTensor, gg.sparse.FloatTensor),
                             (torch.sparse.LongTensor, gg.sparse.LongTensor)):  # fmt: skip
            t = lib_t(torch.tensor(i), torch.tensor(vals))  # the values' dtype wins, as PyTorch
            g = lib_g(gg.tensor(i), gg.tensor(vals))
            assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
            assert tuple(g.shape) == tuple(t.shape)
            np.testing.assert_array_equal(g.to_dense().numpy(), t.to_dense().numpy())
    for args in ((2, 3), (gg.Size([2, 3]),), ()):
        targs = tuple(torch.Size(a) if isinstance(a, gg.Size) else a for a in args)
        t, g = torch.sparse.DoubleTensor(*targs), gg.sparse.DoubleTensor(*args)
        assert tuple(g.shape) == tuple(t.shape) and g._nnz() == t._nnz() == 0
        assert g.dtype == gg.float64 and g.layout == gg.sparse_coo
    s = gg.sparse_coo_tensor(i, [1.0, 2.0])
    assert isinstance(s, gg.sparse.FloatTensor) and not isinstance(s, gg.sparse.DoubleTensor)
    assert not isinstance(gg.ones(2), gg.sparse.FloatTensor)
    assert isinstance(torch.sparse_coo_tensor(i, [1.0, 2.0]), torch.sparse.FloatTensor)
    with pytest.raises(RuntimeError, match="int64"):
        gg.sparse.FloatTensor(gg.tensor(i, dtype=gg.int32), gg.tensor([1.0, 2.0]), (2, 2))
    with pytest.raises(TypeError, match="sparse.FloatTensor"):
        gg.sparse.FloatTensor([[0, 1]], [1.0, 2.0], (2, 2))


def test_legacy_sparse_constructor_warns_once_per_form():
    from glassgrad import sparse_more

    sparse_more._WARNED.discard("shape")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gg.sparse.FloatTensor(2, 3)
        gg.sparse.FloatTensor(4)
    texts = [str(w.message) for w in caught]
    assert texts == [
        "torch.sparse.SparseTensor(shape, *, device=) is deprecated: build the tensor with "
        "torch.sparse_coo_tensor(shape, dtype=, device=)"
    ]
    assert caught[0].filename == __file__  # pointed at the caller


def _special_spmm(lib):
    """pyGAT's SpecialSpmmFunction (layers.py), as written there."""

    class SpecialSpmmFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, indices, values, shape, b):
            a = lib.sparse_coo_tensor(indices, values, shape)
            ctx.save_for_backward(a, b)
            ctx.N = shape[0]
            return lib.matmul(a, b)

        @staticmethod
        def backward(ctx, grad_output):
            a, b = ctx.saved_tensors
            grad_values = grad_b = None
            if ctx.needs_input_grad[1]:
                grad_a_dense = grad_output.matmul(b.t())
                edge_idx = a._indices()[0, :] * ctx.N + a._indices()[1, :]
                grad_values = grad_a_dense.view(-1)[edge_idx]
            if ctx.needs_input_grad[3]:
                grad_b = a.t().matmul(grad_output)
            return None, grad_values, None, grad_b

    return SpecialSpmmFunction


def test_pygat_special_spmm_function(torch):
    rng = np.random.default_rng(2)
    dense_adj = (rng.random((7, 7)) < 0.4) | np.eye(7, dtype=bool)
    h, g, e = rng.standard_normal((7, 3)), rng.standard_normal((7, 3)), rng.random(int(dense_adj.sum()))
    res = []
    for lib in (torch, gg):
        edge = lib.tensor(dense_adj.astype(np.float64)).nonzero().t()  # SpGraphAttentionLayer's edges
        values, b = lib.tensor(e, requires_grad=True), lib.tensor(h, requires_grad=True)
        out = _special_spmm(lib).apply(edge, values, lib.Size([7, 7]), b)
        rowsum = _special_spmm(lib).apply(
            edge, values, lib.Size([7, 7]), lib.ones(size=(7, 1), dtype=lib.float64)
        )
        (out.div(rowsum) * lib.tensor(g)).sum().backward()
        res.append((out, values.grad, b.grad))
    for t, m in zip(*res):
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-14)
