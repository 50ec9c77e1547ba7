"""autograd.forward_ad's API: levels, make_dual/unpack_dual and their checks, tangents dropped
after the level, in-place ops on dual tensors, reverse mode untouched, user Functions with jvp,
gradcheck's forward-mode check and functional.jvp."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.autograd.forward_ad as fwAD
from glassgrad.autograd import observers
from glassgrad.autograd.function import Primitive
from glassgrad.autograd.gradcheck import GradcheckError


def _t(*shape, dtype=gg.float64):
    return gg.randn(*shape, dtype=dtype)


def test_basic_jvp_and_namedtuple():
    x, v = _t(3, 4), _t(3, 4)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, v)
        out = fwAD.unpack_dual((dual * dual).sin())
        assert isinstance(out, fwAD.UnpackedDualTensor)
        assert out._fields == ("primal", "tangent")
        expected = np.cos(x.numpy() ** 2) * 2 * x.numpy() * v.numpy()
        np.testing.assert_allclose(out.tangent.numpy(), expected, rtol=1e-12)
        np.testing.assert_allclose(out.primal.numpy(), np.sin(x.numpy() ** 2))
        assert fwAD.unpack_dual(out.primal).tangent is None  # the primal carries no tangent


def test_tangent_used_as_is_or_copied_to_the_primals_layout():
    x, v = _t(4, 4), _t(4, 4)
    with fwAD.dual_level():
        assert fwAD.unpack_dual(fwAD.make_dual(x, v)).tangent is v
        alt = fwAD.unpack_dual(fwAD.make_dual(x, v.T)).tangent
        assert alt is not v.T
        np.testing.assert_array_equal(alt.numpy(), v.numpy().T)
        assert alt._data.strides == x._data.strides


def test_make_dual_is_a_view_and_backward_flows_to_the_primal():
    x = _t(3).requires_grad_()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, gg.ones(3, dtype=gg.float64))
        assert np.shares_memory(d._data, x._data)
        (d * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_tangents_are_dropped_when_the_level_exits():
    x = _t(3)
    with fwAD.dual_level():
        y = fwAD.make_dual(x, _t(3)).exp()
        assert fwAD.unpack_dual(y).tangent is not None
    assert fwAD.unpack_dual(y).tangent is None
    with fwAD.dual_level():  # a new level does not see the old tangents
        assert fwAD.unpack_dual(y).tangent is None
    assert fwAD._tangents == {}


def test_no_observer_outside_a_level():
    before = list(observers.forward)
    funnels = {k: gg.Tensor.__dict__[k] for k in ("_update", "_set", "__setitem__")}
    with fwAD.dual_level():
        assert len(observers.forward) == len(before) + 1
        assert gg.Tensor.__dict__["_update"] is not funnels["_update"]  # wrapped while active
    assert observers.forward == before
    assert {k: gg.Tensor.__dict__[k] for k in funnels} == funnels  # restored: ops pay nothing


def test_levels_enter_exit_and_errors():
    level = fwAD.enter_dual_level()
    assert level == 0
    with pytest.raises(RuntimeError, match="nested"):
        fwAD.enter_dual_level()
    with pytest.raises(RuntimeError, match="invalid level"):
        fwAD.make_dual(_t(2), _t(2), level=3)
    fwAD.exit_dual_level(level=0)
    with pytest.raises(RuntimeError, match="no active dual level"):
        fwAD.exit_dual_level()
    with pytest.raises(RuntimeError, match="no dual level"):
        fwAD.make_dual(_t(2), _t(2))
    with pytest.raises(RuntimeError, match="nested"), fwAD.dual_level(), fwAD.dual_level():
        pass
    assert fwAD._state.level is None  # the outer level was exited despite the error


def test_dual_level_as_decorator():
    @fwAD.dual_level()
    def f(x, v):
        return fwAD.unpack_dual(fwAD.make_dual(x, v) * 3).tangent

    np.testing.assert_array_equal(f(_t(2), gg.ones(2, dtype=gg.float64)).numpy(), [3.0, 3.0])


def test_make_dual_checks_shape_and_dtype():
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"shape \(3,\).*got \(4,\)"):
            fwAD.make_dual(_t(3), _t(4))
        with pytest.raises(ValueError, match="tangent to be floating"):
            fwAD.make_dual(_t(3), gg.arange(3))
        with pytest.raises(ValueError, match="primal to be floating"):
            fwAD.make_dual(gg.arange(3), _t(3))
        with pytest.raises(TypeError, match="expected Tensors"):
            fwAD.make_dual(_t(3), np.ones(3))
        d = fwAD.make_dual(_t(3), _t(3, dtype=gg.float32))  # PyTorch keeps the tangent's dtype
        assert fwAD.unpack_dual(d).tangent.dtype == gg.float32


class _NoForwardRule(Primitive):
    """z = 2 x, with a backward and no JVP rule (an op of the library may gain one any day)."""

    name = "test_no_forward_rule"
    register = False

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        return 2 * g


def test_op_without_rule_raises_naming_it():
    with fwAD.dual_level():
        d = fwAD.make_dual(_t(3, 3), _t(3, 3))
        with pytest.raises(NotImplementedError, match="no forward-mode rule for op 'test_no_forward_rule'"):
            _NoForwardRule.apply(d)


def test_non_differentiable_outputs_get_no_tangent():
    with fwAD.dual_level():
        d = fwAD.make_dual(_t(4), _t(4))
        assert fwAD.unpack_dual(d > 0).tangent is None
        assert fwAD.unpack_dual(d.argmax()).tangent is None
        assert fwAD.unpack_dual(d.detach()).tangent is None  # as PyTorch


def test_reverse_mode_unchanged_and_working_inside_a_level():
    x = _t(5).requires_grad_()
    (x.tanh() * x).sum().backward()
    expected = x.grad.numpy().copy()
    x.grad = None
    with fwAD.dual_level():
        d = fwAD.make_dual(x, _t(5))
        y = (d.tanh() * d).sum()
        y.backward()  # reverse mode through a dual tensor
        assert fwAD.unpack_dual(y).tangent is not None
        z = (x.tanh() * x).sum()  # and through plain tensors
    np.testing.assert_allclose(x.grad.numpy(), expected)
    x.grad = None
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_inplace_ops_update_the_tangent():
    x, v = _t(3), gg.ones(3, dtype=gg.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v) * 1  # a non-view dual
        d.mul_(2)
        np.testing.assert_array_equal(fwAD.unpack_dual(d).tangent.numpy(), [2.0] * 3)
        d.add_(fwAD.make_dual(_t(3), v))
        np.testing.assert_array_equal(fwAD.unpack_dual(d).tangent.numpy(), [3.0] * 3)
        d += 1.0
        np.testing.assert_array_equal(fwAD.unpack_dual(d).tangent.numpy(), [3.0] * 3)
        y = _t(3)  # a plain tensor taking a dual value gets its tangent (as PyTorch)
        y.add_(fwAD.make_dual(_t(3), v))
        np.testing.assert_array_equal(fwAD.unpack_dual(y).tangent.numpy(), [1.0] * 3)
        z = _t(3)
        z.copy_(fwAD.make_dual(_t(3), v * 5))
        np.testing.assert_array_equal(fwAD.unpack_dual(z).tangent.numpy(), [5.0] * 3)
        z.zero_()
        np.testing.assert_array_equal(fwAD.unpack_dual(z).tangent.numpy(), [0.0] * 3)
        w = fwAD.make_dual(_t(3), v) * 1
        w[0] = 5.0
        np.testing.assert_array_equal(fwAD.unpack_dual(w).tangent.numpy(), [0.0, 1.0, 1.0])


def test_inplace_ops_while_recording():
    x = _t(3).requires_grad_()
    with fwAD.dual_level():
        y = fwAD.make_dual(x, gg.ones(3, dtype=gg.float64)) * 1
        y.mul_(3)
        y[1] = 0.0
        np.testing.assert_array_equal(fwAD.unpack_dual(y).tangent.detach().numpy(), [3.0, 0.0, 3.0])
        y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 3.0])


def test_inplace_change_forward_ad_cannot_follow_raises():
    with fwAD.dual_level():
        d = fwAD.make_dual(_t(2, 3), _t(2, 3)) * 1
        d.unsqueeze_(0)
        with pytest.raises(RuntimeError, match="changed in place"):
            fwAD.unpack_dual(d)


class _Exp(gg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = x.exp()
        ctx.result = result
        return result

    @staticmethod
    def backward(ctx, g):
        return g * ctx.result

    @staticmethod
    def jvp(ctx, t):
        return t * ctx.result


def test_user_function_jvp():
    x, v = _t(4), _t(4)
    with fwAD.dual_level():
        out = _Exp.apply(fwAD.make_dual(x, v))
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.numpy(), np.exp(x.numpy()) * v.numpy())


def test_user_function_save_for_forward():
    class Mul(gg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_forward(a, b)
            return a * b

        @staticmethod
        def jvp(ctx, ta, tb):
            a, b = ctx.saved_tensors
            return ta * b + a * tb

    a, b, ta = _t(3), _t(3), _t(3)
    with fwAD.dual_level():
        out = Mul.apply(fwAD.make_dual(a, ta), b)  # b has no tangent: jvp gets zeros for it
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.numpy(), ta.numpy() * b.numpy())


def test_user_function_without_jvp_raises():
    class NoJvp(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with fwAD.dual_level():
        assert fwAD.unpack_dual(NoJvp.apply(_t(2))).tangent is None  # no tangent in: fine
        with pytest.raises(NotImplementedError, match="implement the jvp"):
            NoJvp.apply(fwAD.make_dual(_t(2), _t(2)))


def test_gradcheck_checks_forward_mode():
    x = _t(3, 3).requires_grad_()
    assert gg.autograd.gradcheck(_Exp.apply, (x,), check_forward_ad=True, check_backward_ad=False)
    assert gg.autograd.gradcheck(lambda t: (t @ t).softmax(-1), (x,), check_forward_ad=True)

    class WrongJvp(_Exp):
        @staticmethod
        def jvp(ctx, t):
            return 2 * t * ctx.result

    with pytest.raises(GradcheckError, match="forward AD gives"):
        gg.autograd.gradcheck(WrongJvp.apply, (x,), check_forward_ad=True, check_backward_ad=False)
    with pytest.raises(ValueError, match="check_backward_ad"):
        gg.autograd.gradcheck(_Exp.apply, (x,), check_backward_ad=False)


def test_functional_jvp():
    x, y, tx, ty = _t(3), _t(3), _t(3), _t(3)
    out, jvp = gg.autograd.functional.jvp(lambda a, b: a**2 + b**2, (x, y), (tx, ty))
    np.testing.assert_allclose(out.numpy(), x.numpy() ** 2 + y.numpy() ** 2)
    np.testing.assert_allclose(jvp.numpy(), 2 * x.numpy() * tx.numpy() + 2 * y.numpy() * ty.numpy())
    out, jvp = gg.autograd.functional.jvp(lambda a: (a * 0 + 1, a.sum()), x, tx)
    assert isinstance(jvp, tuple) and np.all(jvp[0].numpy() == 0)
    np.testing.assert_allclose(jvp[1].numpy(), tx.numpy().sum())
    _, j = gg.autograd.functional.jvp(lambda a: a * 3, gg.tensor([2.0]))  # v = 1 for one element
    assert j.item() == 3.0
    with pytest.raises(ValueError, match="v can only be None"):
        gg.autograd.functional.jvp(lambda a: a, x)


# --- review: user Functions ---


def test_user_function_returning_its_input_keeps_the_inputs_tangent():
    """forward returning its input as is, jvp a new tangent: the input's own tangent was
    overwritten silently (d's tangent became 2 t); PyTorch refuses, and so does glassgrad now."""

    class Id(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

        @staticmethod
        def jvp(ctx, t):
            return t * 2

    with fwAD.dual_level():
        d = fwAD.make_dual(gg.tensor([1.0, 2.0], dtype=gg.float64), gg.ones(2, dtype=gg.float64))
        with pytest.raises(RuntimeError, match="returned an input as is"):
            Id.apply(d)
        np.testing.assert_array_equal(fwAD.unpack_dual(d).tangent.numpy(), [1.0, 1.0])


def test_a_pause_in_one_thread_does_not_drop_another_threads_tangents():
    """A user Function's forward pauses tangents; the pause was process-wide, so another thread's
    ops inside the same level silently lost their tangents meanwhile."""
    import threading

    inside, done, got = threading.Event(), threading.Event(), []

    class Waits(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            inside.set()
            done.wait(10)
            return x * 1

        @staticmethod
        def jvp(ctx, t):
            return t

    def other(d):
        inside.wait(10)
        got.append(fwAD.unpack_dual(d * 3).tangent)
        done.set()

    with fwAD.dual_level():
        d = fwAD.make_dual(gg.tensor([1.0, 2.0], dtype=gg.float64), gg.ones(2, dtype=gg.float64))
        worker = threading.Thread(target=other, args=(d,))
        worker.start()
        Waits.apply(d)
        worker.join()
        np.testing.assert_array_equal(got[0].numpy(), [3.0, 3.0])
