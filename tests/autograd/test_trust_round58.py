"""Round 58's differential hunt for silently wrong gradients (custom Functions, in-place modules,
checkpoint, parameters changed mid-graph, hooks): each program runs in glassgrad and in PyTorch,
and both raise, or both give the same values and gradients.

Found by the fuzzer: backward rules that mask a gradient by multiplying it with a 0/1 mask
(hardtanh and relu6, ``max()``/``min()``/``median()`` of everything, max pooling, and their
recorded rules under ``create_graph``) turned an inf or NaN incoming gradient into NaN at every
element the op did not pick (``sqrt`` of a ReLU6 output that is 0 sent NaN into every weight),
where PyTorch's kernels select and give 0 there; a ``@once_differentiable`` backward run under
``create_graph=True`` hung its result from the saved tensors, so a constant incoming gradient gave
a result that requires grad and a second backward raised, where PyTorch returns a constant (and
``autograd.grad`` with ``inputs=`` never reaches PyTorch's error node); a Function with
``setup_context`` that saved an input it returned as is computed, where PyTorch refuses it.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError

X = np.array([-4.0, -2.0, -0.5, 0.0, 0.5, 3.0, 4.0, 7.0])
# the incoming gradient of an op whose result is clipped or not picked: inf and NaN, as from
# sqrt, log or a division at 0 downstream
G = np.array([np.inf, np.nan, np.inf, np.nan, np.inf, np.nan, -np.inf, np.inf])


def _read(t):
    return None if t is None else np.array(t.detach().tolist())


# -- a select, not a product by the mask ------------------------------------------------------------

PICKS = {
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "relu6_inplace": lambda lib, x: lib.nn.functional.relu6(x * 1.0, inplace=True),
    "ReLU6_module": lambda lib, x: lib.nn.ReLU6(inplace=True)(x * 1.0),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, -1.0, 1.0),
    "hardtanh_inplace": lambda lib, x: lib.nn.functional.hardtanh(x * 1.0, -1.0, 1.0, inplace=True),
    "hardtanh_float32": lambda lib, x: lib.nn.functional.hardtanh(x.float()).double(),
    "max": lambda lib, x: x.max(),
    "min": lambda lib, x: x.min(),
    "median": lambda lib, x: x.median(),
    "nanmedian": lambda lib, x: x.nanmedian(),
    "max_pool1d": lambda lib, x: lib.nn.functional.max_pool1d(x[None], 2)[0],
    "max_pool1d_overlapping": lambda lib, x: lib.nn.functional.max_pool1d(x[None], 3, 1)[0],
    "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x.reshape(1, 1, 2, 4), 2)[0, 0],
    "max_pool2d_overlapping": lambda lib, x: lib.nn.functional.max_pool2d(x.reshape(1, 1, 2, 4), 2, 1)[0, 0],
    "adaptive_max_pool1d": lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x[None], 3)[0],
    "adaptive_max_pool2d": lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x.reshape(1, 2, 4), (1, 3))[
        0
    ],
}


def _picked_grad(lib, op, create_graph):
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    y = PICKS[op](lib, x)
    g = (G[: y.numel()] if y.numel() > 1 else G[6:7]).reshape(tuple(y.shape))
    (gx,) = lib.autograd.grad(y, x, lib.tensor(g, dtype=lib.float64), create_graph=create_graph)
    return _read(gx), gx.requires_grad


@pytest.mark.parametrize("create_graph", [False, True], ids=["first_order", "create_graph"])
@pytest.mark.parametrize("op", sorted(PICKS))
def test_inf_and_nan_gradients_stay_where_the_op_picked(torch, op, create_graph):
    ours, ours_rg = _picked_grad(gg, op, create_graph)
    theirs, theirs_rg = _picked_grad(torch, op, create_graph)
    np.testing.assert_array_equal(ours, theirs)  # NaN where PyTorch has NaN, 0 where it has 0
    assert ours_rg == theirs_rg


def test_max_pool3d_first_order_keeps_an_inf_gradient_at_the_maximum(torch):
    got = []  # (first order only: the recorded 3-d rule still scatters through a one-hot convolution)
    for lib in (gg, torch):
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.max_pool3d(x.reshape(1, 1, 2, 2, 2), 2)
        (gx,) = lib.autograd.grad(y, x, lib.full((1, 1, 1, 1, 1), -np.inf, dtype=lib.float64))
        got.append(_read(gx))
    np.testing.assert_array_equal(*got)


def test_hardsigmoid_recorded_rule_selects(torch):
    got = []
    for lib in (gg, torch):
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        gy = lib.tensor(G, dtype=lib.float64, requires_grad=True)
        (gx,) = lib.autograd.grad(lib.nn.functional.hardsigmoid(x), x, gy, create_graph=True)
        got.append(_read(gx))  # (PyTorch has no second derivative of hardsigmoid to compare)
    np.testing.assert_array_equal(*got)


def _relu6_then_sqrt(lib, create_graph):
    """MobileNet's ReLU6 under a norm: a clipped 0 gets sqrt's infinite slope, and PyTorch's
    select keeps it out of the weights."""
    rs = np.random.RandomState(0)
    lin = lib.nn.Linear(4, 3).double()
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(rs.randn(3, 4)))
        lin.bias.copy_(lib.tensor([-9.0, 0.5, 9.0]))  # rows clipped at 0 and at 6
    x = lib.tensor(rs.randn(5, 4), requires_grad=True)
    h = lib.nn.ReLU6(inplace=True)(lin(x))
    loss = h.sqrt().sum() + (h - 6).abs().sqrt().sum()
    grads = lib.autograd.grad(loss, [x, lin.weight, lin.bias], create_graph=create_graph)
    out = [_read(loss)] + [_read(g) for g in grads]
    if create_graph:
        out.append(_read(lib.autograd.grad(grads[1].sum(), lin.bias, allow_unused=True)[0]))
    return out


@pytest.mark.parametrize("create_graph", [False, True], ids=["first_order", "create_graph"])
def test_relu6_then_sqrt_gives_pytorchs_finite_weight_gradients(torch, create_graph):
    ours = _relu6_then_sqrt(gg, create_graph)
    theirs = _relu6_then_sqrt(torch, create_graph)
    assert np.isfinite(theirs[2]).all()
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# -- once_differentiable under create_graph ----------------------------------------------------------


def _once(lib, loss_kind):
    once_differentiable = importlib.import_module(lib.__name__ + ".autograd.function").once_differentiable

    class Once(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)  # a saved tensor that requires grad
            return x**3

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

    x = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    y = Once.apply(x)
    loss = {"constant": y.sum(), "times_x": (y * x).sum(), "times_w": (y * w).sum()}[loss_kind]
    (g,) = lib.autograd.grad(loss, x, create_graph=True)
    out = [g.requires_grad, _read(g)]
    if g.requires_grad:
        # autograd.grad never reaches PyTorch's error node (it hangs from new leaves) ...
        for wrt in (x, w):
            out.append(_read(lib.autograd.grad(g.sum(), wrt, retain_graph=True, allow_unused=True)[0]))
        # ... a backward() does, and raises
        try:
            g.sum().backward()
            out.append("computed")
        except RuntimeError as e:
            out.append("differentiate twice" in str(e))
    return out


@pytest.mark.parametrize("loss_kind", ["constant", "times_x", "times_w"])
def test_once_differentiable_result_hangs_from_the_incoming_gradient_only(torch, loss_kind):
    ours, theirs = _once(gg, loss_kind), _once(torch, loss_kind)
    assert ours[0] == theirs[0] == (loss_kind != "constant")
    assert len(ours) == len(theirs)
    for a, b in zip(ours[1:], theirs[1:], strict=True):
        if isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        else:
            assert a == b


# -- setup_context saving an input returned as is ----------------------------------------------------


def _as_is_cases(lib):
    class AsIs(lib.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            return g, None

    class Dirty(AsIs):
        @staticmethod
        def forward(x, y):
            return x.mul_(2.0)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.mark_dirty(inputs[0])
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            return g * 2.0, None

    class NonDiff(AsIs):
        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.mark_non_differentiable(output)

    class View(AsIs):
        @staticmethod
        def forward(x, y):
            return x.view_as(x)

    class SavesOutputOfTwo(lib.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x, y * 2.0

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output[0])

        @staticmethod
        def backward(ctx, g, h):
            return g, h * 2.0

    class OldStyle(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g, None

    a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    c = lib.tensor([1.0, 2.0], dtype=lib.float64)
    return {
        "leaf": lambda: AsIs.apply(a, a),
        "non_leaf": lambda: AsIs.apply(a * 1.0, a),
        "no_input_requires_grad": lambda: AsIs.apply(c, c),
        "two_outputs_saves_the_input_one": lambda: SavesOutputOfTwo.apply(a * 1.0, a),
        "marked_dirty": lambda: Dirty.apply(a * 1.0, a),
        "marked_non_differentiable": lambda: NonDiff.apply(a * 1.0, a),
        "returns_a_view": lambda: View.apply(a * 1.0, a),
        "old_style": lambda: OldStyle.apply(a * 1.0, a),
        "under_no_grad": lambda: _under_no_grad(lib, AsIs, a),
    }


def _under_no_grad(lib, fn, a):
    with lib.no_grad():
        return fn.apply(a, a)


def _as_is(lib, case):
    try:
        out = _as_is_cases(lib)[case]()
    except RuntimeError as e:
        return "returned as-is as output is being saved for backward" in str(e)
    out = out[0] if isinstance(out, tuple) else out
    out.sum().backward() if out.requires_grad else None
    return _read(out)


@pytest.mark.parametrize("case", sorted(_as_is_cases(gg)))
def test_setup_context_saving_an_input_returned_as_is_is_refused(torch, case):
    ours, theirs = _as_is(gg, case), _as_is(torch, case)
    if isinstance(theirs, bool):
        assert ours is True and theirs is True
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_setup_context_refusal_is_a_graph_error_naming_the_function():
    with pytest.raises(GraphError, match="AsIs: An input that has been returned as-is"):
        _as_is_cases(gg)["non_leaf"]()


# -- in-place channel dropout of an unbatched input ----------------------------------------------------

CHANNEL_DROPOUT = {
    "dropout1d_unbatched": ("dropout1d", (3, 4)),
    "dropout1d_batched": ("dropout1d", (2, 3, 4)),
    "dropout3d_unbatched": ("dropout3d", (2, 1, 2, 2)),
    "dropout3d_batched": ("dropout3d", (1, 2, 1, 2, 2)),
}


def _channel_dropout_after(lib, case, saver, p, training):
    """An in-place channel dropout that drops nothing (p = 0, or eval) after an op that saved its
    output (sigmoid) or its input (sin): PyTorch's unbatched path moves the version twice."""
    fn, shape = CHANNEL_DROPOUT[case]
    a = lib.tensor(np.linspace(0.1, 1, int(np.prod(shape))).reshape(shape), requires_grad=True)
    h = getattr(a * 1.0, saver)()
    out = getattr(lib.nn.functional, fn)(h, p, training, inplace=True)
    got = [out is h, tuple(out.shape), h._version]
    try:
        (h * lib.tensor(np.cos(np.arange(h.numel())).reshape(shape))).sum().backward()
    except RuntimeError as e:
        return got + ["modified by an inplace operation" in str(e) or "modified in place" in str(e)]
    return got + [_read(a.grad)]


@pytest.mark.parametrize("p, training", [(0.0, True), (0.5, False)], ids=["p0_train", "eval"])
@pytest.mark.parametrize("saver", ["sigmoid", "sin"])
@pytest.mark.parametrize("case", sorted(CHANNEL_DROPOUT))
def test_inplace_channel_dropout_moves_the_version_as_pytorch(torch, case, saver, p, training):
    ours = _channel_dropout_after(gg, case, saver, p, training)
    theirs = _channel_dropout_after(torch, case, saver, p, training)
    assert ours[:3] == theirs[:3]
    if isinstance(theirs[3], bool):
        assert ours[3] is True and theirs[3] is True
    else:
        np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-12)


def test_unbatched_inplace_channel_dropout_refuses_p_before_reshaping():
    x = gg.ones(3, 4)
    with pytest.raises(ValueError, match="dropout1d: expected a probability"):
        gg.nn.functional.dropout1d(x, 1.5, True, inplace=True)
    assert tuple(x.shape) == (3, 4) and x._version == 0
