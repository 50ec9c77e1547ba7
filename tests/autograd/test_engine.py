"""The backward engine: hand examples, accumulation, hooks, grad mode, graph freeing, in-place safety."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import Primitive as Function
from glassgrad.autograd import observers
from glassgrad.autograd.shapes import broadcast_shape, unbroadcast
from glassgrad.errors import DTypeError, GraphError, ShapeError


def test_hand_example_sum_times():
    # f = (x + y) z at (-2, 5, -4): df/dx = df/dy = z = -4, df/dz = x + y = 3
    x, y, z = (gg.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    f = (x + y) * z
    f.backward()
    assert f.item() == -12.0
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)


def test_hand_example_sigmoid_neuron():
    # f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = (2, -3, -3), x = (-1, -2)
    w = gg.tensor([2.0, -3.0, -3.0], dtype=gg.float64, requires_grad=True)
    x = gg.tensor([-1.0, -2.0], dtype=gg.float64, requires_grad=True)
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1.0 + (-dot).exp())
    f.backward()
    s = 1.0 / (1.0 + math.exp(-1.0))  # dot = 1 at this point
    local = s * (1 - s)  # d sigmoid / d dot
    np.testing.assert_allclose(w.grad.numpy(), [-1 * local, -2 * local, local], rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), [2 * local, -3 * local], rtol=1e-12)
    # the figures printed in the classic lecture notes, to their three decimals
    np.testing.assert_allclose(w.grad.numpy(), [-0.20, -0.39, 0.20], atol=6e-3)
    np.testing.assert_allclose(x.grad.numpy(), [0.39, -0.59], atol=6e-3)


def test_long_chain_has_no_recursion_limit():
    x = gg.tensor(1.0, dtype=gg.float64, requires_grad=True)
    y = x
    for _ in range(1000):
        y = y * 1.001 + 0.0
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # the walk must not depend on Python's stack
    try:
        y.backward()
    finally:
        sys.setrecursionlimit(old)
    assert x.grad.item() == pytest.approx(1.001**1000, rel=1e-9)


def test_diamond_runs_each_backward_once_and_sums():
    x = gg.tensor([1.0, 2.0, 3.0], dtype=gg.float64, requires_grad=True)
    calls = []
    observers.backward.append(lambda node, g, gi: calls.append(node.name()))
    try:
        a = x * x  # used twice below
        y = a * 2.0 + a * x
        y.backward(gg.ones(3, dtype=gg.float64))
    finally:
        observers.backward.clear()
    # d/dx (2 x^2 + x^3) = 4x + 3x^2
    np.testing.assert_allclose(x.grad.numpy(), 4 * x._data + 3 * x._data**2)
    assert calls.count("MulBackward0") == 3 and calls.count("AddBackward0") == 1


def test_gradients_accumulate_across_backward_calls():
    x = gg.tensor([1.0, -2.0], requires_grad=True)
    (x * 3.0).backward(gg.ones(2))
    (x * x).backward(gg.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 - 4])
    assert x.grad.dtype == gg.float32


def test_second_backward_through_freed_graph_raises():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).exp()
    y.backward(gg.ones(2))
    with pytest.raises(GraphError, match="second time.*retain_graph=True"):
        y.backward(gg.ones(2))


def test_retain_graph_allows_a_second_backward():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(gg.ones(2), retain_graph=True)
    y.backward(gg.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_backward_needs_gradient_for_non_scalar_and_checks_shape():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"scalar outputs, got shape \(2,\)"):
        (x * 2.0).backward()
    with pytest.raises(ShapeError, match=r"expected gradient of shape \(2,\), got \(3,\)"):
        (x * 2.0).backward(gg.ones(3))
    with pytest.raises(GraphError, match="requires grad"):
        gg.tensor([1.0]).backward()


def test_hooks_see_and_replace_gradients():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = y.register_hook(lambda g: g * 10.0)
    x.register_hook(lambda g: g + 1.0)
    (y * y).backward(gg.ones(2), retain_graph=True)
    np.testing.assert_allclose(seen[0], 2 * y._data)  # hooks run in order, the first sees the raw grad
    np.testing.assert_allclose(x.grad.numpy(), 2 * y._data * 10 * 3 + 1)
    handle.remove()
    x.grad = None
    (y * y).backward(gg.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), 2 * y._data * 3 + 1)


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.retain_grad()
    (y * 3.0).backward(gg.ones(2))
    np.testing.assert_allclose(y.grad.numpy(), [3.0, 3.0])
    assert y.grad_fn is not None and not y.is_leaf and x.is_leaf


def test_retained_grad_is_the_gradient_after_every_hook():
    # PyTorch runs the retain_grad hook last, whenever the other hooks were registered
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    y.retain_grad()  # a second call changes nothing (it must not count the gradient twice)
    y.register_hook(lambda g: g * 100.0)
    assert y.retains_grad and not x.retains_grad
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [400.0, 800.0])
    np.testing.assert_allclose(x.grad.numpy(), [800.0, 1600.0])


def test_a_graph_that_saved_nothing_can_run_backward_again():
    # As in PyTorch: only saved arrays are freed, so add/sum graphs need no retain_graph
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1.0).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    z = (x * x + x).sum()  # mul saved its inputs: still an error, before any gradient is added
    z.backward()
    with pytest.raises(GraphError, match="mul: Trying to backward through the graph a second time"):
        z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0 + 3.0, 2.0 + 5.0])


def test_gradient_argument_is_cast_to_the_output_dtype():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    seen = []
    y.register_hook(lambda g: seen.append(g.dtype))
    y.backward(gg.tensor([1.0, 0.5], dtype=gg.float64))
    assert seen == [gg.float32] and x.grad.dtype == gg.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 1.5])


def test_no_grad_records_nothing_and_nests():
    x = gg.tensor([1.0], requires_grad=True)
    with gg.no_grad():
        y = x * 2.0
        with gg.enable_grad():
            z = x * 2.0
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    assert gg.is_grad_enabled()

    @gg.no_grad()
    def f(t):
        return t * 2.0

    assert not f(x).requires_grad
    with gg.set_grad_enabled(False):
        assert not (x * 1.0).requires_grad
    assert gg.is_grad_enabled()


def test_grad_mode_decorators_switch_only_inside_the_function():
    x = gg.tensor([1.0], requires_grad=True)

    @gg.set_grad_enabled(False)  # PyTorch restores the mode at decoration time
    def f(t):
        return t * 2.0

    assert gg.is_grad_enabled()
    assert not f(x).requires_grad and gg.is_grad_enabled()

    @gg.no_grad  # bare, without parentheses, as PyTorch allows
    def g(t):
        return t * 2.0

    @gg.enable_grad
    def h(t):
        return t * 2.0

    assert not g(x).requires_grad and g.__name__ == "g" and gg.is_grad_enabled()
    with gg.no_grad():
        assert h(x).requires_grad and not gg.is_grad_enabled()


def test_inplace_on_leaf_that_requires_grad_raises_outside_no_grad():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"zero_: in-place change of a leaf tensor that requires grad"):
        w.zero_()
    with pytest.raises(GraphError, match="in-place"):
        w -= 1.0
    with gg.no_grad():
        w -= 1.0  # the optimizer-style update is fine
        w.fill_(3.0)
    np.testing.assert_allclose(w.numpy() if not w.requires_grad else w._data, [3.0, 3.0])


def test_inplace_change_of_saved_input_is_caught_at_backward():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    x = gg.tensor([3.0, 4.0])
    y = w * x  # saves x for dy/dw
    x.fill_(0.0)
    with pytest.raises(GraphError, match="mul: input 1 of shape \\(2,\\), saved for backward, was modified"):
        y.backward(gg.ones(2))


def test_integer_tensors_never_require_grad():
    with pytest.raises(
        DTypeError, match="only floating-point and complex tensors can require gradients, got glassgrad.int64"
    ):
        gg.tensor([1, 2], requires_grad=True)
    i = gg.tensor([1, 2])
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    assert not (i * 2).requires_grad
    assert (w * i).requires_grad


def test_dtype_rules():
    f32 = gg.tensor([1.0, 2.0])
    f64 = gg.tensor([1.0, 2.0], dtype=gg.float64)
    i64 = gg.tensor([1, 2])
    assert (f32 * 2.5).dtype == gg.float32  # Python scalars do not change a tensor's dtype
    assert (f32 + 1).dtype == gg.float32
    assert (i64 * 2).dtype == gg.int64
    assert (i64 * 2.5).dtype == gg.float32
    assert (i64 + f32).dtype == gg.float32
    assert (f32 + f64).dtype == gg.float64
    assert (i64 / 2).dtype == gg.float32
    assert f32.exp().dtype == gg.float32 and i64.exp().dtype == gg.float32
    w = gg.tensor([1.0], requires_grad=True)
    (w * 2.0).backward(gg.ones(1))
    assert w.grad.dtype == gg.float32


def test_binary_op_shape_error_names_op_and_shapes():
    a, b = gg.ones(2, 3), gg.ones(4)
    with pytest.raises(ShapeError, match=r"add: \(2, 3\) float32, \(4,\) float32 cannot be combined"):
        a + b


def test_observers_see_every_op_and_leaf_gradient():
    seen_fwd, seen_leaf = [], []
    observers.forward.append(lambda fn, node, ins, out, attrs: seen_fwd.append(fn.name))
    observers.leaf.append(lambda t, g: seen_leaf.append(g.copy()))
    try:
        x = gg.tensor([2.0], requires_grad=True)
        ((x * x).exp()).backward(gg.ones(1))
    finally:
        observers.forward.clear()
        observers.leaf.clear()
    assert seen_fwd == ["mul", "exp"]
    np.testing.assert_allclose(seen_leaf[0], 2 * 2.0 * np.exp(4.0), rtol=1e-6)


def test_leaf_grads_do_not_alias_each_other():
    a = gg.tensor([1.0, 2.0], requires_grad=True)
    b = gg.tensor([1.0, 2.0], requires_grad=True)
    (a + b).backward(gg.ones(2))  # add hands the same array to both inputs
    with gg.no_grad():
        a.grad.mul_(5.0)
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_unbroadcast_and_broadcast_shape():
    g = np.ones((4, 2, 3))
    np.testing.assert_allclose(unbroadcast(g, (2, 1)), np.full((2, 1), 12.0))
    np.testing.assert_allclose(unbroadcast(g, ()), 24.0)
    assert unbroadcast(g, (4, 2, 3)) is g
    assert broadcast_shape((4, 1, 3), (2, 1)) == (4, 2, 3)
    with pytest.raises(ShapeError, match=r"matmul: expected broadcastable shapes, got \(2, 3\) and \(4,\)"):
        broadcast_shape((2, 3), (4,), op="matmul")


def test_backward_returning_wrong_shape_is_named():
    class BadShape(Function):
        register = False
        name = "badshape"

        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return np.ones((5, 5))

    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ShapeError, match=r"badshape: backward returned a gradient of shape \(5, 5\)"):
        BadShape.apply(x).backward(gg.ones(2))


def test_autograd_grad_leaves_dot_grad_alone():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x * x
    (g,) = gg.autograd.grad(y, x, grad_outputs=gg.ones(2))
    np.testing.assert_allclose(g.numpy(), 3 * x._data**2)
    assert x.grad is None


def test_autograd_grad_gives_each_input_its_dtype_and_runs_its_hooks():
    x = gg.tensor([1.0, 2.0], requires_grad=True)  # float32
    w = gg.tensor([3.0, 4.0], dtype=gg.float64)
    y = x * 2.0
    z = (y * w).sum()  # float64 from here on
    gx, gy = gg.autograd.grad(z, [x, y], retain_graph=True)
    assert gx.dtype == gg.float32 and gy.dtype == gg.float32
    np.testing.assert_allclose(gx.numpy(), [6.0, 8.0])
    x.register_hook(lambda g: g * 10.0)
    (gx,) = gg.autograd.grad(z, x)
    np.testing.assert_allclose(gx.numpy(), [60.0, 80.0])
    assert x.grad is None


_X32 = np.array([[0.5, -1.0, 2.0, 2.0], [1.5, 1.5, -0.5, 0.25]], np.float32)  # ties: split gradients


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: 2**x,
        lambda x: 2.5**x,
        lambda x: x.abs() ** 0.5,
        lambda x: x.max(),
        lambda x: x.amax(1),
        lambda x: x.amin(0),
        lambda x: x.norm(float("inf"), dim=1),
        lambda x: gg.maximum(x, 0.1 * x.flip(1)),
        lambda x: gg.minimum(x, x.flip(0)),
        lambda x: gg.nn.functional.cross_entropy(x, gg.tensor([3, 0]), label_smoothing=0.1),
    ],
    ids=[
        "rpow_int",
        "rpow_float",
        "pow_half",
        "max",
        "amax",
        "amin",
        "norm_inf",
        "maximum",
        "minimum",
        "ce_ls",
    ],
)
def test_float32_graphs_stay_float32_in_every_backward(fn):
    # the engine casts a leaf's .grad back, so only the op-by-op gradients show a silent float64
    seen = []
    observers.backward.append(lambda node, g, gins: seen.extend(x.dtype for x in (g, *gins) if x is not None))
    try:
        x = gg.tensor(_X32, requires_grad=True)
        fn(x).sum().backward()
    finally:
        observers.backward.pop()
    assert seen and set(seen) == {np.dtype(np.float32)}
    assert x.grad.dtype == gg.float32
