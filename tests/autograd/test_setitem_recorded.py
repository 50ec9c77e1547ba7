"""``y[key] = v`` while recording is recorded (it raised before): gradients reach the entries of
y that were kept and the value written, as in PyTorch; the refusals that remain are the
documented ones (a leaf that requires grad, as PyTorch; a view, where PyTorch rebases it)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError


def _script(lib, key, vshape, use_mask=False):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    v = lib.tensor(rng.standard_normal(vshape), requires_grad=True)
    y = x * 2
    if use_mask:
        key = lib.tensor(rng.standard_normal((3, 4, 2)) > 0)
        v_in = v.reshape(-1)[: int(key.sum())]
    else:
        v_in = v
    y[key] = v_in
    up = lib.tensor(rng.standard_normal((3, 4, 2)))
    (y * up).sum().backward()
    return y.detach().numpy(), x.grad.numpy(), v.grad.numpy()


@pytest.mark.parametrize(
    ("key", "vshape"),
    [
        ((0,), (4, 2)),
        ((slice(1, None),), (1, 4, 2)),  # broadcast: v's gradient is summed back
        ((Ellipsis, 1), (3, 4)),
        (([2, 0],), (2, 4, 2)),
        ((0, slice(None), [1, 0]), (4, 2)),  # an int beside a list: PyTorch's layout
        ((slice(None), [0, 3], 1), (3, 2)),
    ],
)
def test_recorded_setitem_matches_torch(torch, key, vshape):
    for ours, theirs in zip(_script(gg, key, vshape), _script(torch, key, vshape)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_recorded_setitem_with_a_mask_matches_torch(torch):
    for ours, theirs in zip(_script(gg, None, (24,), True), _script(torch, None, (24,), True)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_writing_a_tensor_in_the_graph_into_a_buffer(torch):
    results = []
    for lib in (gg, torch):
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        buf = lib.zeros(3, dtype=lib.float64)
        buf[1:] = w * 3
        (buf * buf).sum().backward()
        results.append((buf.requires_grad, w.grad.tolist()))
    assert results[0] == results[1] == (True, [18.0, 36.0])


def test_refusals_and_the_unrecorded_path():
    x = gg.ones(3, requires_grad=True)
    with pytest.raises(GraphError, match="leaf tensor that requires grad"):
        x[0] = 2.0  # as PyTorch
    y = x * 1
    view = y[1:]
    view[0] = 5.0  # the view's and y's graphs are rebased, as PyTorch (autograd/view_rebase.py)
    assert y.tolist() == [1.0, 5.0, 1.0]
    (y * gg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 3.0]  # the overwritten element gets none
    x.grad = None
    with gg.no_grad():
        x[0] = 2.0  # outside the graph: written in place, as before
    assert x.tolist() == [2.0, 1.0, 1.0] and x.grad is None
