"""``//`` and ``%`` by zero: integers raise ``ZeroDivisionError`` (PyTorch raises too; NumPy would
silently give 0), floats give PyTorch's inf / nan without a NumPy warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.ops import compare as C

X = [5, -7, 3, 0]


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x // 0,
        lambda x: x % 0,
        lambda x: x // gg.tensor([1, 2, 0, 1]),
        lambda x: x % gg.tensor([[1], [0]]),  # broadcast: one row of zeros
        lambda x: 7 // x,
        lambda x: 7 % x,
        lambda x: C.floor_divide(x, 0),
        lambda x: C.remainder(x, gg.tensor(0)),
        lambda x: x.to(gg.int32) // gg.tensor([1, 1, 0, 1], dtype=gg.int32),
    ],
)
def test_integer_division_by_zero_raises(fn):
    x = gg.tensor(X)
    with pytest.raises(
        ZeroDivisionError, match=r"(floor_divide|remainder): expected a non-zero integer divisor"
    ):
        fn(x)


@pytest.mark.parametrize("op", ["__ifloordiv__", "__imod__"])
def test_in_place_integer_division_by_zero_raises_and_leaves_the_tensor(op):
    x = gg.tensor(X)
    with pytest.raises(ZeroDivisionError):
        getattr(x, op)(0)
    assert x.tolist() == X


def test_integer_division_without_zeros_matches_pytorch(torch):
    a, b = np.array([5, -7, 3, 0, -9]), np.array([2, 2, -2, 3, 4])
    for ours, theirs in [(gg.tensor(a) // gg.tensor(b), torch.tensor(a) // torch.tensor(b)),
                         (gg.tensor(a) % gg.tensor(b), torch.tensor(a) % torch.tensor(b)),
                         (gg.tensor(a) // 3, torch.tensor(a) // 3),
                         (-11 % gg.tensor(b), -11 % torch.tensor(b))]:  # fmt: skip
        assert ours.dtype == gg.int64 and ours.tolist() == theirs.tolist()
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):  # what we follow
        torch.tensor(a) // 0


def test_float_division_by_zero_gives_pytorchs_values_without_a_warning(torch):
    x = np.array([1.0, -1.0, 0.0, 2.5], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [
            gg.tensor(x) // 0,
            gg.tensor(x) % 0,
            gg.tensor(x) // gg.tensor(np.zeros(4, np.float32)),
            gg.tensor(X) // 0.0,
        ]
    want = [
        torch.tensor(x) // 0,
        torch.tensor(x) % 0,
        torch.tensor(x) // torch.zeros(4),
        torch.tensor(X) // 0.0,
    ]
    for g, w in zip(got, want):
        assert g.dtype == gg.float32
        np.testing.assert_array_equal(g._data, w.numpy())


def test_float_remainder_has_pytorchs_gradient(torch):
    # was: % recorded no node, so (x % m).sum() + x.sum() gave x.grad = 1 where PyTorch gives 2
    a = np.array([[2.5, -1.3, 3.7], [0.4, -2.2, 5.1]])
    b = np.array([2.0, 2.0, -1.5])
    grads = []
    for lib in (gg, torch):
        x, m = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        ((x % m) * lib.tensor(a)).sum().backward()
        y = lib.tensor(a, requires_grad=True)
        ((y % 0.7).sum() + y.sum()).backward()
        grads.append([x.grad.numpy(), m.grad.numpy(), y.grad.numpy(), (x % m).detach().numpy()])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_integer_remainder_records_no_node():
    x = gg.tensor([5, -7, 3])
    assert (x % 2).grad_fn is None and not (x % 2).requires_grad
