"""Round 59, a differential hunt on the product family (matmul, einsum, the addmm family) against
PyTorch.

Found and pinned here: the addmm family's ``beta``/``alpha`` as PyTorch's kernels read them
(a zero factor kept an integer result's dtype only by luck: int64 ``addmm(..., beta=0)`` came back
float32; a float factor on integer tensors is truncated, a complex one on real tensors refused,
and ``addr`` refuses a float factor on integer tensors and a bool one on non-bool tensors);
``addmm``/``addmv``/``baddbmm``/``addbmm`` refuse an input of another dtype than the matrices
(glassgrad promoted it); ``alpha = 0`` keeps a NaN of the matrices where PyTorch's kernel
multiplies (``addr``, ``baddbmm``, float16); bool products raise PyTorch's NotImplementedError,
and bool ``einsum`` runs where PyTorch has a kernel; a single-operand ``einsum`` that sums is
contiguous, as PyTorch's (``.view`` of it raised), and ``"ij->..."`` is accepted.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, KernelDTypeError

_SHAPES = {
    "addmm": [(2, 4), (2, 3), (3, 4)],
    "addmv": [(2,), (2, 3), (3,)],
    "baddbmm": [(3, 2, 4), (3, 2, 3), (3, 3, 4)],
    "addbmm": [(2, 4), (3, 2, 3), (3, 3, 4)],
    "addr": [(2, 4), (2,), (4,)],
}
_BLAS = ["addmm", "addmv", "baddbmm", "addbmm"]


def _arrays(op, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "i":
        return [rng.integers(-5, 6, size=s).astype(dtype) for s in _SHAPES[op]]
    return [rng.standard_normal(s).astype(dtype) for s in _SHAPES[op]]


def _run(lib, op, arrays, form="function", **kw):
    i, a, b = (lib.tensor(x) for x in arrays)
    if form == "function":
        return getattr(lib, op)(i, a, b, **kw)
    if form == "method":
        return getattr(i, op)(a, b, **kw)
    if form == "in-place":
        return getattr(i, op + "_")(a, b, **kw)
    out = lib.empty(0, dtype=i.dtype)
    getattr(lib, op)(i, a, b, out=out, **kw)
    return out


def _same(t, g):
    assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    if t.dtype.is_floating_point:
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12, atol=1e-15)
    else:
        np.testing.assert_array_equal(g.numpy(), t.numpy())


# ---- integer tensors: the factors in the result's dtype -----------------------------------------


@pytest.mark.parametrize("op", _BLAS)
@pytest.mark.parametrize("form", ["function", "method", "in-place", "out="])
@pytest.mark.parametrize(
    "kw",
    [{"beta": 0}, {"beta": 0.0}, {"alpha": 0}, {"beta": 0.5, "alpha": -1.5}, {"beta": 2.7}, {"alpha": True}],
)
def test_integer_blas_factors_truncate_and_keep_the_dtype_as_torch(torch, op, form, kw):
    arrays = _arrays(op, np.int64)
    _same(_run(torch, op, arrays, form, **kw), _run(gg, op, arrays, form, **kw))


@pytest.mark.parametrize(
    "kw", [{"beta": 0.5}, {"alpha": 0.0}, {"beta": 1j}, {"beta": True}, {"alpha": False}]
)
def test_integer_addr_refuses_float_and_bool_factors_as_torch(torch, kw):
    arrays = _arrays("addr", np.int64)
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="argument (beta|alpha) must not|Boolean (beta|alpha) only"):
            _run(lib, "addr", arrays, **kw)


@pytest.mark.parametrize("kw", [{"beta": 0}, {"alpha": 0}, {"beta": 2, "alpha": -3}])
def test_integer_addr_with_int_factors_as_torch(torch, kw):
    arrays = _arrays("addr", np.int64)
    _same(_run(torch, "addr", arrays, **kw), _run(gg, "addr", arrays, **kw))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", [*_BLAS, "addr"])
def test_complex_factor_on_real_tensors_raises_as_torch(torch, op, dtype):
    arrays = _arrays(op, dtype)
    for lib in (torch, gg):
        for kw in ({"beta": 1j}, {"alpha": 2 + 1j}):
            with pytest.raises(RuntimeError):
                _run(lib, op, arrays, **kw)


@pytest.mark.parametrize("op", [*_BLAS, "addr"])
def test_complex_factor_without_imaginary_part_is_real_as_torch(torch, op):
    arrays = _arrays(op, np.float64)
    _same(_run(torch, op, arrays, alpha=2 + 0j), _run(gg, op, arrays, alpha=2 + 0j))
    if op != "addr":  # truncated on integer tensors, as a float factor (addr refuses it)
        arrays = _arrays(op, np.int64)
        _same(_run(torch, op, arrays, alpha=2.7 + 0j), _run(gg, op, arrays, alpha=2.7 + 0j))


@pytest.mark.parametrize("op", _BLAS)
def test_bool_factors_count_as_one_and_zero_in_the_blas_family_as_torch(torch, op):
    arrays = _arrays(op, np.float64)
    for kw in ({"beta": True}, {"beta": False, "alpha": True}):
        _same(_run(torch, op, arrays, **kw), _run(gg, op, arrays, **kw))
    for lib in (torch, gg):  # addr, an elementwise kernel, refuses them
        with pytest.raises(RuntimeError, match="Boolean beta only supported for Boolean results"):
            _run(lib, "addr", _arrays("addr", np.float64), beta=True)


# ---- the input must have the matrices' dtype -----------------------------------------------------


@pytest.mark.parametrize("op", _BLAS)
@pytest.mark.parametrize(
    "dtypes", [(np.float32, np.float64), (np.float64, np.float32), (np.int64, np.float64)]
)
def test_blas_input_of_another_dtype_raises_as_torch(torch, op, dtypes):
    arrays = _arrays(op, dtypes[1])
    arrays[0] = arrays[0].astype(dtypes[0])
    for lib in (torch, gg):
        with pytest.raises(RuntimeError):
            _run(lib, op, arrays)
    with pytest.raises(DTypeError, match=f"^{op}: expected input and the matrices of one dtype"):
        _run(gg, op, arrays)


@pytest.mark.parametrize("op", ["addr", "addcmul"])
def test_addr_and_addcmul_still_promote_as_torch(torch, op):
    shapes = _SHAPES["addr"] if op == "addr" else [(2, 3), (2, 3), (1, 3)]
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in shapes]
    arrays[0] = arrays[0].astype(np.float32)
    t = getattr(torch, op)(*(torch.tensor(x) for x in arrays))
    g = getattr(gg, op)(*(gg.tensor(x) for x in arrays))
    assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12, atol=0)


# ---- zero factors and NaN ------------------------------------------------------------------------


def _with_nan(x):
    x = x.copy()
    x.flat[0], x.flat[-1] = np.nan, np.inf
    return x


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("op", [*_BLAS, "addr"])
def test_beta_zero_ignores_nan_in_input_with_gradients_as_torch(torch, op, dtype):
    arrays = _arrays(op, dtype, seed=2)
    arrays[0] = _with_nan(arrays[0])
    grads = dtype != np.float16
    results = []
    for lib in (torch, gg):
        ts = [lib.tensor(x, requires_grad=grads) for x in arrays]
        z = getattr(lib, op)(*ts, beta=0, alpha=1.5)
        if grads:
            z.backward(lib.tensor(np.linspace(-1, 1, z.numel()).reshape(z.shape).astype(dtype)))
        results.append([z, *(t.grad for t in ts if grads)])
    tol = {np.float64: 1e-12, np.float32: 1e-6, np.float16: 1e-3}[dtype]
    for t, g in zip(*results):
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)
    assert not np.isnan(results[1][0].detach().numpy()).any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("op", [*_BLAS, "addr"])
def test_alpha_zero_with_nan_in_the_matrices_as_torch(torch, op, dtype):
    # float32/float64 addmm, addmv and addbmm skip the product; addr, baddbmm and every float16
    # kernel multiply it by 0, so a NaN there stays
    arrays = _arrays(op, dtype, seed=3)
    arrays[1] = _with_nan(arrays[1])
    t, g = (_run(lib, op, arrays, alpha=0) for lib in (torch, gg))
    np.testing.assert_array_equal(np.isnan(g.numpy()), np.isnan(t.numpy()))
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-3 if dtype == np.float16 else 1e-6)


@pytest.mark.parametrize("op", [*_BLAS, "addr"])
def test_alpha_zero_with_nan_in_complex_matrices_as_torch(torch, op):
    # complex: addmv, addr and baddbmm multiply by 0, addmm and addbmm skip the product
    arrays = [a + 1j * b for a, b in zip(_arrays(op, np.float64, seed=4), _arrays(op, np.float64, seed=5))]
    arrays[1] = _with_nan(arrays[1])
    t, g = (_run(lib, op, arrays, alpha=0) for lib in (torch, gg))
    np.testing.assert_array_equal(np.isnan(g.numpy()), np.isnan(t.numpy()))
    finite = ~np.isnan(t.numpy())
    np.testing.assert_allclose(g.numpy()[finite], t.numpy()[finite], rtol=1e-12)


# ---- bool operands -------------------------------------------------------------------------------

_BOOL_PRODUCTS = {
    "matmul 1-d": lambda lib, a, b: lib.matmul(a[0], b[0]),
    "matmul 2-d": lambda lib, a, b: lib.matmul(a, b),
    "matmul 2-d 1-d": lambda lib, a, b: lib.matmul(a, b[0]),
    "mm": lambda lib, a, b: lib.mm(a, b),
    "dot": lambda lib, a, b: lib.dot(a[0], b[0]),
    "mv": lambda lib, a, b: lib.mv(a, b[0]),
    "addmm": lambda lib, a, b: lib.addmm(a, a, b),
    "addcmul": lambda lib, a, b: lib.addcmul(a, a, b),
    "einsum contraction": lambda lib, a, b: lib.einsum("ij,jk->ik", a, b),
    "einsum sum of a product": lambda lib, a, b: lib.einsum("ij,ij->", a, b),
}


@pytest.mark.parametrize("case", list(_BOOL_PRODUCTS))
def test_bool_products_raise_not_implemented_as_torch(torch, case):
    x = np.array([[True, False], [True, True]])
    for lib in (torch, gg):
        with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
            _BOOL_PRODUCTS[case](lib, lib.tensor(x), lib.tensor(x.T.copy()))
    with pytest.raises(KernelDTypeError):
        _BOOL_PRODUCTS[case](gg, gg.tensor(x), gg.tensor(x))


_MASK = np.array([[True, False], [True, True]])
_BOOL_EINSUMS = {
    **{eq: [_MASK] for eq in ["ij->ji", "ij", "ii->i", "ij->i", "ij->", "ii", "ij->..."]},
    **{eq: [_MASK[0], _MASK[1]] for eq in ["i,j->ij", "i,i->i", "i,j->"]},
    "ij,k->ik": [_MASK, _MASK[0]],
}


@pytest.mark.parametrize("equation", list(_BOOL_EINSUMS))
def test_bool_einsum_where_torch_has_a_kernel(torch, equation):
    operands = _BOOL_EINSUMS[equation]
    t = torch.einsum(equation, *(torch.tensor(o) for o in operands))
    g = gg.einsum(equation, *(gg.tensor(o) for o in operands))
    _same(t, g)
    assert g.stride() == t.stride()


# ---- einsum layouts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "equation",
    ["ijk->ki", "ijk->kj", "ijk->ji", "ijk->ik", "ijk->kji", "ijk->ikj", "iij->ji", "jii->ij", "ijk->k"],
)
def test_single_operand_einsum_layout_and_gradient_as_torch(torch, equation):
    shape = {"iij": (3, 3, 2), "jii": (2, 3, 3)}.get(equation[:3], (2, 3, 4))
    x = np.random.default_rng(4).standard_normal(shape)
    results = []
    for lib in (torch, gg):
        a = lib.tensor(x, requires_grad=True)
        z = lib.einsum(equation, a)
        (z * lib.tensor(np.arange(z.numel(), dtype=np.float64).reshape(z.shape))).sum().backward()
        results.append((z, a.grad))
    (tz, tg), (gz, ggrad) = results
    assert gz.stride() == tz.stride()
    assert gz.is_contiguous() == tz.is_contiguous()
    np.testing.assert_allclose(gz.detach().numpy(), tz.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ggrad.numpy(), tg.numpy(), rtol=1e-12, atol=1e-14)
    if tz.is_contiguous():  # a program's .view() of the sum
        assert gz.view(-1).shape == tz.view(-1).shape


@pytest.mark.parametrize("equation", ["ij->...", "ij->...j", "ij->j..."])
def test_einsum_ellipsis_only_in_the_output_as_torch(torch, equation):
    x = np.random.default_rng(5).standard_normal((2, 3))
    t, g = torch.einsum(equation, torch.tensor(x)), gg.einsum(equation, gg.tensor(x))
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12)


# ---- integer einsum: a sum within one operand is int64 ------------------------------------------

_INT_EINSUMS = {
    "ij->i": ["a"], "ij->": ["a"], "ii": ["s"], "ii->i": ["s"], "ij->ji": ["a"],
    "ij,k->ik": ["a", "v"], "ij,j->i": ["a", "v"], "ij,jk->": ["a", "b"], "ij,jk->j": ["a", "b"],
    "ij,i->i": ["a", "c"], "i,j->": ["v", "v"], "i,i,i->": ["v", "v", "v"], "ij,jk->ik": ["a", "b"],
}  # fmt: skip


@pytest.mark.parametrize("dtype", ["int32", "int16", "uint8", "int64"])
@pytest.mark.parametrize("equation", list(_INT_EINSUMS))
def test_integer_einsum_sums_in_int64_as_torch(torch, equation, dtype):
    big = {"int32": 2**30, "int16": 2**14, "uint8": 100, "int64": 2**40}[dtype]
    arrays = {
        "a": np.full((2, 3), big),
        "s": np.full((2, 2), big),
        "v": np.full((3,), 3),
        "b": np.full((3, 4), 3),
        "c": np.full((2,), big),
    }
    results = []
    for lib in (torch, gg):
        ops = [lib.tensor(arrays[k], dtype=getattr(lib, dtype)) for k in _INT_EINSUMS[equation]]
        results.append(lib.einsum(equation, *ops))
    _same(*results)


@pytest.mark.parametrize("equation", ["ij,jk->i", "ij,jk->k"])
def test_integer_einsum_summed_alone_then_contracted_raises_as_torch(torch, equation):
    for lib in (torch, gg):
        a, b = lib.ones(2, 3, dtype=lib.int32), lib.ones(3, 4, dtype=lib.int32)
        with pytest.raises(RuntimeError, match="expected scalar type"):
            lib.einsum(equation, a, b)


# ---- tensordot's dims and chain_matmul's matrices -----------------------------------------------


@pytest.mark.parametrize("case", ["list of ints", "pair with an int", "1-d tensor"])
def test_tensordot_refuses_an_int_where_a_dim_list_goes_as_torch(torch, case):
    for lib in (torch, gg):
        dims = {"list of ints": [1, 0], "pair with an int": ([1], 0), "1-d tensor": lib.tensor([1, 0])}[case]
        with pytest.raises(TypeError, match="must be tuple of ints, not int"):
            lib.tensordot(lib.ones(2, 3), lib.ones(3, 4), dims)


def test_tensordot_one_element_tensor_dims_as_torch(torch):
    x, y = np.random.default_rng(6).standard_normal((2, 3)), np.random.default_rng(7).standard_normal((3, 4))
    t = torch.tensordot(torch.tensor(x), torch.tensor(y), torch.tensor([1]))
    g = gg.tensordot(gg.tensor(x), gg.tensor(y), gg.tensor([1]))
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
@pytest.mark.parametrize("shapes", [[(3,), (3, 4)], [(2, 3), (3, 4), (4,)], []])
def test_chain_matmul_takes_matrices_only_as_torch(torch, shapes):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError):
            lib.chain_matmul(*(lib.ones(s) for s in shapes))


# an index of size 1 in an operand is not summed there: PyTorch sums it where its size is not 1
_SIZE_ONE_CASES = [
    ("...b,b...->", [(3,), (1,)], ["int32", "int32"]),
    (",b->", [(), (1,)], ["int32", "int32"]),
    ("d->", [(1,)], ["int32"]),
    ("abb", [(4, 1, 1)], ["int32"]),
    ("d,dd->", [(3,), (1, 1)], ["int32", "int32"]),
    ("bd,c,c", [(3, 3), (1,), (4,)], ["int32", "int32", "int32"]),
    ("ab,ab,b", [(4, 3), (1, 3), (3,)], ["int32", "int32", "int32"]),
    ("ij,j->i", [(2, 3), (1,)], ["float32", "float64"]),
    ("ij,jk->ik", [(2, 1), (1, 4)], ["float32", "float64"]),
]


@pytest.mark.parametrize("case", range(len(_SIZE_ONE_CASES)))
def test_einsum_dtypes_follow_pytorchs_pairing_with_size_one_dims(torch, case):
    equation, shapes, names = _SIZE_ONE_CASES[case]
    rng = np.random.default_rng(8)
    # small values: the dtypes are pinned here; an int32 product that wraps before a later
    # int64 sum (PyTorch computes in stages) comes out of one int64 einsum here unwrapped
    arrays = [rng.integers(-3, 4, size=s) for s in shapes]
    results = []
    for lib in (torch, gg):
        ops = [lib.tensor(a, dtype=getattr(lib, n)) for a, n in zip(arrays, names)]
        try:
            results.append(lib.einsum(equation, *ops))
        except RuntimeError as e:
            results.append(type(e))
    t, g = results
    if isinstance(t, type):
        assert isinstance(g, type) and issubclass(g, RuntimeError)
    else:
        _same(t, g)
