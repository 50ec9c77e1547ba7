"""Round 66, PyTorch's ``BinaryUfuncInfo`` database: binary elementwise ops against PyTorch.

Pinned here: true division of two Python numbers gives the default float (an int pair was
divided by NumPy in int64 and came back float64); ``Tensor.__div__``/``__rdiv__``/``__idiv__``,
PyTorch's aliases of the true-division operators; float16 ``nextafter`` of equal operands is the
second (C's nextafter: the sign of a zero kept, NumPy's float16 kernel returned the first).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _name(dtype) -> str:
    return str(dtype).split(".")[-1]


@pytest.mark.parametrize("fn", ["div", "true_divide"])
@pytest.mark.parametrize("pair", [(-8, 6), (True, True), (5, 1), (3, 0), (2.5, 3), (1, 2j)])
def test_division_of_two_numbers_is_the_default_float(torch, fn, pair):
    t = getattr(torch, fn)(*pair)
    g = getattr(gg, fn)(*pair)
    assert _name(g.dtype) == _name(t.dtype)
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_division_of_two_numbers_follows_the_default_dtype(torch):
    prev_t, prev_g = torch.get_default_dtype(), gg.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    gg.set_default_dtype(gg.float64)
    try:
        t, g = torch.div(-8, 6), gg.div(-8, 6)
    finally:
        torch.set_default_dtype(prev_t)
        gg.set_default_dtype(prev_g)
    assert _name(g.dtype) == _name(t.dtype) == "float64"
    assert g.item() == t.item()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_python2_division_aliases(torch, dtype):
    data = [True, False, True] if dtype == "bool" else [1, -2, 4]
    ta = torch.tensor(data, dtype=getattr(torch, dtype))
    ga = gg.tensor(data, dtype=getattr(gg, dtype))
    for other in (3, 7.3, torch.tensor([2.0, 5.0, -3.0])):
        g_other = gg.tensor(other.numpy()) if isinstance(other, torch.Tensor) else other
        for name in ("__div__", "__rdiv__"):
            t = getattr(ta, name)(other)
            g = getattr(ga, name)(g_other)
            assert _name(g.dtype) == _name(t.dtype)
            np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_rdiv_gradient_and_idiv(torch):
    x = [0.5, -2.0, 3.0]
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    gx = gg.tensor(x, dtype=gg.float64, requires_grad=True)
    tx.__rdiv__(7.3).sum().backward()
    gx.__rdiv__(7.3).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-15)
    ti, gi = torch.tensor(x), gg.tensor(x)
    assert ti.__idiv__(4) is ti and gi.__idiv__(4) is gi
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).__idiv__(2)  # a float result cannot be written into an int tensor
    with pytest.raises(RuntimeError):
        gg.tensor([1, 2]).__idiv__(2)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nextafter_of_equal_operands_is_the_second(torch, dtype):
    a = [0.0, -0.0, 0.0, -0.0, 1.0, 0.0, np.nan, -1.0]
    b = [-0.0, 0.0, 0.0, -0.0, 1.0, 1.0, 1.0, -np.inf]
    t = torch.nextafter(
        torch.tensor(a, dtype=getattr(torch, dtype)), torch.tensor(b, dtype=getattr(torch, dtype))
    )
    g = gg.nextafter(gg.tensor(a, dtype=getattr(gg, dtype)), gg.tensor(b, dtype=getattr(gg, dtype)))
    np.testing.assert_array_equal(g.numpy(), t.numpy())
    np.testing.assert_array_equal(np.signbit(g.numpy()), np.signbit(t.numpy()))
    # broadcast second operand: one 0-d -0.0 against zeros of both signs
    t = torch.nextafter(
        torch.tensor([0.0, -0.0], dtype=getattr(torch, dtype)),
        torch.tensor(-0.0, dtype=getattr(torch, dtype)),
    )
    g = gg.nextafter(
        gg.tensor([0.0, -0.0], dtype=getattr(gg, dtype)), gg.tensor(-0.0, dtype=getattr(gg, dtype))
    )
    np.testing.assert_array_equal(np.signbit(g.numpy()), np.signbit(t.numpy()))


def test_float_power_in_place_on_a_complex128_tensor(torch):
    data = [1 + 1j, 2.0, -0.5j]
    expo = [0.5, 2.0, 3.0]
    tc = torch.tensor(data, dtype=torch.complex128, requires_grad=True)
    gc = gg.tensor(data, dtype=gg.complex128, requires_grad=True)
    td, gd = tc * 1, gc * 1
    td.float_power_(torch.tensor(expo))
    gd.float_power_(gg.tensor(expo))
    np.testing.assert_allclose(gd.detach().numpy(), td.detach().numpy(), rtol=1e-14)
    td.abs().sum().backward()
    gd.abs().sum().backward()
    np.testing.assert_allclose(gc.grad.numpy(), tc.grad.numpy(), rtol=1e-13, atol=1e-15)
    for scalar in (2, 1.5, 1j):
        t = torch.tensor(data, dtype=torch.complex128).float_power_(scalar)
        g = gg.tensor(data, dtype=gg.complex128).float_power_(scalar)
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-14)


@pytest.mark.parametrize(
    "dtype, exponent",
    [("float64", 1j), ("float64", "complex"), ("complex64", 2.0), ("float32", 2.0)],
)
def test_float_power_in_place_refuses_another_result_dtype(torch, dtype, exponent):
    def run(lib):
        e = lib.tensor([1j], dtype=lib.complex128) if exponent == "complex" else exponent
        return lib.tensor([1.0], dtype=getattr(lib, dtype)).float_power_(e)

    with pytest.raises(RuntimeError):
        run(torch)
    with pytest.raises(RuntimeError):
        run(gg)
