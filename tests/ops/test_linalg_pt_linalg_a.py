"""Round 67 (PyTorch's test_linalg.py, first half, run against glassgrad): ``lstsq``'s rcond as each
LAPACK driver reads it and complex ``lstsq``; ``eigh``'s lower-case UPLO; ``cond`` of matrices
without elements; ``tensorsolve`` of an empty system; complex pinv/matrix_rank tolerances refused;
``eig`` and the norms' ``out=`` dtypes; PyTorch's RuntimeError for bad linalg arguments and its
resize warning. Each as PyTorch parity."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg


def _crandn(rng, *shape) -> np.ndarray:
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _close(ours, theirs, rtol=1e-10, atol=1e-12) -> None:
    a, b = ours.detach().numpy(), theirs.detach().numpy()
    assert a.shape == b.shape and str(a.dtype) == str(b.dtype), (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("driver", ["gels", "gelsd", "gelss"])
@pytest.mark.parametrize("rcond", [None, 1e-4, 0.5, 1.0, 2.0, 0.0, -1.0])
@pytest.mark.parametrize("shape", [(6, 3), (3, 3), (3, 6)])
def test_lstsq_reads_rcond_as_its_driver(torch, driver, rcond, shape):
    """gelsd takes an rcond outside (0, 1) as the machine precision (rcond=1 kept every singular
    value in PyTorch and none here: a zero solution), gelss a negative one, gels ignores it."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, *shape)), rng.standard_normal((2, shape[0], 2))
    ours = gg.linalg.lstsq(gg.tensor(a), gg.tensor(b), rcond=rcond, driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), rcond=rcond, driver=driver)
    if driver == "gels" and shape[0] < shape[1]:  # PyTorch's gels: a (not minimum-norm) solution
        np.testing.assert_allclose(a @ ours.solution.numpy(), b, atol=1e-10)
    else:
        _close(ours.solution, theirs.solution, rtol=1e-9)
    for name in ("residuals", "rank", "singular_values"):
        _close(getattr(ours, name), getattr(theirs, name), rtol=1e-9)


@pytest.mark.parametrize("driver", ["gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5)])
def test_lstsq_complex_values_and_gradients(torch, driver, shape):
    """Complex A and B ran into 'complex tensors are not supported'; now PyTorch's solution, real
    residuals and singular values, and gradients of A and B (through the residuals too)."""
    rng = np.random.default_rng(1)
    m, n = shape
    a, b = _crandn(rng, 2, m, n), _crandn(rng, 2, m, 2)
    g, gr = _crandn(rng, 2, n, 2), rng.standard_normal((2, 2))
    grads = []
    results = []
    for mod in (gg, torch):
        A, B = mod.tensor(a, requires_grad=True), mod.tensor(b, requires_grad=True)
        res = mod.linalg.lstsq(A, B, driver=driver)
        loss = (res.solution * mod.tensor(g).conj()).real.sum()
        if res.residuals.numel():
            loss = loss + (res.residuals * mod.tensor(gr)).sum()
        loss.backward()
        results.append(res)
        grads.append((A.grad, B.grad))
    ours, theirs = results
    if driver == "gels" and m < n:  # PyTorch's gels: a (not minimum-norm) solution
        np.testing.assert_allclose(a @ ours.solution.detach().numpy(), b, atol=1e-10)
    else:
        _close(ours.solution, theirs.solution, rtol=1e-9)
        _close(grads[0][0], grads[1][0], rtol=1e-8, atol=1e-10)
        _close(grads[0][1], grads[1][1], rtol=1e-8, atol=1e-10)
    for name in ("residuals", "rank", "singular_values"):
        _close(getattr(ours, name), getattr(theirs, name), rtol=1e-9)


@pytest.mark.parametrize("fn", ["eigh", "eigvalsh"])
@pytest.mark.parametrize("uplo", ["u", "l", "U", "L"])
def test_eigh_reads_uplo_in_either_case(torch, fn, uplo):
    """'u' and 'l' were refused with a ValueError; PyTorch reads them as 'U' and 'L'."""
    a = np.random.default_rng(2).standard_normal((2, 4, 4))  # not symmetric: the triangle read matters
    ours = getattr(gg.linalg, fn)(gg.tensor(a), UPLO=uplo)
    theirs = getattr(torch.linalg, fn)(torch.tensor(a), UPLO=uplo)
    if fn == "eigh":
        _close(ours.eigenvalues, theirs.eigenvalues)
        _close(ours.eigenvectors.abs(), theirs.eigenvectors.abs(), rtol=1e-8, atol=1e-10)
    else:
        _close(ours, theirs)


_BAD_ARGUMENTS = {
    "eigh UPLO": lambda m: m.linalg.eigh(m.eye(3), UPLO="a"),
    "eigvalsh UPLO": lambda m: m.linalg.eigvalsh(m.eye(3), UPLO="UL"),
    "qr mode": lambda m: m.linalg.qr(m.ones(3, 3), mode="x"),
    "matrix_norm ord 0": lambda m: m.linalg.matrix_norm(m.ones(3, 3), ord=0),
    "matrix_norm ord 3.0": lambda m: m.linalg.matrix_norm(m.ones(3, 3), ord=3.0),
    "norm fro of one dim": lambda m: m.linalg.norm(m.ones(3, 3), "fro", (0,)),
    "vander N": lambda m: m.linalg.vander(m.ones(3), N=1),
    "tensorinv ind 0": lambda m: m.linalg.tensorinv(m.ones(12, 3, 4), ind=0),
    "tensorinv ind -1": lambda m: m.linalg.tensorinv(m.ones(12, 3, 4), ind=-1),
    "lstsq driver": lambda m: m.linalg.lstsq(m.ones(3, 3), m.ones(3, 1), driver="x"),
    "cond p": lambda m: m.linalg.cond(m.eye(3), 5),
    "cond p name": lambda m: m.linalg.cond(m.eye(3), "wrong_norm"),
    "pinv complex atol": lambda m: m.linalg.pinv(m.eye(3), atol=m.full((), 1j)),
    "pinv complex rtol": lambda m: m.linalg.pinv(m.eye(3), rtol=m.full((), 1j)),
    "pinv complex rcond": lambda m: m.linalg.pinv(m.eye(3), m.full((), 1j)),
    "matrix_rank complex tol": lambda m: m.linalg.matrix_rank(m.eye(3), m.full((), 1j)),
    "matrix_rank complex rtol": lambda m: m.linalg.matrix_rank(m.eye(3), rtol=m.full((), 1j)),
}


@pytest.mark.parametrize("name", sorted(_BAD_ARGUMENTS))
def test_bad_linalg_arguments_raise_runtime_error(torch, name):
    """PyTorch raises RuntimeError for these; glassgrad raised a bare ValueError (missed by a
    script's ``except RuntimeError``), or took a complex tolerance silently."""
    call = _BAD_ARGUMENTS[name]
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError):
        call(gg)


@pytest.mark.parametrize("name", ["vector_norm ord", "eigh UPLO"])
def test_an_argument_of_the_wrong_type_is_a_type_error(torch, name):
    call = {
        "vector_norm ord": lambda m: m.linalg.vector_norm(m.ones(3), ord="fro"),
        "eigh UPLO": lambda m: m.linalg.eigh(m.eye(3), UPLO=1),
    }[name]
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError):
        call(gg)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, float("inf")])
