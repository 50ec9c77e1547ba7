"""Round 66's run of PyTorch's tensor-creation tests, pinned against PyTorch: factories given an
``out=`` compute in the out's dtype and write through its shape, a Python int past int64 under a
floating or bool ``dtype=``, ``cat`` of legacy empties only, ``stack``'s out overlap, integer
``linspace`` bounds outside the dtype, ``randperm`` into a narrow out, the legacy type objects'
``dtype`` and ``normal``'s complex std."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _same(out, ref):
    """Equal dtype, shape and values (bit for bit; NaNs equal)."""
    assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())


def _both(torch, make):
    return make(gg), make(torch)


# ------------------------------------------------------------------ out=: the out's dtype
_EXACT = {
    "full": lambda T, o: T.full((5,), 1.1, out=o),
    "linspace": lambda T, o: T.linspace(0.1, 0.7, 5, out=o),
    "range": lambda T, o: T.range(0.1, 0.5, 0.1, out=o),
}


# PyTorch's range has no complex kernel and its float16 rounds through float: float64 only there
@pytest.mark.parametrize(
    ("name", "out_dtype"),
    [
        (n, d)
        for n in sorted(_EXACT)
        for d in ("float64", "complex128", "float16", "int64")
        if n != "range" or d == "float64"
    ],
)
def test_factory_out_computes_in_out_dtype(torch, name, out_dtype):
    make = _EXACT[name]  # the float64 out held float32-rounded values before (1.100000023841858)
    _same(*_both(torch, lambda T: make(T, T.empty(5, dtype=getattr(T, out_dtype)))))


@pytest.mark.parametrize("out_dtype, rtol", [("float64", 1e-14), ("complex128", 1e-14), ("int64", 0)])
def test_logspace_out_computes_in_out_dtype(torch, out_dtype, rtol):
    # PyTorch's float kernel is a pow per point, NumPy's another: equal to rounding
    got, ref = _both(torch, lambda T: T.logspace(0.1, 2.7, 5, out=T.empty(5, dtype=getattr(T, out_dtype))))
    assert got.dtype == getattr(gg, out_dtype)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("fn", ["randn", "rand"])
@pytest.mark.parametrize("dtype", ["float64", "complex128", "float16"])
def test_random_out_draws_as_the_dtype_does(fn, dtype):
    # PyTorch's test_randn/test_rand: a seeded draw into out= equals the same draw with dtype=
    gg.manual_seed(7)
    a = getattr(gg, fn)(4, 5, dtype=getattr(gg, dtype))
    gg.manual_seed(7)
    b = getattr(gg, fn)(4, 5, out=gg.empty(0, dtype=getattr(gg, dtype)))
    assert b.dtype == a.dtype
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_normal_out_draws_in_out_dtype():
    gg.manual_seed(3)
    a = gg.normal(2.0, 3.0, (6,), dtype=gg.float64)
    gg.manual_seed(3)
    b = gg.normal(2.0, 3.0, (6,), out=gg.empty(6, dtype=gg.float64))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_rand_into_integer_out_raises(torch):
    with pytest.raises(RuntimeError):
        torch.rand(3, out=torch.empty(3, dtype=torch.int64))
    with pytest.raises(RuntimeError):  # was uniform floats cast to zeros
        gg.rand(3, out=gg.empty(3, dtype=gg.int64))


# ------------------------------------------------------------------ out=: written through its shape
@pytest.mark.parametrize(
    "make",
    [
        lambda T, o: T.linspace(0, 3, 4, out=o),
        lambda T, o: T.logspace(0, 3, 4, base=2, out=o),
        lambda T, o: T.range(0, 3, out=o),
        lambda T, o: T.arange(0, 4, out=o),
    ],
    ids=["linspace", "logspace", "range", "arange"],
)
def test_sequence_factory_writes_into_a_narrowed_out(torch, make):
    def run(T):
        x = T.zeros(2, 3)
        r = make(T, x.narrow(1, 1, 2))
        return x, r

    (x, r), (tx, tr) = run(gg), run(torch)
    _same(x, tx)  # the base sees the values (they were lost before)
    _same(r, tr)  # and the out keeps its (2, 2) shape


# ------------------------------------------------------------------ tensor(): big ints, float dtype
@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, [2**64, 1], 2**100, (2**63, 0, 1.5)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "bool", "float16"])
def test_tensor_big_int_under_float_dtype(torch, value, dtype):
    got, ref = _both(torch, lambda T: T.tensor(value, dtype=getattr(T, dtype)))
    _same(got, ref)


@pytest.mark.parametrize("dtype", [None, "int64"])
def test_tensor_big_int_still_refused_for_integers(torch, dtype):
    with pytest.raises(ValueError):  # PyTorch's "Overflow when unpacking long long"
        torch.tensor(2**64, dtype=getattr(torch, dtype) if dtype else None)
    with pytest.raises(ValueError):
        gg.tensor(2**64, dtype=getattr(gg, dtype) if dtype else None)


def test_tensor_huge_int_as_bool(torch):
    got, ref = _both(torch, lambda T: T.tensor([10**400, 0], dtype=T.bool))
    _same(got, ref)


# ------------------------------------------------------------------ cat of legacy empties only
@pytest.mark.parametrize("dim", [0, 1, 3, -2])
def test_cat_of_legacy_empties_checks_no_dim(torch, dim):
    got, ref = _both(torch, lambda T: T.cat([T.ones(0), T.ones(0, dtype=T.float64)], dim))
    _same(got, ref)


def test_cat_of_legacy_empties_gradient(torch):
    def run(T):
        a = T.ones(0, requires_grad=True)
        T.cat([a, a], 2).sum().backward()
        return a.grad

    _same(*_both(torch, run))


def test_cat_of_legacy_empty_beside_a_matrix_still_checks_dim(torch):
    with pytest.raises(IndexError):
        torch.cat([torch.ones(0), torch.ones(2, 2)], 2)
    with pytest.raises(IndexError):
        gg.cat([gg.ones(0), gg.ones(2, 2)], 2)


# ------------------------------------------------------------------ stack out= overlap
@pytest.mark.parametrize("fn", ["stack", "row_stack", "column_stack", "hstack", "vstack"])
def test_stack_into_an_input_raises(torch, fn):
    for shape in [(2,), (2, 2)]:  # (hstack and vstack of (2, 2) resize the out: ran before)
        x = torch.ones(shape)
        with pytest.raises(RuntimeError, match="unsupported operation"):
            getattr(torch, fn)([x, x], out=x)
        x = gg.ones(shape)
        with pytest.raises(RuntimeError, match="unsupported operation"):
            getattr(gg, fn)([x, x], out=x)


# ------------------------------------------------------------------ integer linspace bounds
@pytest.mark.parametrize(
    "start, end, dtype",
    [(10, 2000, "int8"), (10, 2000, "uint8"), (-300, 20, "uint8"), (-200, 5, "int8"), (0, 40000, "int16")],
)
def test_linspace_bounds_outside_integer_dtype_raise(torch, start, end, dtype):
    with pytest.raises(RuntimeError, match="without overflow"):
        torch.linspace(start, end, 5, dtype=getattr(torch, dtype))
    with pytest.raises(RuntimeError, match="without overflow"):
        gg.linspace(start, end, 5, dtype=getattr(gg, dtype))


@pytest.mark.parametrize("start, end", [(-10, 20), (-255, 3), (250, -4)])
def test_linspace_negative_bound_wraps_for_uint8(torch, start, end):
    _same(*_both(torch, lambda T: T.linspace(start, end, 5, dtype=T.uint8)))


# ------------------------------------------------------------------ randperm into a narrow out
@pytest.mark.parametrize("dtype, n", [("uint8", 257), ("int8", 129), ("float16", 2050)])
def test_randperm_out_of_narrow_dtype_checks_n(torch, dtype, n):
    with pytest.raises(RuntimeError):
        torch.randperm(n, out=torch.empty(0, dtype=getattr(torch, dtype)))
    with pytest.raises(RuntimeError):  # wrapped to duplicates before
        gg.randperm(n, out=gg.empty(0, dtype=getattr(gg, dtype)))


def test_randperm_out_of_narrow_dtype_fits(torch):
    r = gg.randperm(256, out=gg.empty(0, dtype=gg.uint8))
    ref = torch.randperm(256, out=torch.empty(0, dtype=torch.uint8))
    _same(r.sort().values, ref.sort().values)


# ------------------------------------------------------------------ legacy type objects, normal
@pytest.mark.parametrize(
    "name", ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
             "CharTensor", "ByteTensor", "BoolTensor"],
)  # fmt: skip
def test_legacy_type_dtype(torch, name):
    assert getattr(gg, name).dtype is getattr(gg, str(getattr(torch, name).dtype).split(".")[-1])


def test_normal_refuses_complex_std(torch):
    for T in (torch, gg):
        with pytest.raises(RuntimeError, match="non-complex"):
            T.normal(0, T.ones(3, dtype=T.complex64))
        with pytest.raises(RuntimeError, match="non-complex"):
            T.normal(T.zeros(3, dtype=T.complex64), T.ones(3, dtype=T.complex64))


def test_logspace_refuses_bool(torch):
    with pytest.raises(NotImplementedError):
        torch.logspace(0, 1, 3, dtype=torch.bool)
    with pytest.raises(NotImplementedError):  # was NumPy's cast of the powers to True
        gg.logspace(0, 1, 3, dtype=gg.bool)


@pytest.mark.parametrize("shape", [(), (2,), (2, 3)])
def test_dense_tensor_sparse_and_dense_dims(torch, shape):
    t, g = torch.zeros(shape), gg.zeros(shape)
    assert (g.sparse_dim(), g.dense_dim()) == (t.sparse_dim(), t.dense_dim())


def test_sparse_tensor_keeps_its_own_dims(torch):
    t, g = torch.ones(2, 3).to_sparse(1), gg.ones(2, 3).to_sparse(1)
    assert (g.sparse_dim(), g.dense_dim()) == (t.sparse_dim(), t.dense_dim())


@pytest.mark.parametrize("data", [[1, 2, 3, 4], 5, None])
def test_frombuffer_of_a_non_buffer_is_valueerror(torch, data):
    with pytest.raises(ValueError):
        torch.frombuffer(data, dtype=torch.int8)
    with pytest.raises(ValueError):  # was TypeError
        gg.frombuffer(data, dtype=gg.int8)
