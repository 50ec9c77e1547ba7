"""Round 66: PyTorch's own OpInfo samples (plain ``OpInfo`` entries a to l) against glassgrad.

Four classes the differential run found:

* ``logspace`` with an integer dtype took ``base ** linspace(start, end)`` of the float bounds and
  truncated the result (``logspace(0, 1.2, 2, dtype=int64)`` gave ``[1, 15]``); PyTorch's integer
  kernel truncates the bounds first (``[1, 10]``) and fills from both ends;
* ``diff(x, n=0, prepend=p, append=a)`` returned the joined tensor; PyTorch returns a copy of ``x``
  alone (the joined pieces are only checked);
* ``addr`` of bool tensors with int factors (``beta=3, alpha=2``) promoted to int64; PyTorch's bool
  kernel reads the factors as truth values and returns bool;
* ``cov`` of a complex input with weights raised ``TypeError`` (the weights were cast to complex,
  then ``float(norm)``), and ``as_strided`` / ``as_strided_copy`` / ``as_strided_scatter`` refused
  complex tensors.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(66)


def _np(t):
    return np.asarray(t.detach().resolve_conj().numpy() if hasattr(t, "resolve_conj") else t.numpy())


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16"])
def test_integer_logspace_truncates_bounds_first(torch, dtype):
    for start, end, steps, base in itertools.product(
        [0, -1.5, 1.2, 2.9, 3], [1.2, 0, 3, -2.7, 4.9], [1, 2, 3, 5, 7, 10], [10.0, 2.0, 5.0, 3.5]
    ):
        try:
            want = torch.logspace(start, end, steps, base, dtype=getattr(torch, dtype))
        except RuntimeError:  # PyTorch's overflow refusal for the narrow types
            continue
        got = gg.logspace(start, end, steps, base, dtype=getattr(gg, dtype))
        assert str(got.dtype).split(".")[-1] == dtype
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=f"{start, end, steps, base}")


def test_integer_logspace_tensor_bounds(torch):
    want = torch.logspace(torch.tensor(0.0), torch.tensor(1.2), 2, dtype=torch.int64)
    got = gg.logspace(gg.tensor(0.0), gg.tensor(1.2), 2, dtype=gg.int64)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_diff_order_zero_ignores_prepend_and_append(torch):
    x = RNG.standard_normal((5, 5))
    pre, app = RNG.standard_normal((1, 5)), RNG.standard_normal((2, 5))
    for kw in ({"prepend": pre}, {"append": app}, {"prepend": pre, "append": app}):
        tx = torch.tensor(x, requires_grad=True)
        gx = gg.tensor(x, requires_grad=True)
        want = torch.diff(tx, 0, 0, **{k: torch.tensor(v) for k, v in kw.items()})
        got = gg.diff(gx, 0, 0, **{k: gg.tensor(v) for k, v in kw.items()})
        assert tuple(got.shape) == tuple(want.shape) == (5, 5)
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        cot = RNG.standard_normal((5, 5))
        (tg,) = torch.autograd.grad(want, tx, torch.tensor(cot))
        (ggrad,) = gg.autograd.grad(got, gx, gg.tensor(cot))
        np.testing.assert_array_equal(ggrad.numpy(), tg.numpy())
    # the pieces are still checked, as PyTorch checks them
    with pytest.raises(RuntimeError):
        torch.diff(torch.tensor(x), 0, 0, torch.zeros(1, 4))
    with pytest.raises(RuntimeError):
        gg.diff(gg.tensor(x), 0, 0, gg.zeros(1, 4))


def test_diff_order_zero_is_a_copy(torch):
    x = gg.tensor(RNG.standard_normal(4))
    y = gg.diff(x, 0, prepend=gg.zeros(1))
    y.add_(1.0)
    assert not np.array_equal(x.numpy(), y.numpy())


def test_bool_addr_reads_factors_as_truth_values(torch):
    for beta, alpha in itertools.product([0, 1, 3, True, False], [0, 2, 1, True, False]):
        for shape in [(2, 3), (), (1, 3)]:
            x = RNG.random(shape) > 0.5
            v, w = np.array([True, False]), np.array([True, False, True])
            want = torch.addr(torch.tensor(x), torch.tensor(v), torch.tensor(w), beta=beta, alpha=alpha)
            got = gg.addr(gg.tensor(x), gg.tensor(v), gg.tensor(w), beta=beta, alpha=alpha)
            assert got.dtype == gg.bool, (beta, alpha, shape)
            np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("dtype", ["complex128", "complex64"])
def test_complex_cov_with_weights(torch, dtype):
    x = (RNG.standard_normal((3, 6)) + 1j * RNG.standard_normal((3, 6))).astype(dtype)
    fw = RNG.integers(1, 5, 6)
    aw = RNG.random(6) + 0.1  # float64 weights: PyTorch sums float32 weights in float32
    for correction, kw in itertools.product([0, 1, 2], [("f",), ("a",), ("f", "a")]):
        tk = {"fweights": torch.tensor(fw)} if "f" in kw else {}
        gk = {"fweights": gg.tensor(fw)} if "f" in kw else {}
        if "a" in kw:
            tk["aweights"], gk["aweights"] = torch.tensor(aw), gg.tensor(aw)
        want = torch.cov(torch.tensor(x), correction=correction, **tk)
        got = gg.cov(gg.tensor(x), correction=correction, **gk)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12 if dtype == "complex128" else 1e-5)


def test_complex_cov_gradient(torch):
    x = RNG.standard_normal((2, 5)) + 1j * RNG.standard_normal((2, 5))
    aw = RNG.random(5) + 0.1
    tx, gx = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
    want = torch.cov(tx, aweights=torch.tensor(aw))
    got = gg.cov(gx, aweights=gg.tensor(aw))
    cot = RNG.standard_normal((2, 2)) + 1j * RNG.standard_normal((2, 2))
    (tg,) = torch.autograd.grad(want, tx, torch.tensor(cot))
    (ggrad,) = gg.autograd.grad(got, gx, gg.tensor(cot))
    np.testing.assert_allclose(ggrad.numpy(), tg.numpy(), rtol=1e-12, atol=1e-14)


def _complex_pair(torch, shape):
    x = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    return torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)


@pytest.mark.parametrize(
    "size,stride,offset", [((2, 2), (1, 2), None), ((3, 2), (2, 1), 1), ((2, 3), (0, 1), 2), ((4,), (3,), 0)]
)
def test_complex_as_strided_values_sharing_and_gradient(torch, size, stride, offset):
    tx, gx = _complex_pair(torch, (4, 3))
    want = tx.as_strided(size, stride, offset)
    got = gx.as_strided(size, stride, offset)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    assert got.stride() == want.stride() and got.storage_offset() == want.storage_offset()
    assert got.untyped_storage().data_ptr() == gx.untyped_storage().data_ptr()
    cot = RNG.standard_normal(size) + 1j * RNG.standard_normal(size)
    (tg,) = torch.autograd.grad(want, tx, torch.tensor(cot))
    (ggrad,) = gg.autograd.grad(got, gx, gg.tensor(cot))
    np.testing.assert_allclose(ggrad.numpy(), tg.numpy(), rtol=1e-15, atol=0)


def test_complex_as_strided_copy_and_scatter(torch):
    tx, gx = _complex_pair(torch, (3, 3))
    tc = torch.as_strided_copy(tx, (2, 2), (1, 2), 1)
    gc = gg.as_strided_copy(gx, (2, 2), (1, 2), 1)
    np.testing.assert_array_equal(gc.detach().numpy(), tc.detach().numpy())
    ts, gs = _complex_pair(torch, (2, 2))
    want = torch.as_strided_scatter(tx, ts, (2, 2), (1, 2), 1)
    got = gg.as_strided_scatter(gx, gs, (2, 2), (1, 2), 1)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    cot = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    (t_src,) = torch.autograd.grad(want, ts, torch.tensor(cot), retain_graph=True)
    g_in, g_src = gg.autograd.grad(got, [gx, gs], gg.tensor(cot))
    np.testing.assert_array_equal(g_src.numpy(), t_src.numpy())
    # the input's gradient: the cotangent with the overwritten places zeroed (its derivative). PyTorch's
    # as_strided_scatter_backward keeps the cotangent at those places instead (a known wrong formula,
    # pytorch/pytorch#77128's review), so the expectation is written out here
    hit = np.zeros(9, dtype=bool)
    hit[np.lib.stride_tricks.as_strided(np.arange(9)[1:], (2, 2), (8, 16)).reshape(-1)] = True
    np.testing.assert_array_equal(g_in.numpy(), np.where(hit.reshape(3, 3), 0, cot))