@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3, 3)])
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_cond_of_matrices_without_elements_is_zero(torch, p, shape, dtype):
    """PyTorch's zeros (NumPy refuses such input); glassgrad raised for p in (None, 2, -2)."""
    ours = gg.linalg.cond(gg.zeros(shape, dtype=getattr(gg, dtype)), p)
    theirs = torch.linalg.cond(torch.zeros(shape, dtype=getattr(torch, dtype)), p)
    _close(ours, theirs)


@pytest.mark.parametrize("dtype", ["float64", "complex64"])
def test_tensorsolve_of_an_empty_system(torch, dtype):
    """An empty A failed in a reshape with -1; PyTorch gives an empty X of A's trailing shape."""
    a_shape = (0, 0, 1, 2, 3, 0)
    ours = gg.linalg.tensorsolve(
        gg.zeros(a_shape, dtype=getattr(gg, dtype)), gg.zeros(0, 0, dtype=getattr(gg, dtype))
    )
    theirs = torch.linalg.tensorsolve(
        torch.zeros(a_shape, dtype=getattr(torch, dtype)), torch.zeros(0, 0, dtype=getattr(torch, dtype))
    )
    _close(ours, theirs)


@pytest.mark.parametrize(
    ("dtype", "out_dtypes"),
    [("float32", ("complex128", "complex128")), ("float64", ("complex64", "complex64")),
     ("complex64", ("complex128", "complex64")), ("complex64", ("complex64", "complex128"))],
)  # fmt: skip
def test_eig_out_takes_any_complex_dtype(torch, dtype, out_dtypes):
    """PyTorch casts eig's complex results into any complex out (complex64 too); glassgrad wanted
    the results' own dtype. A real out stays refused, as PyTorch."""
    a = np.random.default_rng(3).standard_normal((3, 3)).astype(dtype)
    written = []
    for mod in (gg, torch):
        outs = tuple(mod.empty(0, dtype=getattr(mod, d)) for d in out_dtypes)
        res = mod.linalg.eig(mod.tensor(a), out=outs)
        assert res.eigenvalues is outs[0] and res.eigenvectors is outs[1]
        written.append(res)
    ours, theirs = written
    rtol = 1e-4 if "float32" in (dtype, *out_dtypes) or "complex64" in (dtype, *out_dtypes) else 1e-10
    order_o, order_t = np.argsort(ours[0].numpy()), np.argsort(theirs[0].numpy())
    np.testing.assert_allclose(ours[0].numpy()[order_o], theirs[0].numpy()[order_t], rtol=rtol)
    assert (
        str(ours[0].dtype).split(".")[-1] == out_dtypes[0]
        and str(ours[1].dtype).split(".")[-1] == out_dtypes[1]
    )
    for mod in (gg, torch):
        with pytest.raises(RuntimeError):
            mod.linalg.eig(mod.tensor(a), out=(mod.empty(0, dtype=mod.float32),) * 2)


@pytest.mark.parametrize("fn", ["vector_norm", "norm", "matrix_norm"])
@pytest.mark.parametrize(("dtype", "real"), [("complex64", "float32"), ("complex128", "float64")])
def test_norm_of_complex_in_complex_dtype_writes_a_real_out(torch, fn, dtype, real):
    """norm(z, dtype=complex64) is float32, so PyTorch takes a float32 out with it; glassgrad
    wanted out of dtype= itself and refused the result's own dtype."""
    z = _crandn(np.random.default_rng(4), 3, 3).astype(dtype)
    written = []
    for mod in (gg, torch):
        out = mod.empty(0, dtype=getattr(mod, real))
        getattr(mod.linalg, fn)(mod.tensor(z), dtype=getattr(mod, dtype), out=out)
        written.append(out)
    _close(written[0], written[1], rtol=1e-6)


def test_resized_out_warns_in_pytorchs_words(torch):
    """The words a program matches on ("An output with one or more elements was resized")."""
    for mod in (gg, torch):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            mod.linalg.cholesky(mod.eye(3), out=mod.empty(2, 3))
        assert len(seen) == 1
        assert "An output with one or more elements was resized" in str(seen[0].message)
