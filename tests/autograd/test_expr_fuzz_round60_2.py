"""Round 60's second random-expression fuzz of the core, its findings pinned against PyTorch.

A result laid out otherwise than PyTorch's changes values silently once a program branches on
``is_contiguous()``: ``v = y.view(-1) if y.is_contiguous() else y.reshape(-1); v[::2].mul_(3)``
writes through to ``y`` only where ``view`` aliases it. ``sort``/``argsort``/``msort`` gave a
row-major result where PyTorch's takes the input's layout (``empty_like``), and ``rms_norm`` and
``rrelu`` kept a transposed input's layout where PyTorch's answer is row-major.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

X = np.random.default_rng(60).standard_normal((2, 3, 4, 5))
UP = np.random.default_rng(61).standard_normal((5, 4, 3, 2))


def _read(t):
    return np.array(t.detach().tolist())


def _inputs(lib, leaf):
    """Inputs of the layouts the fuzz draws, each computed from ``leaf`` (2, 3, 4, 5)."""
    y = leaf * 1.0
    return {
        "permuted4": y.permute(3, 2, 1, 0),
        "transposed4": y.transpose(1, 2),
        "permuted3": y[0].permute(2, 0, 1),
        "transposed2": y[0, 0].t(),
        "stepped": y[:, :, ::2],
        "expanded": y[:, :1].expand(2, 3, 4, 5),
        "channels_last": y.contiguous(memory_format=lib.channels_last),
        "contiguous": y,
    }


LAYOUTS = list(_inputs(gg, gg.tensor(X)))

SORTS = {
    "sort_first": lambda lib, x: x.sort(0),
    "sort_last": lambda lib, x: x.sort(-1),
    "sort_descending": lambda lib, x: lib.sort(x, dim=1, descending=True),
    "sort_stable": lambda lib, x: lib.sort(x, dim=-1, stable=True),
    "argsort": lambda lib, x: (x.argsort(0),),
    "msort": lambda lib, x: (lib.msort(x),),
}


@pytest.mark.parametrize("op", list(SORTS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_sort_results_take_the_inputs_layout(torch, op, layout):
    def run(lib):
        leaf = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        outs = SORTS[op](lib, _inputs(lib, leaf)[layout])
        first = outs[0]
        strides = [o.stride() for o in outs]
        grad = None
        if first.dtype == lib.float64:
            up = lib.tensor(np.resize(UP, tuple(first.shape)), dtype=lib.float64)
            (grad,) = lib.autograd.grad((first * up).sum(), [leaf])
        return [_read(o) for o in outs], strides, [o.is_contiguous() for o in outs], grad

    ours, theirs = run(gg), run(torch)
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_array_equal(a, b)
    assert ours[1:3] == theirs[1:3]
    if theirs[3] is not None:
        np.testing.assert_array_equal(_read(ours[3]), _read(theirs[3]))


@pytest.mark.parametrize("op", ["sort", "msort"])
def test_inplace_through_view_of_sorted_aliases_as_pytorch(torch, op):
    # the fuzz's seed 84407: msort of a transposed leaf, then an in-place op through view/reshape
    def run(lib):
        leaf = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        x = leaf.permute(3, 2, 1, 0) * 1.0
        y = lib.msort(x) if op == "msort" else x.sort(1)[0]
        v = y.view(-1) if y.is_contiguous() else y.reshape(-1)
        v[::2].mul_(3.0)
        y.add_(1.0)
        loss = (y * lib.tensor(UP, dtype=lib.float64)).sum() + (v * v).sum()
        loss.backward()
        return _read(y), _read(v), _read(leaf.grad)

    for a, b in zip(run(gg), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def _rms(lib, x, with_weight, dtype):
    w = lib.tensor(np.linspace(0.5, 1.5, x.shape[-1]), dtype=dtype) if with_weight else None
    return lib.nn.functional.rms_norm(x, x.shape[-1:], w)


NORMS = {
    "rms_norm": lambda lib, x, dt: _rms(lib, x, False, dt),
    "rms_norm_weight": lambda lib, x, dt: _rms(lib, x, True, dt),
    "rrelu_eval": lambda lib, x, dt: lib.nn.functional.rrelu(x, training=False),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("op", list(NORMS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_rms_norm_and_rrelu_layouts(torch, op, layout, dtype):
    def run(lib):
        dt = getattr(lib, dtype)
        leaf = lib.tensor(X, dtype=dt, requires_grad=True)
        out = NORMS[op](lib, _inputs(lib, leaf)[layout], dt)
        up = lib.tensor(np.resize(UP, tuple(out.shape)), dtype=dt)
        (grad,) = lib.autograd.grad((out * up).sum(), [leaf])
        return _read(out), out.stride(), out.is_contiguous(), _read(grad)

    ours, theirs = run(gg), run(torch)
    tol = 1e-13 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(ours[0], theirs[0], rtol=tol, atol=tol)
    assert ours[1:3] == theirs[1:3]
    np.testing.assert_allclose(ours[3], theirs[3], rtol=tol, atol=tol)


def test_rms_norm_view_after_transposed_input(torch):
    # the fuzz's seed 83768: rms_norm of a transposed 4-D leaf, then view(-1) and an in-place op
    def run(lib):
        leaf = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.rms_norm(leaf.permute(3, 2, 1, 0), (2,))
        v = y.view(-1) if y.is_contiguous() else y.reshape(-1)
        v[::2].mul_(3.0)
        (y * lib.tensor(UP, dtype=lib.float64)).sum().backward()
        return _read(y), type(y.grad_fn).__name__, _read(leaf.grad)

    ours, theirs = run(gg), run(torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-13, atol=1e-13)


ROLLS = {
    "one_dim": lambda x: x.roll(1, 1),
    "two_dims": lambda x: x.roll((1, 2), (0, 1)),
    "flattened": lambda x: x.roll(3),
}


@pytest.mark.parametrize("op", list(ROLLS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_roll_layout(torch, op, layout):
    # PyTorch's roll over dims writes into empty_like(x, x's suggested format): channels-last stays
    def run(lib):
        leaf = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        out = ROLLS[op](_inputs(lib, leaf)[layout])
        up = lib.tensor(np.resize(UP, tuple(out.shape)), dtype=lib.float64)
        (grad,) = lib.autograd.grad((out * up).sum(), [leaf])
        return _read(out), out.stride(), _read(grad)

    ours, theirs = run(gg), run(torch)
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1] == theirs[1]
    np.testing.assert_array_equal(ours[2], theirs[2])


def test_roll_channels_last_3d(torch):
    def run(lib):
        x = lib.tensor(np.arange(2 * 3 * 2 * 2 * 2.0).reshape(2, 3, 2, 2, 2))
        out = x.contiguous(memory_format=lib.channels_last_3d).roll(1, 1)
        return _read(out), out.stride()

    ours, theirs = run(gg), run(torch)
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1] == theirs[1]


@pytest.mark.parametrize("op", ["hypot", "copysign"])
@pytest.mark.parametrize("changed", [0, 1])
def test_a_constant_operand_changed_in_place_before_backward(torch, op, changed):
    # fuzz seeds 71532, 83964, 100504: the operand that wants no gradient is not saved by PyTorch's
    # node, so changing it in place before backward runs; changing the saved one raises in both
    out = []
    for L in (gg, torch):
        xs = [L.tensor([1.0, -2.0, 3.0], dtype=L.float64), L.tensor([0.5, 1.5, -2.0], dtype=L.float64)]
        xs[1 - changed].requires_grad_()
        z = getattr(L, op)(*xs)
        xs[changed].zero_()
        z.sum().backward()
        out.append(xs[1 - changed].grad.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-15)


@pytest.mark.parametrize("op", ["hypot", "copysign"])
def test_the_saved_operand_changed_in_place_still_raises(torch, op):
    for L in (gg, torch):
        a = L.tensor([1.0, -2.0, 3.0], dtype=L.float64)
        b = L.tensor([0.5, 1.5, -2.0], dtype=L.float64)
        w = L.tensor([2.0, 2.0, 2.0], dtype=L.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation|modified in place"):
            x = a * w
            z = getattr(L, op)(x, b)
            x.add_(1.0)
            z.sum().backward()
