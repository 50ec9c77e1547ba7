"""A Python complex beside a tensor is a weak scalar at full precision, as PyTorch's wrapped number:
complex128 (or float64) * 0.1j keeps 0.1 to double precision (it was rounded to complex64 first,
1e-8 off), and the result dtype is PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

C = 0.1 + 0.3j
OPS = {
    "x*c": lambda x: x * C,
    "c*x": lambda x: C * x,
    "x+c": lambda x: x + C,
    "c-x": lambda x: C - x,
    "x/c": lambda x: x / C,
    "c/x": lambda x: C / x,
    "x**c": lambda x: x**C,
}


def _run(lib, dtype, op):
    x = lib.tensor(np.array([1.25, 2.5, -0.75]), dtype=getattr(lib, dtype), requires_grad=True)
    y = OPS[op](x)
    w = lib.tensor(np.array([0.5 - 1.0j, 2.0 + 0.25j, -1.0 + 1.5j]), dtype=y.dtype)
    (y * w).real.sum().backward()
    return str(y.dtype).split(".")[-1], y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("dtype", ["complex128", "float64", "complex64", "float32"])
def test_values_dtypes_and_gradients_match_torch(torch, dtype, op):
    ours, theirs = _run(gg, dtype, op), _run(torch, dtype, op)
    assert ours[0] == theirs[0]
    tol = 1e-15 if ours[0] == "complex128" else 1e-6
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_complex128_times_a_python_complex_is_exact():
    x = np.array([1.0 + 2.0j, -3.0 + 0.5j])
    np.testing.assert_array_equal((gg.tensor(x) * C).numpy(), x * C)
    np.testing.assert_array_equal((gg.tensor(x.real) * C).numpy(), x.real * C)


def test_integer_and_zero_dim_operands_keep_pytorchs_dtypes(torch):
    cases = [
        lambda lib: lib.tensor([1, 2]) * C,
        lambda lib: lib.tensor(1.5) * C,
        lambda lib: lib.tensor(1.5, dtype=lib.float64) * C,
        lambda lib: lib.tensor([True, False]) + C,
    ]
    for make in cases:
        a, b = make(gg), make(torch)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7)
