"""Review of the second view/in-place round: each program runs in glassgrad and in PyTorch, and
both raise, or both compute the same forward values and gradients.

Found by the review: ``inplace=True`` after a composite whose output is a view of a dead
intermediate (conv1d, embedding, instance_norm, a flatten) raised "shares memory" where PyTorch
computes; a non-affine layer/batch/group/instance norm saved its output, so a ``relu_`` on it
raised at backward; the in-place leaky_relu/elu/rrelu saved their input where PyTorch saves the
result (a later in-place change computed here and raised there, a ``.data`` change gave another
gradient); relu's backward took ``np.where`` (4x the old mask product).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError
from glassgrad.ops.activation import zero_where

X = np.linspace(-1.3, 1.1, 24).reshape(2, 3, 4)


def _outcome(lib, program):
    """("raised", error) or ("values", arrays): what the program returns and x's gradient."""
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    try:
        shown = program(lib, x)
    except (RuntimeError, GraphError) as e:
        return "raised", e
    return "values", [np.array(t.detach().tolist()) for t in (*shown, x.grad)]


def _same(torch, program):
    ours, theirs = _outcome(gg, program), _outcome(torch, program)
    assert ours[0] == theirs[0], ours[1] if ours[0] == "raised" else theirs[1]
    if ours[0] == "values":
        for a, b in zip(ours[1], theirs[1], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _seeded(lib, module):
    """``module`` with its parameters set to fixed values, the same in both libraries."""
    with lib.no_grad():
        for i, p in enumerate(module.parameters()):
            p.copy_(lib.tensor(np.cos(np.arange(p.numel()) + i).reshape(tuple(p.shape)), dtype=p.dtype))
    return module.double()


# -- inplace=True on the output of a composite that is a view of a dead intermediate ---------------


def _conv1d_relu(lib, x):
    y = lib.nn.ReLU(inplace=True)(_seeded(lib, lib.nn.Conv1d(3, 2, 2))(x))
    y.sum().backward()
    return (y,)


def _embedding_relu(lib, x):
    e = _seeded(lib, lib.nn.Embedding(5, 3))
    y = lib.nn.functional.relu(e(lib.tensor([1, 3, 1])) * 1.0, inplace=True)  # * 1.0: a non-view
    z = lib.nn.functional.leaky_relu(e(lib.tensor([0, 4])), 0.1, inplace=True)
    (y.sum() + z.sum() + x.sum()).backward()
    return y, z


def _flatten_relu(lib, x):
    y = lib.nn.functional.relu(lib.flatten(x * 2.0, 1), inplace=True)  # x * 2.0 dies: nobody sees it
    (y * y).sum().backward()
    return (y,)


@pytest.mark.parametrize("program", [_conv1d_relu, _embedding_relu, _flatten_relu])
def test_inplace_activation_on_a_view_of_a_dead_intermediate_computes_as_torch(torch, program):
    _same(torch, program)


def test_embedding_output_takes_relu_inplace_as_torch(torch):
    grads = []
    for lib in (gg, torch):
        e = _seeded(lib, lib.nn.Embedding(5, 3))
        y = e(lib.tensor([1, 3, 1]))
        lib.nn.functional.relu(y, inplace=True).sum().backward()
        grads.append(np.array(e.weight.grad.tolist()))
    np.testing.assert_array_equal(*grads)


def _norm_relu(kind):
    def program(lib, x):
        h = x * 1.0
        if kind == "layer":
            y = lib.nn.functional.layer_norm(h, (4,))
        elif kind == "batch":
            y = lib.nn.BatchNorm1d(3, affine=False).double()(h)
        elif kind == "group":
            y = lib.nn.functional.group_norm(h, 3)
        else:
            y = lib.nn.InstanceNorm1d(3).double()(h)
        lib.nn.ReLU(inplace=True)(y)
        (y * lib.arange(4.0, dtype=lib.float64)).sum().backward()
        return (y,)

    return program


@pytest.mark.parametrize("kind", ["layer", "batch", "group", "instance"])
def test_relu_inplace_after_a_norm_without_affine_computes_as_torch(torch, kind):
    _same(torch, _norm_relu(kind))


# -- what must still raise: another holder of the memory is alive, or a piece of a split ------------


def _view_of_live_base(lib, x):
    h = x * 2.0
    v = h.view(6, 4)
    lib.nn.functional.relu(v, inplace=True)
    (h.sum() + v.sum()).backward()
    return h, v


def _lone_chunk_piece(lib, x):
    a = (x * 2.0).chunk(2)[0]  # its sibling and base are gone, it is still a multi-view output
    a.relu_()
    a.sum().backward()
    return (a,)


def _detach_held(lib, x):
    h = x * 2.0
    d = h.detach()
    h.mul_(3.0)
    (h.sum() + d.sum()).backward()
    return h, d


def _expanded(lib, x):
    h = (x * 1.0)[0, 0].reshape(1, 4).expand(3, 4)[1:]  # one row seen three times; the base is gone
    h.mul_(2.0)  # PyTorch: "more than one element of the written-to tensor refers to a single ..."
    h.sum().backward()
    return (h,)


def _view_made_in_no_grad(lib, x):
    w = x[0, 0]
    with lib.no_grad():
        h = (x * 2.0)[:1]  # a view, made in no_grad mode, of a base nobody holds
    h.mul_(w)  # PyTorch: "A view was created in no_grad mode and is being modified inplace ..."
    h.sum().backward()
    return (h,)


def _piece_of_a_constant(lib, x):
    h = lib.zeros(4, dtype=lib.float64).chunk(2)[0]
    h.mul_(x[0, 0, :2])  # PyTorch: "... output of a function that returns multiple views"
    h.sum().backward()
    return (h,)


@pytest.mark.parametrize("program", [_view_made_in_no_grad, _piece_of_a_constant])
def test_inplace_recorded_on_a_shared_tensor_outside_the_graph_raises_as_torch(torch, program):
    assert _outcome(gg, program)[0] == _outcome(torch, program)[0] == "raised"


def test_inplace_on_an_expanded_view_of_a_dead_base_raises_as_torch(torch):
    assert _outcome(gg, _expanded)[0] == _outcome(torch, _expanded)[0] == "raised"


def test_inplace_on_a_lone_chunk_piece_raises_as_torch(torch):
    assert _outcome(torch, _lone_chunk_piece)[0] == _outcome(gg, _lone_chunk_piece)[0] == "raised"


@pytest.mark.parametrize("program", [_view_of_live_base, _detach_held])
def test_inplace_on_memory_another_tensor_holds_computes_as_torch(torch, program):
    # the live view's (or the detach()'s) memory is written and the graphs rebased, as PyTorch
    _same(torch, program)


def test_memory_held_by_the_caller_is_written_not_swapped():
    a = np.zeros(3)
    t = gg.from_numpy(a)
    t += gg.ones(3, dtype=gg.float64, requires_grad=True)
    assert a.tolist() == [1.0, 1.0, 1.0] and t.grad_fn is not None


# -- the in-place leaky_relu / elu / rrelu save their result, as PyTorch --------------------------


def _act(name):
    def fn(lib, h):
        F = lib.nn.functional
        if name == "leaky_relu":
            return F.leaky_relu(h, 0.1, inplace=True)
        if name == "elu":
            return F.elu(h, 0.7, inplace=True)
        return F.rrelu(h, 0.1, 0.3, training=False, inplace=True)

    return fn


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "rrelu"])
@pytest.mark.parametrize("after", ["mul_", "dropout_", "data"])
def test_inplace_activation_then_a_change_of_its_result_as_torch(torch, name, after):
    def program(lib, x):
        h = x * 2.0
        _act(name)(lib, h)
        if after == "mul_":
            h.mul_(2.0)  # PyTorch: "modified by an inplace operation"
        elif after == "dropout_":
            lib.nn.functional.dropout(h, 0.0 + 1e-300, True, inplace=True)
        else:
            h.data.mul_(-1.0)  # not seen by the version check: the gradient reads the new result
        h.sum().backward()
        return (h,)

    if after == "dropout_":  # the mask is random: compare raising alone
        assert _outcome(gg, program)[0] == _outcome(torch, program)[0] == "raised"
    else:
        _same(torch, program)


