"""View rebasing (autograd/view_rebase.py) held to PyTorch: writes through views, bases, detach()
and .data while they are alive, and what its review found: ops that PyTorch answers with a copy
and NumPy with a view, hooks on a view changed in place, views whose array was swapped, copies of
views (pickle, deepcopy), views of non-owning arrays, ``detach_``."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError

W = np.arange(12.0).reshape(3, 4) / 7.0 - 0.4


def _both(torch, program):
    ours, theirs = program(gg), program(torch)
    assert sorted(ours) == sorted(theirs)
    for k in ours:
        np.testing.assert_allclose(
            np.asarray(ours[k].tolist()), np.asarray(theirs[k].tolist()), rtol=1e-12, err_msg=k
        )


@pytest.mark.parametrize(
    "make",
    [
        lambda L, y: L.flip(y, (0,)),
        lambda L, y: L.fliplr(y),
        lambda L, y: L.flipud(y),
        lambda L, y: L.rot90(y, 1, (0, 1)),
        lambda L, y: L.rot90(y, 2, (0, 1)),
        lambda L, y: L.diag(y),
    ],
    ids=["flip", "fliplr", "flipud", "rot90_1", "rot90_2", "diag"],
)
def test_ops_that_copy_in_pytorch_do_not_write_through(torch, make):
    def program(L):
        w = L.tensor(W, requires_grad=True)
        y = w * 1.0
        f = make(L, y)
        f.mul_(10.0)  # a copy: y keeps its values and its graph
        y.mul_(2.0)  # ... and f keeps its own
        (y * L.tensor(W)).sum().backward()
        return {"y": y, "f": f, "g": w.grad}

    _both(torch, program)


def test_a_hook_on_a_view_before_its_change_does_not_run_as_pytorch(torch):
    def program(L):
        w = L.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        y = w * 1.0
        v = y[:2]
        seen = []
        v.register_hook(lambda g: seen.append(1) or g * 10)
        v.mul_(2.0)  # the changed region's gradient goes to y's old node, not through v's old one
        y.sum().backward()
        return {"g": w.grad, "calls": L.tensor(float(len(seen)))}

    _both(torch, program)


def test_a_view_whose_array_was_swapped_is_no_view_of_its_base():
    w = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    big = gg.zeros(4, 3)
    top = big[0]
    top.data = gg.zeros(3)  # top's memory is its own now
    top.copy_(w * 2.0)  # recorded on top alone: big is not rebased
    assert big.grad_fn is None and big.tolist()[0] == [0.0, 0.0, 0.0]
    ((big**2).sum() + (top**2).sum()).backward()  # 4 w^2 summed: gradient 8 w
    assert w.grad.tolist() == [8.0, 16.0, 24.0]


def test_a_view_of_a_view_of_a_non_owning_array_is_rebased(torch):
    def program(L):  # diagonal() is as_strided's view: its slices' NumPy base does not own memory
        w = L.tensor(W, requires_grad=True)
        h = w * 1.5
        v = h.diagonal()[1:]
        v.mul_(2.0)
        (h * h).sum().backward()
        return {"h": h, "g": w.grad}

    _both(torch, program)


def test_copies_of_views_and_of_bases_are_plain_tensors():
    x = gg.tensor([[1.0, 2.0], [3.0, 4.0]])
    row = x[0]
    y = pickle.loads(pickle.dumps(x))  # x holds a table of (weakly held) views: not pickled
    assert y.tolist() == x.tolist() and y._base is None and y._views is None
    r = copy.deepcopy(row)
    assert r._base is None and r.tolist() == [1.0, 2.0]
    w = gg.tensor([1.0, 1.0], requires_grad=True)
    r.add_(w)  # the copy is no view: recorded on it alone
    assert r.tolist() == [2.0, 3.0] and x.tolist()[0] == [1.0, 2.0]


def test_detach_in_place_of_a_view_raises_as_pytorch(torch):
    for lib, error in ((gg, GraphError), (torch, RuntimeError)):
        y = lib.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1.0
        with pytest.raises(error, match="detach"):
            y[:2].detach_()


def _shared_then_changed(lib):
    """In-place changes, while recording, of memory another tensor sees: PyTorch rebases the
    graphs of the base and of every view (CopySlices), glassgrad too (autograd/view_rebase.py)."""
    w = lib.tensor(np.arange(1.0, 13.0).reshape(3, 4), dtype=lib.float64, requires_grad=True)
    y = w * 2.0
    row = y[0]  # a view of y, alive while y changes
    y.add_(1.0)
    base = w * 2.0
    z = base.t()  # z is itself a view, of a base still alive
    z[1:] = w[0, :3, None] * -2.0 + 9.0  # setitem into a view
    z.relu_()
    d = w * 3.0
    held = d.detach()
    d.mul_(2.0)
    scale = lib.arange(12, dtype=lib.float64).reshape(3, 4)
    loss = (row * row).sum() + (base * scale).sum() + (z.exp() * 0.1).sum() + (d * held).sum()
    loss.backward()
    return [np.asarray(t.tolist()) for t in (row, base, z, d, held, w.grad)]


def test_recorded_inplace_on_memory_others_see_computes_as_torch(torch):
    w = gg.tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)
    with pytest.raises(GraphError, match="leaf"):
        w.add_(1.0)
    for a, b in zip(_shared_then_changed(gg), _shared_then_changed(torch), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
