"""Round 63, a follow-up from the in-place/view fuzz: writes that overwrite a recorded tensor
without reading it (``fill_``, ``zero_``, ``copy_``, the random fills, ``y[:] = v``) cut y's old
values from the graph, as PyTorch's ``FillBackward``/``CopyBackwards``: under ``create_graph``
their gradient is a constant zero with no ``grad_fn``, so a second backward reaches nothing through
it (``.grad`` stays None; a backward from it raises). glassgrad recorded them as
``where(True, value, y)``, whose gradient stayed connected. A write through a view, a partial
setitem (``y[1:] = v``) or a key PyTorch applies as a view (``y[-4:]``, ``y[None]``) still gives
a gradient with a graph, as PyTorch's ``CopySlices``.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

X0 = np.linspace(0.3, 1.2, 4)
W0 = np.linspace(-0.5, 0.7, 4)


def _libs(torch):
    return [("torch", torch), ("glassgrad", gg)]


def _const(lib, dt):
    return lib.tensor(np.linspace(0.1, 0.4, 4), dtype=dt)


#: write name -> (fn(lib, target, w, dtype), whether its values are drawn at random)
WRITES = {
    "fill_number": (lambda lib, t, w, dt: t.fill_(0.25), False),
    "fill_tensor": (lambda lib, t, w, dt: t.fill_(w.sum() * 0.1), False),
    "zero_": (lambda lib, t, w, dt: t.zero_(), False),
    "copy_const": (lambda lib, t, w, dt: t.copy_(_const(lib, dt)), False),
    "copy_w": (lambda lib, t, w, dt: t.copy_(w * 2.0), False),
    "copy_broadcast": (lambda lib, t, w, dt: t.copy_(w[0] * 2.0), False),
    "copy_detached": (lambda lib, t, w, dt: t.copy_(w.detach()), False),
    "setitem_colon": (lambda lib, t, w, dt: t.__setitem__(slice(None), 0.5), False),
    "setitem_ellipsis_w": (lambda lib, t, w, dt: t.__setitem__(Ellipsis, w * 2.0), False),
    "setitem_0_to_100": (lambda lib, t, w, dt: t.__setitem__(slice(0, 100), 0.5), False),
    "normal_": (lambda lib, t, w, dt: t.normal_(), True),
    "uniform_": (lambda lib, t, w, dt: t.uniform_(), True),
    "bernoulli_": (lambda lib, t, w, dt: t.bernoulli_(0.5), True),
    "exponential_": (lambda lib, t, w, dt: t.exponential_(), True),
    "random_": (lambda lib, t, w, dt: t.random_(0, 5), True),
}
#: writes PyTorch records through a view (CopySlices): the gradient keeps its graph there
PARTIAL = {
    "setitem_tail": lambda lib, t, w, dt: t.__setitem__(slice(1, None), 0.5),
    "setitem_minus4": lambda lib, t, w, dt: t.__setitem__(slice(-4, None), 0.5),
    "setitem_none": lambda lib, t, w, dt: t.__setitem__(None, w * 2.0),
    "view_fill": lambda lib, t, w, dt: t.view(4).fill_(0.25),
    "slice_copy": lambda lib, t, w, dt: t[1:].copy_(w[1:] * 2.0),
}


def _run(lib, write, target, create_graph, dtype="float64"):
    """The fuzz's program around one write: what the gradients, and a backward through them, give."""
    dt = getattr(lib, dtype)
    leaf = lib.tensor(X0, dtype=dt, requires_grad=True)
    w = lib.tensor(W0, dtype=dt, requires_grad=True)
    v3 = leaf * 1.0
    y = v3 * 1.5
    keep = y.detach() if target == "shared" else None  # another holder of y's memory
    if target == "hooks":
        with lib.autograd.graph.saved_tensors_hooks(lambda a: a, lambda a: a):
            write(lib, y, w, dt)
    else:
        write(lib, y, w, dt)
    del keep
    gs = lib.autograd.grad((y.sigmoid() * y).sum(), [v3, w], create_graph=create_graph, allow_unused=True)
    out = {"g": [None if g is None else (g.detach().numpy(), g.grad_fn is None, g.requires_grad) for g in gs]}
    if create_graph:
        try:
            sum(((g**2).sum() for g in gs if g is not None), lib.zeros((), dtype=dt)).backward()
            out["second"] = [None if p.grad is None else p.grad.numpy() for p in (leaf, w)]
        except RuntimeError:  # (glassgrad's GraphError is one)
            out["second"] = "raises"
    return out


def _same(ours, theirs, rtol, random=False):
    for a, b in zip(ours["g"], theirs["g"]):
        assert (a is None) == (b is None)
        if a is not None:
            assert a[1:] == b[1:]  # (grad_fn is None, requires_grad)
            if not random or not a[0].any() or not b[0].any():
                np.testing.assert_allclose(a[0], b[0], rtol=rtol, atol=rtol)
    if "second" in theirs:
        s, t = ours["second"], theirs["second"]
        if isinstance(t, str) or isinstance(s, str):
            assert s == t
        else:
            for a, b in zip(s, t):
                assert (a is None) == (b is None)
                if a is not None and not random:
                    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


