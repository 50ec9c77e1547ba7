"""var/std/var_mean/std_mean of complex tensors: a real result (|x - mean|^2), as PyTorch's, with the
gradient dL/dRe + i dL/dIm; integer inputs still refused."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd.gradcheck import gradcheck
from glassgrad.errors import DTypeError


def _z(dtype: str = "complex128") -> np.ndarray:
    rs = np.random.RandomState(0)
    return (rs.randn(3, 5) + 1j * rs.randn(3, 5)).astype(dtype)


def test_complex_var_is_mean_squared_modulus():
    z = _z()
    d = z - z.mean(-1, keepdims=True)
    want = (np.abs(d) ** 2).sum(-1) / 4
    got = gg.tensor(z).var(-1)
    assert got.dtype == gg.float64
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-14)
    assert gg.tensor(z.astype("complex64")).std().dtype == gg.float32


@pytest.mark.parametrize("op", ["var", "std"])
def test_complex_var_std_gradcheck(op):
    x = gg.tensor(_z(), requires_grad=True)
    assert gradcheck(lambda t: getattr(t, op)(-1, correction=0), (x,))
    assert gradcheck(lambda t: getattr(gg, op + "_mean")(t, 0)[0], (x,))


def test_complex_var_std_as_torch(torch):
    z = _z("complex64")
    out = []
    for lib in (gg, torch):
        x = lib.tensor(z, requires_grad=True)
        v, s = x.var(-1), x.std(0, keepdim=True, unbiased=False)
        vm, m = lib.var_mean(x, 1)
        (v * lib.arange(3.0)).sum().add(s.sum()).add(vm.sum()).backward()
        out.append((v.detach().numpy(), s.detach().numpy(), m.detach().numpy(), x.grad.numpy(), str(v.dtype)))
    for a, b in zip(out[0][:4], out[1][:4]):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert out[0][4].split(".")[-1] == out[1][4].split(".")[-1] == "float32"


def test_integer_var_refused():
    with pytest.raises(DTypeError, match=r"var: expected a floating dtype, got int64 \(or a complex one\)"):
        gg.tensor([1, 2]).var()
    with pytest.raises(RuntimeError, match="std_mean"):
        gg.std_mean(gg.tensor([1, 2]))
