"""Round 58 sparse hunt: element-wise ops of sparse COO tensors against PyTorch.

``sparse * dense`` keeps the sparse operand's entries (uncoalesced ones too) and broadcasts the
dense one; the zero-preserving unary ops and ``pow`` coalesce and map the values; ``sparse.sum``
sums dense dims too; ``isposinf`` / ``isneginf`` of a sparse tensor are sparse (they were a dense
``False``); ``zeros_like`` / ``empty_like`` of a sparse tensor are sparse with no entry; ``sparse *
sparse`` of an uncoalesced operand keeps PyTorch's layout (a source operand's entries as stored).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

# (2, 1) stored twice: an uncoalesced tensor whose stored order is not row-major
IX = np.array([[2, 0, 2, 1], [1, 3, 1, 0]], dtype=np.int64)
VALS = np.array([0.25, -0.5, 0.75, -1.5])
HYBRID = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5], [1.25, -2.0]])


def _sparse(lib, values=VALS, size=(3, 4), **kwargs):
    return lib.sparse_coo_tensor(lib.tensor(IX), lib.tensor(values), size, **kwargs)


def _same_sparse(got, ref, rtol=1e-12):
    """The same layout as PyTorch's: shape, dtype, flag, stored indices (exactly) and values."""
    assert got.is_sparse and ref.is_sparse
    assert tuple(got.shape) == tuple(ref.shape)
    assert str(got.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    assert got.is_coalesced() == ref.is_coalesced()
    assert (got.sparse_dim(), got.dense_dim()) == (ref.sparse_dim(), ref.dense_dim())
    np.testing.assert_array_equal(got._indices().numpy(), ref._indices().numpy())
    np.testing.assert_allclose(got._values().detach().numpy(), ref._values().detach().numpy(), rtol=rtol)


_GRID = np.arange(12.0).reshape(3, 4) - 2.5
DENSE_OPERANDS = {"same": _GRID, "row": _GRID[1], "column": _GRID[:, :1], "leading-one": _GRID[:1]}


@pytest.mark.parametrize("name", list(DENSE_OPERANDS))
@pytest.mark.parametrize("coalesce", [False, True], ids=["uncoalesced", "coalesced"])
def test_sparse_times_dense_keeps_entries_and_broadcasts(torch, name, coalesce):
    d = DENSE_OPERANDS[name]
    out = {}
    for lib in (gg, torch):
        s = _sparse(lib)
        s = s.coalesce() if coalesce else s
        out[lib] = (s * lib.tensor(d), lib.tensor(d) * s, lib.mul(s, lib.tensor(d)))
    for got, ref in zip(out[gg], out[torch], strict=True):
        _same_sparse(got, ref)


@pytest.mark.parametrize("d", [np.array([2.0, -3.0]), np.array(1.5)], ids=["dense-dim-vector", "0-d"])
def test_hybrid_sparse_times_dense_broadcasts_over_values(torch, d):
    got = _sparse(gg, HYBRID, (3, 4, 2)) * gg.tensor(d)
    ref = _sparse(torch, HYBRID, (3, 4, 2)) * torch.tensor(d)
    _same_sparse(got, ref)


def test_sparse_times_dense_gradients(torch):
    d = np.arange(12.0).reshape(3, 4) / 5 - 1
    grads = {}
    for lib in (gg, torch):
        s, s_row = _sparse(lib, requires_grad=True), _sparse(lib, requires_grad=True)
        dense = lib.tensor(d, requires_grad=True)
        ((s * dense).to_dense() ** 2).sum().backward()
        ((s_row * lib.tensor(d[1])).to_dense() ** 3).sum().backward()  # (PyTorch: no grad for a row)
        g_dense = dense.grad.to_dense() if dense.grad.is_sparse else dense.grad  # PyTorch's is sparse
        grads[lib] = (s.grad.to_dense(), g_dense, s_row.grad.to_dense())
    for got, ref in zip(grads[gg], grads[torch], strict=True):
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-12)


def test_sparse_times_dense_that_does_not_broadcast_raises(torch):
    with pytest.raises(RuntimeError):
        _sparse(torch) * torch.ones(5)
    with pytest.raises(RuntimeError, match="broadcast"):
        _sparse(gg) * gg.ones(5)


