"""Round 62, leftovers (2): a view made before its base's ``requires_grad_()``.

PyTorch's view reads its base's ``requires_grad`` (``w = zeros(4); v = w[:2]; w.requires_grad_()``:
``v.requires_grad`` is True, ``v.grad_fn`` None), a backward through it fills neither ``v.grad``
nor ``w.grad``, an in-place change of it while recording is refused, and one under no_grad (of it
or of its base: an optimizer's step) gives it an ``AsStridedBackward0`` node, after which its
gradient reaches the base. glassgrad read False and refused the backward. Written fresh here.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _state(v):
    return (v.requires_grad, v.grad_fn is None, v.is_leaf)


@pytest.fixture(params=["torch", "glassgrad"])
def lib(request, torch):
    return torch if request.param == "torch" else gg


def test_view_reads_its_base_flag_and_gives_no_gradient(lib):
    w = lib.zeros(4, dtype=lib.float64)
    v, m = w[:2], w.view(2, 2)
    w.requires_grad_()
    assert _state(v) == (True, True, True)
    v2 = m[0]  # a view of the early view, made now: recorded after it
    assert v2.requires_grad and type(v2.grad_fn).__name__ == "SelectBackward0"
    (v * 3).sum().backward()
    (v2 * 2).sum().backward()
    (v.clone() * 5).sum().backward()
    assert w.grad is None and v.grad is None
    (w * 3).sum().backward()  # the base itself is an ordinary leaf
    np.testing.assert_array_equal(w.grad.numpy(), np.full(4, 3.0))
    assert v.grad is None


def test_view_follows_the_base_back_off_and_own_flag_cannot_turn_it_off(lib):
    w = lib.zeros(4, dtype=lib.float64)
    v = w[1:3]
    w.requires_grad_()
    v.requires_grad_(False)  # PyTorch: still True, read from the base
    assert v.requires_grad
    w.requires_grad_(False)
    assert not v.requires_grad and not (v * 2).requires_grad


@pytest.mark.parametrize("through", ["view", "base", "optimizer"])
def test_inplace_change_under_no_grad_gives_the_view_its_node(lib, through):
    w = lib.zeros(4, dtype=lib.float64)
    v = w[:2]
    w.requires_grad_()
    if through == "optimizer":
        (w * w).sum().backward()
        lib.optim.SGD([w], lr=0.1, momentum=0.9).step()
        w.grad = None
    else:
        with lib.no_grad():
            (v if through == "view" else w).add_(1.0)
    assert v.requires_grad and type(v.grad_fn).__name__ == "AsStridedBackward0"
    (g,) = lib.autograd.grad((v * 3).sum(), w)
    np.testing.assert_array_equal(g.numpy(), [3.0, 3.0, 0.0, 0.0])


def test_inplace_change_of_the_view_while_recording_is_refused(lib):
    w = lib.zeros(4, dtype=lib.float64)
    v = w[:2]
    w.requires_grad_()
    with pytest.raises(RuntimeError, match="leaf"):
        v.add_(1.0)
    with pytest.raises(RuntimeError, match="leaf"):
        v.unsqueeze_(0)


def test_not_a_view_keeps_its_own_flag(lib):
    w = lib.zeros(4, dtype=lib.float64)
    d, c, i = w.detach(), w[:2].clone(), lib.zeros(4, dtype=lib.int64)
    iv = i[:2]
    w.requires_grad_()
    assert not d.requires_grad and not c.requires_grad and not iv.requires_grad
    p = lib.zeros(3)
    pv = p[:2]
    q = lib.nn.Parameter(p)  # a new leaf: p's views do not follow it
    assert q.requires_grad and not pv.requires_grad