def test_the_fuzz_case_fill_cuts_the_gradient_from_the_graph(torch):
    for _, lib in _libs(torch):
        leaf = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v3 = leaf * 1.0
        v2 = v3 * 1.5
        v2.fill_(0.25)
        (g,) = lib.autograd.grad(v2.sigmoid().sum(), [v3], create_graph=True)
        assert g.grad_fn is None and not g.requires_grad
        assert g.tolist() == [0.0, 0.0, 0.0]
        with pytest.raises(RuntimeError, match="require"):
            (g**2).sum().backward()
        assert leaf.grad is None


@pytest.mark.parametrize("create_graph", [True, False], ids=["create_graph", "first_order"])
@pytest.mark.parametrize("target", ["nonleaf", "shared", "hooks"])
@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_full_overwrite_gives_a_constant_zero_gradient(torch, name, target, create_graph):
    write, random = WRITES[name]
    theirs = _run(torch, write, target, create_graph)
    ours = _run(gg, write, target, create_graph)
    _same(ours, theirs, 1e-12, random)
    if create_graph:
        assert ours["g"][0][1:] == (True, False)  # v3's: zeros outside any graph


@pytest.mark.parametrize("name", sorted(PARTIAL))
def test_a_write_through_a_view_keeps_the_gradients_graph(torch, name):
    theirs = _run(torch, PARTIAL[name], "nonleaf", True)
    ours = _run(gg, PARTIAL[name], "nonleaf", True)
    _same(ours, theirs, 1e-12)
    assert ours["g"][0][1:] == (False, True)


@pytest.mark.parametrize("name", ["fill_number", "copy_w", "copy_broadcast", "setitem_ellipsis_w"])
def test_float32_matches_to_float32_rounding(torch, name):
    write, _ = WRITES[name]
    _same(_run(gg, write, "nonleaf", True, "float32"), _run(torch, write, "nonleaf", True, "float32"), 2e-6)


NAMED = {
    "fill_number": lambda lib, y, w: y.fill_(0.25),
    "fill_tensor": lambda lib, y, w: y.fill_(w[0]),
    "zero_": lambda lib, y, w: y.zero_(),
    "copy_w": lambda lib, y, w: y.copy_(w),
    "copy_const": lambda lib, y, w: y.copy_(lib.ones(4, dtype=lib.float64)),
    "normal_": lambda lib, y, w: y.normal_(),
    "uniform_": lambda lib, y, w: y.uniform_(),
    "exponential_": lambda lib, y, w: y.exponential_(),
    "setitem_number": lambda lib, y, w: y.__setitem__(slice(None), 0.5),
    "setitem_same_shape": lambda lib, y, w: y.__setitem__(Ellipsis, w),
    "setitem_tail": lambda lib, y, w: y.__setitem__(slice(1, None), 0.5),
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_the_writes_node_and_its_inputs_are_named_as_pytorchs(torch, name):
    seen = []
    for _, lib in _libs(torch):
        w = lib.tensor(W0, requires_grad=True)
        y = lib.tensor(X0, requires_grad=True) * 1.5
        NAMED[name](lib, y, w)
        fn = y.grad_fn
        seen.append((type(fn).__name__, [type(n).__name__ for n, _ in fn.next_functions]))
    assert seen[0] == seen[1]


@pytest.mark.parametrize("name", ["fill_number", "copy_w", "setitem_ellipsis_w", "setitem_tail"])
def test_forward_mode_tangent_of_the_written_tensor(torch, name):
    write = WRITES[name][0] if name in WRITES else PARTIAL[name]
    tangents = []
    for _, lib in _libs(torch):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            p = fw.make_dual(lib.tensor(X0), lib.tensor(np.ones(4)))
            w = fw.make_dual(lib.tensor(W0), lib.tensor(np.arange(4.0)))
            y = p * 2.0
            write(lib, y, w, lib.float64)
            tangents.append(fw.unpack_dual((y * y).sum()).tangent.item())
    assert tangents[0] == pytest.approx(tangents[1], rel=1e-12)


def test_meta_non_leaf_takes_a_recorded_fill(torch):
    for _, lib in _libs(torch):
        y = lib.ones(4, device="meta", requires_grad=True) * 2
        y.fill_(0.5)
        y.copy_(lib.ones(4, device="meta"))
        assert y.is_meta and type(y.grad_fn).__name__ == "CopyBackwards"


def test_a_recorded_copy_of_the_wrong_shape_is_refused_by_name():
    y = gg.tensor(X0, requires_grad=True) * 2
    with pytest.raises(
        RuntimeError, match=r"copy_: expected a value broadcastable to \(4,\), got shape \(3,\)"
    ):
        y.copy_(gg.ones(3, dtype=gg.float64, requires_grad=True))
    with pytest.raises(
        RuntimeError, match=r"copy_: expected a value broadcastable to \(4,\), got shape \(1, 4\)"
    ):
        y.copy_(gg.ones(1, 4, dtype=gg.float64))