def test_in_place_mul_by_dense_keeps_entries(torch):
    d = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    got, ref = _sparse(gg), _sparse(torch)
    assert got.mul_(gg.tensor(d)) is got
    ref.mul_(torch.tensor(d))
    _same_sparse(got, ref)


UNARY = [
    "abs",
    "sqrt",
    "sin",
    "tanh",
    "floor",
    "sign",
    "expm1",
    "log1p",
    "relu",
    "square",
    "isnan",
    "signbit",
]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unary_op_coalesces_then_maps_values(torch, name, dtype):
    vals = np.abs(VALS) if name == "sqrt" else VALS
    rtol = 1e-12 if dtype == "float64" else 1e-6
    got = _sparse(gg, vals.astype(dtype))
    ref = _sparse(torch, vals.astype(dtype))
    _same_sparse(getattr(got, name)(), getattr(ref, name)(), rtol)
    _same_sparse(getattr(gg, name)(got), getattr(torch, name)(ref), rtol)  # the function form


def test_unary_op_of_hybrid_sparse(torch):
    _same_sparse(_sparse(gg, HYBRID, (3, 4, 2)).abs(), _sparse(torch, HYBRID, (3, 4, 2)).abs())


@pytest.mark.parametrize("name", ["abs", "sqrt", "tanh", "relu"])
def test_in_place_unary_op_needs_a_coalesced_tensor(torch, name):
    vals = np.abs(VALS)
    with pytest.raises(RuntimeError, match=f"{name}_ requires coalesced input"):
        getattr(_sparse(torch, vals), f"{name}_")()
    with pytest.raises(RuntimeError, match=f"{name}_ requires coalesced input"):
        getattr(_sparse(gg, vals), f"{name}_")()
    got, ref = _sparse(gg, vals).coalesce(), _sparse(torch, vals).coalesce()
    assert getattr(got, f"{name}_")() is got
    getattr(ref, f"{name}_")()
    _same_sparse(got, ref)


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1, 2.0])
def test_pow_coalesces_then_raises_values(torch, exponent):
    vals = np.abs(VALS) + 0.5
    got, ref = _sparse(gg, vals), _sparse(torch, vals)
    _same_sparse(got.pow(exponent), ref.pow(exponent))
    _same_sparse(got**exponent, ref**exponent)
    _same_sparse(gg.pow(got, exponent), torch.pow(ref, exponent))


def test_pow_zero_is_refused(torch):
    with pytest.raises(RuntimeError, match="zeroth power"):
        _sparse(torch).pow(0)
    with pytest.raises(RuntimeError, match="zeroth power"):
        _sparse(gg).pow(0)


@pytest.mark.parametrize("op", ["abs", "pow3", "square"])
def test_unary_op_gradient_reaches_the_leaf(torch, op):
    weights = np.arange(12.0).reshape(3, 4) - 4
    grads = {}
    for lib in (gg, torch):
        s = _sparse(lib, requires_grad=True)
        out = s.pow(3) if op == "pow3" else getattr(s, op)()
        (out.to_dense() * lib.tensor(weights)).sum().backward()
        grads[lib] = s.grad.to_dense().numpy()
    np.testing.assert_allclose(grads[gg], grads[torch], rtol=1e-12)


@pytest.mark.parametrize("dim", [2, -1, (0, 2), (1, 2), (0, 1, 2), 0], ids=str)
def test_sparse_sum_over_dense_dims(torch, dim):
    got = gg.sparse.sum(_sparse(gg, HYBRID, (3, 4, 2)), dim)
    ref = torch.sparse.sum(_sparse(torch, HYBRID, (3, 4, 2)), dim)
    if ref.is_sparse:
        _same_sparse(got, ref)
    else:
        assert not got.is_sparse
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-12)


def test_sparse_sum_over_a_dense_dim_gradient(torch):
    grads = {}
    for lib in (gg, torch):
        s = _sparse(lib, HYBRID, (3, 4, 2), requires_grad=True)
        (lib.sparse.sum(s, -1).to_dense() ** 2).sum().backward()
        grads[lib] = s.grad.to_dense().numpy()
    np.testing.assert_allclose(grads[gg], grads[torch], rtol=1e-12)


@pytest.mark.parametrize("name", ["isposinf", "isneginf", "isinf", "isnan"])
def test_infinity_tests_of_a_sparse_tensor_are_sparse(torch, name):
    vals = np.array([np.inf, -np.inf, 0.5, np.nan])
    _same_sparse(getattr(gg, name)(_sparse(gg, vals)), getattr(torch, name)(_sparse(torch, vals)))


