"""gradcheck and autograd.functional catch wrong backward rules and compute Jacobians."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import Primitive as Function
from glassgrad.autograd import gradcheck
from glassgrad.autograd.functional import jacobian, vjp
from glassgrad.autograd.gradcheck import GradcheckError


class WrongSquare(Function):
    """z = a^2 with a deliberately wrong VJP (g * a instead of 2 g a)."""

    register = False
    name = "wrongsquare"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return g * a


def test_gradcheck_passes_a_correct_rule_and_catches_a_wrong_one():
    x = gg.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    assert gradcheck(lambda a: a * a, (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch for input 0"):
        gradcheck(lambda a: WrongSquare.apply(a), (x,))
    assert gradcheck(lambda a: WrongSquare.apply(a), (x,), raise_exception=False) is False


def test_gradcheck_warns_on_float32_and_checks_anyway():
    # PyTorch warns (a float32 check will likely fail at the default eps) and checks: pfrl's
    # tests gradcheck float32 inputs with eps=1e-2, rtol=1e-2
    x = gg.tensor(np.random.default_rng(0).uniform(0.5, 1.0, (3, 2)).astype(np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
        assert gradcheck(lambda a: a * a, (x,), eps=1e-2, atol=1e-3, rtol=1e-2)
    with (
        pytest.warns(UserWarning, match="not a double precision"),
        pytest.raises(GradcheckError, match="Jacobian mismatch for input 0"),
    ):
        gradcheck(lambda a: WrongSquare.apply(a), (x,), eps=1e-2, rtol=1e-2)


def test_gradcheck_handles_tuple_outputs_and_constant_inputs():
    x = gg.tensor(np.array([0.5, -1.5]), requires_grad=True)
    c = gg.tensor(np.array([2.0, 3.0]))
    assert gradcheck(lambda a, b: (a * b, a.exp()), (x, c))


def test_jacobian_of_elementwise_square_is_diagonal():
    x = gg.tensor(np.array([1.0, -2.0, 3.0]))
    J = jacobian(lambda a: a * a, x)
    np.testing.assert_allclose(J.numpy(), np.diag(2 * x._data))


def test_jacobian_of_two_inputs_and_vjp():
    a = gg.tensor(np.array([1.0, 2.0]))
    b = gg.tensor(np.array([3.0, 5.0]))
    Ja, Jb = jacobian(lambda x, y: x * y, (a, b))
    np.testing.assert_allclose(Ja.numpy(), np.diag(b._data))
    np.testing.assert_allclose(Jb.numpy(), np.diag(a._data))
    y, g = vjp(lambda x: x * x * x, a, gg.tensor(np.array([1.0, 10.0])))
    np.testing.assert_allclose(y.numpy(), a._data**3)
    np.testing.assert_allclose(g.numpy(), 3 * a._data**2 * [1.0, 10.0])


def test_gradcheck_accepts_ops_that_return_a_view_of_their_input():
    # reshape / transpose / expand / slices share memory with x; the random-direction check must
    # copy f(x + eps v) before it perturbs x again, or it reads f(x - eps v) twice.
    x = gg.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    for fn in (lambda a: a.reshape(-1), lambda a: a.T, lambda a: a.expand(2, 3, 4), lambda a: a.split(1)):
        assert np.shares_memory(_first(fn(x))._data, x._data)
        assert gradcheck(fn, (x,))


def _first(out):
    return out[0] if isinstance(out, tuple) else out
