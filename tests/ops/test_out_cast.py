"""``out=`` refuses a result its dtype cannot hold, as PyTorch's canCast (a float result into an
integer or bool out was truncated silently, NumPy's cast; review of porting round 26), and a
float16 gradient accumulating past its range is inf without NumPy's warning, as PyTorch's."""

from __future__ import annotations

import warnings

import pytest

import glassgrad as gg

CALLS = {
    "cat": lambda lib, o: lib.cat([lib.ones(2) * 2.7, lib.ones(2)], out=o),
    "hstack": lambda lib, o: lib.hstack([lib.ones(2) * 2.7, lib.ones(2)], out=o),
    "mm": lambda lib, o: lib.mm(lib.ones(2, 2), lib.ones(2, 2), out=o.reshape(2, 2)),
    "lerp": lambda lib, o: lib.lerp(lib.ones(4), lib.zeros(4), 0.3, out=o),
}


@pytest.mark.parametrize("out_dtype", ["int64", "bool"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_float_result_into_an_integer_or_bool_out_raises_as_torch(torch, name, out_dtype):
    for lib in (gg, torch):
        out = lib.zeros(4, dtype=getattr(lib, out_dtype))
        with pytest.raises((TypeError, RuntimeError)):
            CALLS[name](lib, out)
        assert not out.any(), lib.__name__  # nothing written


def test_an_integer_result_into_a_float_out_is_written(torch):
    for lib in (gg, torch):
        out = lib.zeros(4)
        lib.cat([lib.ones(2, dtype=lib.int64), lib.ones(2, dtype=lib.int64) * 3], out=out)
        assert out.tolist() == [1.0, 1.0, 3.0, 3.0]


def test_float16_gradient_accumulating_past_its_range_is_inf_without_a_warning():
    x = gg.tensor([1.0], dtype=gg.float16, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x * 40000).sum().backward()
        (x * 40000).sum().backward()
    assert x.grad.tolist() == [float("inf")]


def test_solve_refuses_a_vector_b_with_left_false_as_torch(torch):
    for lib in (gg, torch):
        with pytest.raises(RuntimeError, match="left=False"):
            lib.linalg.solve(lib.ones(1, 1), lib.ones(1), left=False)


@pytest.mark.parametrize("weight", [0.3, 0.5, 0.7, 1.0, -0.6, "tensor"])
def test_lerp_takes_torchs_two_forms(torch, weight):
    """From start below |w| = 0.5, from end above, as PyTorch's: lerp(a, b, 1) is b exactly and the
    values agree; bit for bit where neither form multiplies by an inexact weight (PyTorch's
    vectorized kernel fuses the multiply-add, NumPy rounds the product first: 1 ulp elsewhere)."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 1000)).astype(np.float32)
    w = rng.random(1000).astype(np.float32) * 2 - 0.5 if weight == "tensor" else weight
    outs = [
        lib.lerp(lib.tensor(a), lib.tensor(b), lib.tensor(w) if weight == "tensor" else w).numpy()
        for lib in (gg, torch)
    ]
    if weight in (0.5, 1.0):
        np.testing.assert_array_equal(outs[0], outs[1])
    else:
        np.testing.assert_allclose(outs[0], outs[1], rtol=0, atol=5e-7)
    if weight == 1.0:
        np.testing.assert_array_equal(outs[0], b)