@pytest.mark.parametrize("name", ["zeros_like", "empty_like"])
def test_zeros_like_of_a_sparse_tensor_is_sparse_and_empty(torch, name):
    for kwargs in ({}, {"dtype": "float32"}):
        got = getattr(gg, name)(
            _sparse(gg, HYBRID, (3, 4, 2)), **{k: getattr(gg, v) for k, v in kwargs.items()}
        )
        ref = getattr(torch, name)(
            _sparse(torch, HYBRID, (3, 4, 2)), **{k: getattr(torch, v) for k, v in kwargs.items()}
        )
        _same_sparse(got, ref)
    dense = gg.zeros_like(_sparse(gg), layout=gg.strided)
    assert not dense.is_sparse and tuple(dense.shape) == (3, 4)


def test_filling_like_factories_refuse_a_sparse_tensor(torch):
    with pytest.raises(NotImplementedError):
        torch.ones_like(_sparse(torch))
    for name in ("ones_like", "rand_like", "randn_like"):
        with pytest.raises(NotImplementedError, match=f"{name}: not supported for sparse COO"):
            getattr(gg, name)(_sparse(gg))


def test_sparse_storage_compared_with_a_number_is_refused():
    # a dense op that compares the stub with a number would get a plain False
    s = _sparse(gg)
    with pytest.raises(NotImplementedError, match="eq: not supported for sparse COO"):
        s._data == 0.5  # noqa: B015
    with pytest.raises(NotImplementedError, match="ne: not supported for sparse COO"):
        s._data != 0.5  # noqa: B015
    assert s._data == s._data and s._data != _sparse(gg)._data


MUL_OPERANDS = {  # (indices, values, coalesce first)
    "uncoalesced-3": ([[1, 1, 0], [2, 2, 0]], [1.0, 2.0, 3.0], False),
    "uncoalesced-2": ([[2, 1], [2, 2]], [4.0, -1.0], False),
    "coalesced-2": ([[1, 2], [2, 0]], [3.0, 5.0], True),
    "one-entry": ([[1], [2]], [-2.0], False),
    "empty": ([[], []], [], False),
}


@pytest.mark.parametrize("left", list(MUL_OPERANDS))
@pytest.mark.parametrize("right", list(MUL_OPERANDS))
def test_sparse_times_sparse_layout(torch, left, right):
    def make(lib, name):
        ix, vals, coalesce = MUL_OPERANDS[name]
        s = lib.sparse_coo_tensor(
            lib.tensor(ix, dtype=lib.int64), lib.tensor(vals, dtype=lib.float64), (3, 3)
        )
        return s.coalesce() if coalesce else s

    _same_sparse(make(gg, left) * make(gg, right), make(torch, left) * make(torch, right))


def test_hybrid_sparse_times_sparse_layout(torch):
    def product(lib):
        other = lib.sparse_coo_tensor(lib.tensor([[2, 0], [1, 1]]), lib.tensor(HYBRID[:2]), (3, 4, 2))
        return _sparse(lib, HYBRID, (3, 4, 2)) * other

    _same_sparse(product(gg), product(torch))


def test_sparse_times_sparse_gradients(torch):
    weights = np.arange(12.0).reshape(3, 4)
    grads = {}
    for lib in (gg, torch):
        source = _sparse(lib, requires_grad=True)  # uncoalesced: its entries are the result's
        other = lib.sparse_coo_tensor(
            lib.tensor([[2, 1], [1, 0]]), lib.tensor([2.0, -3.0]), (3, 4)
        ).coalesce()
        ((source * other).to_dense() * lib.tensor(weights)).sum().backward()
        grads[lib] = source.grad.to_dense().numpy()
    np.testing.assert_allclose(grads[gg], grads[torch], rtol=1e-12)
    # the other operand's gradient: d/d other[p] = sum of the source entries at p (PyTorch's own
    # answer here is not that one), checked numerically
    ix = gg.tensor([[2, 1, 0], [1, 0, 3]])
    vals = gg.tensor([2.0, -3.0, 0.5], dtype=gg.float64, requires_grad=True)
    src = _sparse(gg).detach()
    assert gg.autograd.gradcheck(
        lambda v: (src * gg.sparse_coo_tensor(ix, v, (3, 4)).coalesce()).to_dense(), (vals,)
    )