@pytest.mark.parametrize("name", ["leaky_relu", "elu"])
def test_inplace_with_a_negative_slope_raises_at_backward_as_torch(torch, name):
    def program(lib, x):
        h = x * 2.0
        F = lib.nn.functional
        F.leaky_relu(h, -0.1, inplace=True) if name == "leaky_relu" else F.elu(h, -0.5, inplace=True)
        h.sum().backward()
        return (h,)

    assert _outcome(gg, program)[0] == _outcome(torch, program)[0] == "raised"
    with gg.no_grad():  # no backward: computes, as PyTorch
        h = gg.tensor([-1.0, 2.0])
        gg.nn.functional.leaky_relu(h, -0.5, inplace=True)
        assert h.tolist() == [0.5, 2.0]


# -- relu's backward: exact and fast ------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_zero_where_is_where_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    g = rng.standard_normal((6, 5)).astype(dtype)
    g[0, :4] = [np.nan, np.inf, -np.inf, -0.0]
    cond = rng.random((6, 5)) < 0.5
    cond[0, :3] = True
    for c, a in ((cond, g), (cond.T, g.T), (cond, np.broadcast_to(g[:1], g.shape))):
        out = zero_where(c, a)
        assert out.dtype == dtype and out.tobytes() == np.where(c, 0, a).tobytes()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_relu_gradient_with_nan_and_inf_as_torch(torch, dtype):
    xs, gs = [-1.0, 0.0, -0.0, float("nan"), 2.0, -3.0], [float("nan"), np.inf, 1.0, 1.0, -2.0, np.inf]
    grads = []
    for lib in (gg, torch):
        x = lib.tensor(xs, dtype=getattr(lib, dtype), requires_grad=True)
        lib.relu(x).backward(lib.tensor(gs, dtype=getattr(lib, dtype)))
        grads.append(np.array(x.grad.tolist()))
        assert str(x.grad.dtype).endswith(dtype)
    assert grads[0].tobytes() == grads[1].tobytes()  # +0.0 where x <= 0, NaN and inf gradients too


