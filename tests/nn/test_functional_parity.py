"""The PyTorch-parity checker shared by the tests/nn/test_functional_*.py files, and tests that it
catches wrong values and wrong gradients (a checker that cannot fail would prove nothing)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

import glassgrad as gg

DTYPES = [np.float32, np.float64]
TOL = {np.float32: 1e-5, np.float64: 1e-10}
REDUCTIONS = ["mean", "sum", "none"]


class Const:
    """A float array passed to both libraries as a constant (no gradient)."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a


def check(fn: Callable, tfn: Callable, *arrays, dtype=np.float64, tol: float | None = None, seed: int = 0):
    """Run ``fn`` (glassgrad) and ``tfn`` (torch) on the same arrays; compare outputs and gradients.

    Float arrays are cast to ``dtype`` and require grad (unless wrapped in ``Const``); integer and
    bool arrays pass as they are. A random upstream gradient is sent back through both, and every
    input's gradient is compared (an input torch gives no gradient must get none here either).
    Returns the glassgrad output.
    """
    torch = pytest.importorskip("torch")
    tol = TOL[dtype] if tol is None else tol
    gs, ts = [], []
    for a in arrays:
        const = isinstance(a, Const)
        a = a.a if const else a
        if a.dtype.kind == "f":
            a = a.astype(dtype)
            gs.append(gg.tensor(a, requires_grad=not const))
            ts.append(torch.tensor(a, requires_grad=not const))
        else:
            gs.append(gg.tensor(a))
            ts.append(torch.tensor(a))
    out, tout = fn(*gs), tfn(*ts)
    assert out.shape == tuple(tout.shape)
    assert out._data.dtype == tout.detach().numpy().dtype
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=tol, atol=tol)
    if not tout.requires_grad:
        assert not out.requires_grad
        return out
    up = np.random.default_rng(seed).standard_normal(tout.shape).astype(dtype)
    out.backward(gg.tensor(up))
    tout.backward(torch.tensor(up))
    for g, t in zip(gs, ts):
        if t.requires_grad:
            expected = t.grad.numpy() if t.grad is not None else np.zeros(t.shape, dtype)
            got = g.grad._data if g.grad is not None else np.zeros(g.shape, dtype)
            np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    return out


def test_check_passes_on_equal_functions():
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    check(lambda a: (a * a).sum(1), lambda a: (a * a).sum(1), x)


def test_check_catches_wrong_values_and_wrong_gradients():
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    with pytest.raises(AssertionError):
        check(lambda a: a * 2.0, lambda a: a * 2.0 + 1e-6, x)
    with pytest.raises(AssertionError):  # same values, different gradient
        check(lambda a: a.detach() + a, lambda a: a * 2.0, x)
    with pytest.raises(AssertionError):  # float32 result against float64
        check(lambda a: a.float(), lambda a: a, x)
