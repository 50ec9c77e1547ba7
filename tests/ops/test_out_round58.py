"""``out=`` against PyTorch, from the round-58 differential fuzz of every function taking one (and of
result aliasing): a same-shape ``resize_`` keeps a view's strides, so the LU functions write into a
non-contiguous ``out`` view and not over its base; the LU functions refuse what PyTorch refuses; the
matrix products, linalg solvers and a few kernels want ``out`` of the result's own dtype; the real
results of irfft/hfft go into no complex ``out``; ``nan_to_num`` of integers is a copy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, GraphError

RNG = np.random.default_rng(58)
S = RNG.normal(size=(3, 3))
B = RNG.normal(size=(3, 3))
X = RNG.uniform(0.2, 0.8, (3, 4))
Y = RNG.uniform(0.2, 0.8, (3, 4))
V = RNG.uniform(0.2, 0.8, 3)
SPD = S @ S.T + 3 * np.eye(3)


def _strided(lib, shape, dtype):
    """A zero ``base`` of ``shape`` with its last dim doubled, and the view of every other column
    (for a 0-d shape: a 2-vector and the view of its second element)."""
    if not shape:
        base = lib.zeros(2, dtype=dtype)
        return base, base[1]
    base = lib.zeros(*shape[:-1], 2 * shape[-1], dtype=dtype)
    return base, base[..., ::2]


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_a_same_shape_resize_keeps_the_strides_and_the_version(torch, lib_name):
    lib = gg if lib_name == "glassgrad" else torch
    base, v = _strided(lib, (3, 3), lib.float64)
    version = v._version
    assert v.resize_(3, 3) is v
    v.fill_(1.0)
    assert v.stride() == (6, 2)
    assert v._version == version + 1  # the fill only
    np.testing.assert_array_equal(base.numpy()[:, 1::2], 0.0)
    # a shape change or an explicit memory format lays the tensor out again, as before
    _, w = _strided(lib, (3, 3), lib.float64)
    assert w.resize_(3, 3, memory_format=lib.contiguous_format).stride() == (3, 1)


LU_CALLS = {
    "lu_factor": lambda lib, A, o: lib.linalg.lu_factor(A, out=o),
    "lu_factor_ex": lambda lib, A, o: lib.linalg.lu_factor_ex(A, out=o),
    "lu": lambda lib, A, o: lib.linalg.lu(A, out=o),
}


def _lu_results(lib, name):
    return LU_CALLS[name](lib, lib.tensor(S), None)


@pytest.mark.parametrize("name", sorted(LU_CALLS))
def test_lu_writes_into_a_non_contiguous_out_view_and_not_over_its_base(torch, name):
    seen = []
    for lib in (torch, gg):
        bases, views = zip(*(_strided(lib, tuple(r.shape), r.dtype) for r in _lu_results(lib, name)))
        got = LU_CALLS[name](lib, lib.tensor(S), views)
        assert all(g is v for g, v in zip(got, views))
        seen.append([b.numpy() for b in bases])
    for ours, theirs in zip(seen[1], seen[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(LU_CALLS))
def test_lu_out_of_another_dtype_raises_as_torch(torch, name):
    for lib in (torch, gg):
        outs = [lib.zeros(tuple(r.shape), dtype=r.dtype) for r in _lu_results(lib, name)]
        outs[0] = lib.zeros(tuple(outs[0].shape), dtype=lib.float32)
        with pytest.raises(RuntimeError):
            LU_CALLS[name](lib, lib.tensor(S), tuple(outs))
        assert not outs[1].any(), lib.__name__  # a refusal writes nothing


@pytest.mark.parametrize("name", sorted(LU_CALLS))
def test_lu_out_refuses_an_input_that_requires_grad_as_torch(torch, name):
    for lib in (torch, gg):
        outs = tuple(lib.zeros(tuple(r.shape), dtype=r.dtype) for r in _lu_results(lib, name))
        with pytest.raises(RuntimeError, match="differentiation"):
            LU_CALLS[name](lib, lib.tensor(S, requires_grad=True), outs)
    outs = tuple(gg.zeros(tuple(r.shape), dtype=r.dtype) for r in _lu_results(gg, name))
    with pytest.raises(GraphError):
        LU_CALLS[name](gg, gg.tensor(S, requires_grad=True), outs)


@pytest.mark.parametrize("name", sorted(LU_CALLS))
def test_lu_resizes_a_non_empty_out_with_torchs_warning(torch, name):
    for lib in (torch, gg):
        outs = tuple(lib.zeros(7, dtype=r.dtype) for r in _lu_results(lib, name))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = LU_CALLS[name](lib, lib.tensor(S), outs)
        assert [tuple(o.shape) for o in got] == [tuple(r.shape) for r in _lu_results(lib, name)]
        assert any("resized" in str(w.message) for w in caught), lib.__name__


def test_lu_solve_and_lu_unpack_write_outs_as_torch(torch):
    results = []
    for lib in (torch, gg):
        LU, piv = lib.linalg.lu_factor(lib.tensor(S))
        base, v = _strided(lib, (3, 3), lib.float64)
        assert lib.linalg.lu_solve(LU, piv, lib.tensor(B), out=v) is v
        outs = tuple(lib.empty(0, dtype=lib.float64) for _ in range(3))
        P, L, U = lib.lu_unpack(LU, piv, out=outs)
        assert outs == (P, L, U)
        with pytest.raises(RuntimeError):
            lib.linalg.lu_solve(LU, piv, lib.tensor(B), out=lib.zeros(3, 3, dtype=lib.float32))
        results.append([base.numpy(), P.numpy(), L.numpy(), U.numpy()])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_deprecated_lu_writes_its_positional_out_as_torch(torch):
    """torch.lu is Python there: resize_as_ and copy_ into each out, which casts and returns out."""
    seen = []
    for lib in (torch, gg):
        base, v = _strided(lib, (3, 3), lib.float32)
        piv = lib.zeros(3, dtype=lib.int64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = lib.lu(lib.tensor(S), True, False, (v, piv))
        assert got[0] is v and got[1] is piv
        seen.append((base.numpy(), piv.numpy()))
    np.testing.assert_allclose(seen[1][0], seen[0][0], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(seen[1][1], seen[0][1])


# calls whose PyTorch kernel wants out of the result's own dtype (an f64 result, an f32 out)
EXACT = {
    "mm": lambda m, t, o: m.mm(t(S), t(B), **o),
    "bmm": lambda m, t, o: m.bmm(t(S)[None], t(B)[None], **o),
    "mv": lambda m, t, o: m.mv(t(S), t(V), **o),
    "dot": lambda m, t, o: m.dot(t(V), t(V), **o),
    "vdot": lambda m, t, o: m.vdot(t(V), t(V), **o),
    "addmm": lambda m, t, o: m.addmm(t(S), t(S), t(B), **o),
    "baddbmm": lambda m, t, o: m.baddbmm(t(S)[None], t(S)[None], t(B)[None], **o),
    "addmv": lambda m, t, o: m.addmv(t(V), t(S), t(V), **o),
    "addbmm": lambda m, t, o: m.addbmm(t(S), t(S)[None], t(B)[None], **o),
    "matmul": lambda m, t, o: m.matmul(t(S), t(B), **o),
    "inner": lambda m, t, o: m.inner(t(X), t(Y), **o),
    "tensordot": lambda m, t, o: m.tensordot(t(X), t(Y), ([1], [1]), **o),
    "chain_matmul": lambda m, t, o: m.chain_matmul(t(S), t(B), t(S), **o),
    "inverse": lambda m, t, o: m.inverse(t(SPD), **o),
    "matrix_power": lambda m, t, o: m.matrix_power(t(S), 2, **o),
    "linalg.matmul": lambda m, t, o: m.linalg.matmul(t(S), t(B), **o),
    "linalg.multi_dot": lambda m, t, o: m.linalg.multi_dot([t(S), t(B), t(S)], **o),
    "linalg.vecdot": lambda m, t, o: m.linalg.vecdot(t(X), t(Y), **o),
    "linalg.inv": lambda m, t, o: m.linalg.inv(t(SPD), **o),
    "linalg.solve": lambda m, t, o: m.linalg.solve(t(SPD), t(B), **o),
    "linalg.det": lambda m, t, o: m.linalg.det(t(S), **o),
    "linalg.cholesky": lambda m, t, o: m.linalg.cholesky(t(SPD), **o),
    "linalg.solve_triangular": lambda m, t, o: m.linalg.solve_triangular(
        t(np.triu(SPD)), t(B), upper=True, **o
    ),
    "cross": lambda m, t, o: m.cross(t(S), t(B), dim=1, **o),
    "linalg.cross": lambda m, t, o: m.linalg.cross(t(S), t(B), **o),
    "quantile": lambda m, t, o: m.quantile(t(X), 0.3, dim=1, **o),
    "nanquantile": lambda m, t, o: m.nanquantile(t(X), 0.3, dim=1, **o),
    "narrow_copy": lambda m, t, o: m.narrow_copy(t(X), 1, 1, 2, **o),
    "heaviside": lambda m, t, o: m.heaviside(t(X - 0.5), t(Y), **o),
    "renorm": lambda m, t, o: m.renorm(t(X), 2, 0, 0.5, **o),
    "abs": lambda m, t, o: m.abs(t(X - 0.5), **o),
}


def _call_with_out(lib, name, out):
    return EXACT[name](lib, lib.tensor, {} if out is None else {"out": out})


@pytest.mark.parametrize("name", sorted(EXACT))
def test_an_out_of_another_float_dtype_raises_as_torch(torch, name):
    for lib in (torch, gg):
        expected = _call_with_out(lib, name, None)
        out = lib.zeros(tuple(expected.shape), dtype=lib.float32)
        with pytest.raises(RuntimeError):
            _call_with_out(lib, name, out)
    assert not out.any()  # glassgrad's refusal writes nothing (PyTorch's addbmm writes, then raises)
    with pytest.raises(DTypeError, match="dtype"):
        _call_with_out(gg, name, gg.zeros(1, dtype=gg.float32))


@pytest.mark.parametrize("name", sorted(EXACT))
def test_an_out_of_the_result_dtype_is_written_as_torch(torch, name):
    seen = []
    for lib in (torch, gg):
        expected = _call_with_out(lib, name, None)
        out = lib.zeros(tuple(expected.shape), dtype=expected.dtype)
        assert _call_with_out(lib, name, out) is out
        seen.append(out.numpy())
    np.testing.assert_allclose(seen[1], seen[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["searchsorted", "bucketize"])
@pytest.mark.parametrize("out_dtype", ["float64", "int32"])
def test_searchsorted_out_is_int64_only_as_torch(torch, op, out_dtype):
    for lib in (torch, gg):
        edges, values = lib.tensor([0.3, 0.5, 0.7]), lib.tensor(X)
        args = (edges, values) if op == "searchsorted" else (values, edges)
        with pytest.raises(RuntimeError):
            getattr(lib, op)(*args, out=lib.zeros(3, 4, dtype=getattr(lib, out_dtype)))
        out = lib.zeros(3, 4, dtype=lib.int64)
        assert getattr(lib, op)(*args, out=out) is out


def test_deprecated_cholesky_still_casts_into_its_out_as_torch(torch):
    seen = []
    for lib in (torch, gg):
        out = lib.zeros(3, 3, dtype=lib.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert lib.cholesky(lib.tensor(SPD), out=out) is out
        seen.append(out.numpy())
    np.testing.assert_allclose(seen[1], seen[0], rtol=1e-6)


@pytest.mark.parametrize("name", ["irfft", "irfft2", "irfftn", "hfft", "hfft2", "hfftn"])
def test_a_real_fft_result_goes_into_no_complex_out_as_torch(torch, name):
    spec = X + 1j * Y
    for lib in (torch, gg):
        fn = getattr(lib.fft, name)
        with pytest.raises(RuntimeError):
            fn(lib.tensor(spec), out=lib.zeros(1, dtype=lib.complex128))
        out = lib.empty(0, dtype=lib.float64)
        assert fn(lib.tensor(spec), out=out) is out
    np.testing.assert_allclose(
        getattr(gg.fft, name)(gg.tensor(spec)).numpy(), getattr(torch.fft, name)(torch.tensor(spec)).numpy()
    )


@pytest.mark.parametrize("name", ["addbmm", "narrow_copy"])
def test_these_resize_a_non_empty_out_without_a_warning_as_torch(torch, name):
    for lib in (torch, gg):
        out = lib.zeros(7, dtype=lib.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _call_with_out(lib, name, out)
        assert tuple(out.shape) == tuple(_call_with_out(lib, name, None).shape)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_nan_to_num_of_integers_is_a_copy_as_torch(torch, dtype):
    for lib in (torch, gg):
        x = lib.tensor([[1, 0], [3, 4]]).to(getattr(lib, dtype))
        y = lib.nan_to_num(x)
        assert y is not x and y.data_ptr() != x.data_ptr()
        y.zero_()
        assert x.any(), lib.__name__  # the write did not reach the input


@pytest.mark.parametrize("name", ["frexp", "geqrf"])
def test_out_refuses_an_input_that_requires_grad_where_torch_differentiates(torch, name):
    """PyTorch gives these a derivative, so its out= refuses; glassgrad's results record no graph."""
    for lib in (torch, gg):
        x = lib.tensor(S, requires_grad=True)
        outs = tuple(lib.zeros(tuple(r.shape), dtype=r.dtype) for r in getattr(lib, name)(x.detach()))
        with pytest.raises(RuntimeError, match="differentiation"):
            getattr(lib, name)(x, out=outs)
        with lib.no_grad():
            got = getattr(lib, name)(x, out=outs)
        assert all(g is o for g, o in zip(got, outs))
