"""Round 67 (pt_sparse): PyTorch's ``test/test_sparse.py`` (COO) re-created as differential cases.

Silently wrong before: a number given as values with ``dtype=float64`` went through float32
(``12.3`` stored as ``12.300000190734863``); ``div(rounding_mode=)`` / ``//`` of an uncoalesced tensor
rounded each stored duplicate before summing; ``s[i]`` of the last sparse dim of an integer tensor
promoted to int64; the indices were copied (PyTorch's tensor shares them). Ran where PyTorch raises:
``sparse.sum`` over an out-of-range or repeated dim, ``mm`` / ``sparse.mm`` with a vector,
``is_coalesced=True`` on unsorted indices under ``check_invariants=True``. Missing: ``narrow_copy``,
``permute``, ``transpose_``, ``mv``, ops along a dense dim of a hybrid tensor, ``smm`` & co.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad as gg

# stored twice at (2, 1), not in row-major order: an uncoalesced tensor
IX = np.array([[2, 0, 2, 1], [1, 3, 1, 0]], dtype=np.int64)
VALS = np.array([-20.5, 30.0, -20.0, 40.25])


def _pair(torch, values=VALS, size=(3, 4), coalesce=False, **kwargs):
    out = []
    for lib in (gg, torch):
        s = lib.sparse_coo_tensor(lib.tensor(IX), lib.tensor(values), size, **kwargs)
        out.append(s.coalesce() if coalesce else s)
    return out


def _dense(t):
    return t.to_dense().detach().numpy() if t.is_sparse else t.detach().numpy()


def test_number_values_are_made_in_the_asked_dtype(torch):
    for values, size in ((12.3, ()), ([0.1, 0.2], (3,))):
        ix = np.zeros((0, 1), np.int64) if size == () else np.array([[0, 2]])  # (sparse_dim, nnz)
        ours = gg.sparse_coo_tensor(gg.tensor(ix), values, size, dtype=gg.float64)
        ref = torch.sparse_coo_tensor(torch.tensor(ix), values, size, dtype=torch.float64)
        np.testing.assert_array_equal(ours._values().numpy(), ref._values().numpy())
        assert tuple(ours._values().shape) == tuple(ref._values().shape)


@pytest.mark.parametrize("op", ["floor_div", "div_floor", "div_trunc", "floor_divide_"])
def test_rounding_division_sums_duplicates_first(torch, op):
    ours, ref = _pair(torch)

    def run(s):
        if op == "floor_div":
            return s // 7.5
        if op == "floor_divide_":
            return s.coalesce().clone().floor_divide_(7.5)
        return s.div(7.5, rounding_mode=op.split("_")[1])

    got, want = run(ours), run(ref)
    np.testing.assert_array_equal(_dense(got), _dense(want))
    mode = "trunc" if op == "div_trunc" else "floor"  # and the dense semantics: round the summed entry
    np.testing.assert_array_equal(_dense(got), _dense(ref.to_dense().div(7.5, rounding_mode=mode)))
    assert got.is_coalesced() == want.is_coalesced()


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_select_of_the_last_sparse_dim_keeps_an_integer_dtype(torch, dtype):
    ix = [[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1]]
    for lib in (gg, torch):
        s = lib.sparse_coo_tensor(lib.tensor(ix), lib.ones(6, dtype=getattr(lib, dtype)), (3, 3))
        got = [s[2], s[0, 1], s[0, 0], s[1, 1]]
        if lib is gg:
            ours = got
    for a, b in zip(ours, got):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_array_equal(_dense(a), _dense(b))


def test_indices_and_values_are_shared_with_the_given_tensors(torch):
    results = []
    for lib in (gg, torch):
        i, v = lib.tensor([[2]]), lib.tensor([5.0], dtype=lib.float64)
        s = lib.sparse_coo_tensor(i, v, (3,))
        v[0] = 6
        first = _dense(s)
        i[0][0] = 0
        results.append((first, _dense(s)))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("dims", [5, -5, [0, 0], [1, -2]])
def test_sparse_sum_refuses_bad_dims(torch, dims):
    ours = gg.sparse_coo_tensor(gg.tensor(IX), gg.tensor(VALS).reshape(4, 1).expand(4, 2), (3, 4, 2))
    ref = torch.sparse_coo_tensor(torch.tensor(IX), torch.tensor(VALS).reshape(4, 1).expand(4, 2), (3, 4, 2))
    with pytest.raises(Exception) as theirs:
        torch.sparse.sum(ref, dims)
    with pytest.raises(type(theirs.value)):
        gg.sparse.sum(ours, dims)


@pytest.mark.parametrize("fn", ["mm", "sparse.mm", "spmm", "method"])
def test_matrix_products_refuse_a_vector(torch, fn):
    for lib in (gg, torch):
        s, vec = lib.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]]).to_sparse(), lib.ones(2)
        call = {"mm": lambda: lib.mm(s, vec), "sparse.mm": lambda: lib.sparse.mm(s, vec),
                "spmm": lambda: lib.spmm(s, vec), "method": lambda: s.mm(vec)}[fn]  # fmt: skip
        with pytest.raises(IndexError):
            call()
        np.testing.assert_array_equal(s.mv(vec).numpy(), np.array([1.0, 2.0, 3.0], np.float32))
        np.testing.assert_array_equal((s @ vec).numpy(), np.array([1.0, 2.0, 3.0], np.float32))
        with pytest.raises(RuntimeError):
            s.mv(lib.ones(3))


def test_check_invariants_verifies_a_claimed_coalesced_flag(torch):
    for lib in (gg, torch):
        i, v = lib.tensor(IX), lib.tensor(VALS)
        with pytest.raises(RuntimeError, match="cannot set is_coalesced to true"):
            lib.sparse_coo_tensor(i, v, (3, 4), is_coalesced=True, check_invariants=True)
        c = lib.sparse_coo_tensor(i, v, (3, 4)).coalesce()
        s = lib.sparse_coo_tensor(c._indices(), c._values(), (3, 4), is_coalesced=True, check_invariants=True)
        assert s.is_coalesced()


def test_numel_overflow_is_refused():
    with pytest.raises(RuntimeError):
        gg.sparse_coo_tensor(gg.tensor([[5, 4]] * 4), gg.tensor([1.0, 2.0]), (100001,) * 4)


def test_no_sparse_dim_coalesces_and_differentiates(torch):
    got = []
    for lib in (gg, torch):
        v = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        s = lib.sparse_coo_tensor(lib.zeros(0, 2, dtype=lib.int64), v, (2,))
        d = s.to_dense()
        d.backward(lib.tensor([1.0, 5.0], dtype=lib.float64))
        c = s.detach().coalesce()
        got.append((d.detach().numpy(), v.grad.numpy(), c._values().numpy(), tuple(c._indices().shape)))
        scalar = lib.tensor(12.5, dtype=lib.float64).to_sparse()
        got.append((scalar._values().numpy(), tuple(scalar._indices().shape), _dense(scalar)))
        zero = lib.tensor(0.0).to_sparse()
        got.append((tuple(zero._indices().shape), zero._nnz()))
    for a, b in zip(got[:3], got[3:]):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("coalesce", [False, True])
def test_transpose_permute_and_their_flags(torch, coalesce):
    values = np.arange(24.0).reshape(4, 3, 2)
    ours, ref = _pair(torch, values, (3, 4, 3, 2), coalesce)
    for dims in itertools.permutations(range(-4, 0)):
        try:
            want = ref.permute(dims)
        except RuntimeError:
            with pytest.raises(RuntimeError, match="transpositions between sparse and dense"):
                ours.permute(dims)
            continue
        got = ours.permute(dims)
        np.testing.assert_array_equal(_dense(got), _dense(want))
        assert got.is_coalesced() == want.is_coalesced()
    for bad in ((1, 0), (1, 1, 2, 3)):
        with pytest.raises(RuntimeError):
            ours.permute(dims=bad)
    got, want = ours.transpose(0, 1), ref.transpose(0, 1)
    assert got.is_coalesced() == want.is_coalesced()
    for s in (ours, ref):
        s.transpose_(0, 1)
    np.testing.assert_array_equal(_dense(ours), _dense(ref))
    for lib in (gg, torch):  # no entry: the transpose keeps the coalesced flag (PyTorch's)
        e = lib.sparse_coo_tensor((2, 3), dtype=lib.float64).coalesce()
        assert e.t().is_coalesced()
        e.t_()
        assert tuple(e.shape) == (3, 2)


@pytest.mark.parametrize("coalesce", [False, True])
def test_narrow_copy_over_sparse_and_dense_dims(torch, coalesce):
    values = np.arange(8.0).reshape(4, 2) - 3
    ours, ref = _pair(torch, values, (3, 4, 2), coalesce)
    for dim, size in enumerate((3, 4, 2)):
        for start in range(size + 1):
            for length in range(size - start + 1):
                got, want = ours.narrow_copy(dim, start, length), ref.narrow_copy(dim, start, length)
                np.testing.assert_array_equal(_dense(got), _dense(want))
                assert tuple(got.shape) == tuple(want.shape) and got.is_sparse
    for args in ((-1, 0, 1), (3, 0, 1), (0, 4, 1), (0, 2, 2)):
        with pytest.raises(RuntimeError):
            ref.narrow_copy(*args)
        with pytest.raises(RuntimeError):
            ours.narrow_copy(*args)


def test_narrow_copy_gradient_reaches_the_kept_values():
    # (PyTorch has no backward for a sparse narrow_copy: the reference is the chain rule by hand)
    v = gg.tensor(VALS, dtype=gg.float64, requires_grad=True)
    s = gg.sparse_coo_tensor(gg.tensor(IX), v, (3, 4))
    weights = np.arange(8.0).reshape(2, 4)
    (s.narrow_copy(0, 1, 2).to_dense() * gg.tensor(weights)).sum().backward()
    rows, cols = IX
    kept = (rows >= 1) & (rows < 3)
    want = np.where(kept, weights[np.clip(rows - 1, 0, 1), cols], 0.0)
    np.testing.assert_array_equal(v.grad.numpy(), want)


def test_hybrid_ops_along_a_dense_dim(torch):
    values = np.arange(12.0).reshape(4, 3) - 5
    (ours, ref), (ours2, ref2) = _pair(torch, values, (3, 4, 3)), _pair(torch, values[:, :2] * 2, (3, 4, 2))
    pairs = [
        (lambda lib, s, t: s.select(2, 1), 1), (lambda lib, s, t: s.select(-1, -3), 1),
        (lambda lib, s, t: s.index_select(2, lib.tensor([2, 0, 2])), 1),
        (lambda lib, s, t: lib.cat([s, t], 2), 1), (lambda lib, s, t: lib.cat([t, s, t], -1), 1),
        (lambda lib, s, t: s[1, 0], 1), (lambda lib, s, t: s[2, 1, 0], 1),
        (lambda lib, s, t: s + lib.sparse_coo_tensor(tuple(s.shape), dtype=s.dtype), 1),
        (lambda lib, s, t: lib.sparse_coo_tensor(tuple(s.shape), dtype=s.dtype) + s, 1),
    ]  # fmt: skip
    for fn, _ in pairs:
        np.testing.assert_array_equal(_dense(fn(gg, ours, ours2)), _dense(fn(torch, ref, ref2)))
    for lib, s in ((gg, ours), (torch, ref)):
        with pytest.raises(RuntimeError):  # a dense dim takes no negative index (PyTorch's)
            s.index_select(2, lib.tensor([-1]))


def test_dense_dim_ops_differentiate(torch):
    # PyTorch differentiates these sparse ops only partly: the reference is the same expression on
    # the dense tensor (through PyTorch's differentiable to_dense)
    grads = []
    for lib in (gg, torch):
        v = lib.tensor(np.arange(12.0).reshape(4, 3), dtype=lib.float64, requires_grad=True)
        s = lib.sparse_coo_tensor(lib.tensor(IX), v, (3, 4, 3))
        if lib is torch:
            s = s.to_dense()
        parts = (s.index_select(2, lib.tensor([2, 2, 0])), s.select(2, 1), lib.cat([s, s], 2))
        parts = [p.to_dense() if p.is_sparse else p for p in parts]
        out = parts[0].sum() + (parts[1] ** 2).sum() + (parts[2] * lib.arange(6.0, dtype=lib.float64)).sum()
        out.backward()
        grads.append(v.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


@pytest.mark.parametrize("name", ["smm", "hsmm", "hspmm", "dsmm", "saddmm", "sspaddmm"])
def test_old_sparse_dense_products(torch, name):
    rng = np.random.default_rng(3)
    ours, ref = _pair(torch)
    d = rng.standard_normal((4, 5))
    t_ix = np.array([[0, 2, 2], [1, 4, 4]])
    t_vals = rng.standard_normal(3)
    got = []
    for lib, s in ((gg, ours), (torch, ref)):
        s, dd = s.double(), lib.tensor(d)
        t = lib.sparse_coo_tensor(lib.tensor(t_ix), lib.tensor(t_vals), (3, 5))
        if name == "saddmm":
            r = lib.saddmm(t, s, dd, beta=0.25, alpha=1.5)
        elif name == "sspaddmm":
            r = t.sspaddmm(s, dd, beta=0.25, alpha=1.5)
        else:
            r = getattr(lib, name)(s, dd)
        got.append((r.is_sparse, r.sparse_dim() if r.is_sparse else None, _dense(r)))
    assert got[0][:2] == got[1][:2]
    np.testing.assert_allclose(got[0][2], got[1][2], rtol=1e-12, atol=1e-12)


def test_numpy_style_aliases(torch):
    ours, ref = _pair(torch, VALS / 100, coalesce=True)
    for name in ("arcsin", "arctan", "arcsinh", "arctanh"):
        np.testing.assert_allclose(_dense(getattr(ours, name)()), _dense(getattr(ref, name)()), rtol=1e-6)
        np.testing.assert_allclose(
            _dense(getattr(ours.clone(), name + "_")()), _dense(getattr(ref.clone(), name + "_")()), rtol=1e-6
        )
    np.testing.assert_array_equal(_dense(ours.clone().negative_()), _dense(ref.clone().negative_()))


@pytest.mark.parametrize("p", ["fro", 2, 1, 3.5, float("inf")])
def test_norm_of_the_summed_entries(torch, p):
    ours, ref = _pair(torch)
    np.testing.assert_allclose(ours.norm(p).numpy(), ref.norm(p).numpy(), rtol=1e-12)
    for kwargs, error in (({"keepdim": True}, RuntimeError), ({"dim": 0}, RuntimeError),
                          ({"dtype": gg.float64, "p": "fro"}, ValueError)):  # fmt: skip
        with pytest.raises(error):
            ours.norm(**kwargs)
    # the gradient (PyTorch has none for a sparse norm): each stored duplicate gets d|x|/dx of its sum
    v = gg.tensor([3.0, 4.0, 1.0], dtype=gg.float64, requires_grad=True)
    gg.sparse_coo_tensor(gg.tensor([[0, 2, 0]]), v, (3,)).norm().backward()
    np.testing.assert_allclose(v.grad.numpy(), np.full(3, 4.0 / np.sqrt(32.0)), rtol=1e-14)


def test_copy_between_sparse_tensors(torch):
    got = []
    for lib in (gg, torch):
        x1 = lib.sparse_coo_tensor(lib.tensor(IX), lib.tensor(VALS, dtype=lib.float32), (3, 4))
        x2 = lib.sparse_coo_tensor(lib.tensor(IX[:, :3]), lib.tensor(VALS[:3] * 3), (3, 4)).requires_grad_(
            True
        )
        x1.copy_(x2)
        (x1 * 2).to_dense().backward(lib.arange(12.0).reshape(3, 4))
        got.append((str(x1.dtype).split(".")[-1], _dense(x1), x2.grad.to_dense().numpy(), x1.is_leaf))
        with pytest.raises(RuntimeError):
            x1.copy_(x2.narrow_copy(0, 0, 1))
        with pytest.raises(RuntimeError):
            x1.copy_(lib.zeros(3, 4))
    assert got[0][0] == got[1][0] and got[0][3] == got[1][3]
    for a, b in zip(got[0][1:3], got[1][1:3]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_sparse_softmax_dim_out_of_range_is_an_index_error(torch, fn):
    ours, ref = _pair(torch)
    with pytest.raises(IndexError):
        getattr(torch.sparse, fn)(ref, 2)
    with pytest.raises(IndexError):
        getattr(gg.sparse, fn)(ours, 2)


def test_zeros_like_layouts_and_memory_format(torch):
    ours, ref = _pair(torch)
    for lib, s in ((gg, ours), (torch, ref)):
        for fn in (lib.zeros_like, lib.empty_like):
            with pytest.raises(
                RuntimeError, match="memory format option is only supported by strided tensors"
            ):
                fn(s, memory_format=lib.contiguous_format)
        dense = lib.zeros_like(s, layout=lib.strided, memory_format=lib.contiguous_format)
        assert not dense.is_sparse and tuple(dense.shape) == (3, 4)
        z = lib.zeros_like(lib.ones(2, 3), layout=lib.sparse_coo)
        assert z.is_sparse and z._nnz() == 0 and z.sparse_dim() == 2 and tuple(z.shape) == (2, 3)
        assert tuple(z._indices().shape) == (2, 0) and tuple(z._values().shape) == (0,)


@pytest.mark.parametrize(
    "args",
    [((5, 6), 2, 0), ((3, 5), 2, 0), ((2, 6), 2, 0), ((3, 4, 2), 2, 1), ((3, 4, 2), 3, 0), ((12,), 1, 0)],
)
def test_sparse_resize_grows_sparse_sizes_only(torch, args):
    ours, ref = (s.coalesce() for s in _pair(torch))
    try:
        ref.sparse_resize_(*args)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            ours.sparse_resize_(*args)
        return
    ours.sparse_resize_(*args)
    assert tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(_dense(ours), _dense(ref))


def test_resize_as_and_an_empty_tensor_takes_any_layout(torch):
    for lib in (gg, torch):
        x = lib.sparse_coo_tensor(lib.tensor([[0, 2], [1, 3]]), lib.tensor([1.0, 2.0]), (3, 4))
        x.resize_as_(lib.sparse_coo_tensor((5, 6)))
        assert tuple(x.shape) == (5, 6) and x._nnz() == 2
        with pytest.raises(RuntimeError):
            x.resize_as_(lib.zeros(2, 3))
        e = lib.sparse_coo_tensor((3, 4), dtype=lib.float64)
        e.sparse_resize_((2, 2, 5), 1, 2)
        assert tuple(e._indices().shape) == (1, 0) and tuple(e._values().shape) == (0, 2, 5)


def test_is_nonzero_sums_duplicates_and_item_assignment_is_refused(torch):
    cases = [
        (([0],), 1.0, (1,)),
        (([0],), 0.0, (1,)),
        (([0], [0]), 0.0, (1, 1)),
        (([0, 0],), (-1.0, 1.0), (1,)),
    ]
    for args in cases:
        want = torch.sparse_coo_tensor(*args).is_nonzero()
        assert gg.sparse_coo_tensor(*args).is_nonzero() is want
        assert bool(gg.sparse_coo_tensor(*args)) is bool(torch.sparse_coo_tensor(*args))
    for lib in (gg, torch):
        with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
            lib.sparse_coo_tensor(([0, 1],), lib.empty(2, 0), (4, 0)).is_nonzero()
        s = lib.sparse_coo_tensor(lib.tensor(IX), lib.tensor(VALS), (3, 4))
        with pytest.raises(TypeError):
            s[0] = 100


def test_bmm_of_a_3d_sparse_tensor(torch):
    rng = np.random.default_rng(5)
    a = rng.random((4, 5, 6))
    a[1] = 0
    a[a < 0.6] = 0
    b, g = rng.standard_normal((4, 6, 3)), rng.standard_normal((4, 5, 3))
    got = []
    for lib in (gg, torch):
        s, d = lib.tensor(a).to_sparse().requires_grad_(True), lib.tensor(b, requires_grad=True)
        out = s.bmm(d)
        out.backward(lib.tensor(g))
        got.append((out.detach().numpy(), lib.bmm(s.detach(), d.detach()).numpy(), d.grad.numpy()))
        if lib is gg:  # a sparse leaf's grad on its stored pattern (design.md; PyTorch's is dense)
            grad_s = s.grad.to_dense().numpy()
        else:
            mask = a != 0
            np.testing.assert_allclose(grad_s[mask], s.grad.to_dense().numpy()[mask], rtol=1e-12)
            assert not grad_s[~mask].any()
        with pytest.raises(RuntimeError):
            s.detach().bmm(lib.zeros(3, 6, 2, dtype=lib.float64))
    for x, y in zip(*got):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)