# -- memory: a parameter chunked every step --------------------------------------------------------


def test_chunking_a_parameter_every_step_keeps_the_registry_bounded():
    w = gg.randn(8, 4, requires_grad=True)
    opt = gg.optim.SGD([w], lr=0.01)
    sizes = []
    for _ in range(2500):
        a, b = w.chunk(2)
        loss = (a * b).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sizes.append(len(w._vc[2]))
    assert max(sizes) <= 1024 and sizes[-1] < 1024  # dead entries are dropped at 1024


def test_pieces_used_after_an_optimizer_step_raise_as_pytorch(torch):
    """An optimizer writes the parameter's array and bumps _version: the chunk pieces cut before
    the step are stale, and PyTorch refuses to use them (so must glassgrad, not use old values)."""
    results = []
    for lib in (torch, gg):
        w = lib.nn.Parameter(lib.ones(8, 3))
        opt = lib.optim.SGD([w], lr=0.1)
        a, b = w.chunk(2)
        (a * b).sum().backward()
        opt.step()
        try:
            (a * b).sum().backward()
            results.append("computed")
        except RuntimeError:
            results.append("raised")
    assert results == ["raised", "raised"]


def test_setitem_into_a_constant_whose_views_are_gone_is_recorded_as_pytorch(torch):
    """forces[i] = forces[i] + f (differentiable physics): the view read on the right is gone by
    the time of the write, so forces, outside the graph, takes a recorded SetItem as in PyTorch;
    with a view of it still alive, that view's graph is rebased, as PyTorch's."""
    grads = []
    for lib in (torch, gg):
        w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        forces = lib.zeros(3, 2, dtype=lib.float64)
        for i, j in ((0, 1), (1, 2)):
            f = w[i] * w[j % 2]
            forces[i] = forces[i] + f
            forces[j] = forces[j] - f
        (forces * lib.arange(6, dtype=lib.float64).reshape(3, 2)).sum().backward()
        grads.append(np.asarray(w.grad.numpy() if lib is gg else w.grad.detach().numpy()))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)
    grads = []
    for lib in (torch, gg):
        forces = lib.zeros(3, 2, dtype=lib.float64)
        rows = forces[1:]  # alive while forces is written: rebased onto the write
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        forces[1] = w * 2
        (rows * lib.tensor([[3.0, 5.0], [7.0, 11.0]], dtype=lib.float64)).sum().backward()
        assert rows.tolist() == [[2.0, 4.0], [0.0, 0.0]]
        grads.append(np.asarray(w.grad.tolist()))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)
