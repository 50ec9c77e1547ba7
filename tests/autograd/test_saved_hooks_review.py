"""Regressions from the review of round 5's autograd additions: saved-tensor hooks meeting recorded
in-place ops, post-accumulate hooks that change ``.grad`` in place while backward still runs,
``disable_saved_tensors_hooks`` under an installed pair, ``autograd.grad`` on an input that wants
no gradient, ``nn.grad.conv*d_input``'s input sizes, and ``Node`` staying free of ``__getattr__``.

Each ``script_*`` runs on glassgrad and on PyTorch, written the way PyTorch code writes it."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import glassgrad
from glassgrad.autograd import accumulate_hooks
from glassgrad.autograd.function import Node
from glassgrad.errors import GraphError, ShapeError

from ..porting.helpers import assert_same

A = np.array([0.5, -1.0, 2.0, 1.5], dtype=np.float32)
B = np.array([2.0, 0.25, -3.0, 1.0], dtype=np.float32)


def _identity_hooks(lib):
    return lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t)


def script_recorded_in_place_under_hooks(torch, hooks):
    x = torch.tensor(A, requires_grad=True)
    b = torch.tensor(B, requires_grad=True)
    c, d = x * 1, x * 1
    with hooks(torch):
        c.sin_()  # sin's backward needs c's values from before the change
        d.mul_(b)  # b's gradient is d's values from before the change
    (c.sum() + d.sum()).backward()
    return [x.grad, b.grad]


@pytest.mark.parametrize(
    "hooks", [_identity_hooks, lambda lib: lib.autograd.graph.save_on_cpu()], ids=["identity", "save_on_cpu"]
)
def test_a_recorded_in_place_op_under_hooks_uses_the_old_values(torch, hooks):
    ours = script_recorded_in_place_under_hooks(glassgrad, hooks)
    assert_same(ours, script_recorded_in_place_under_hooks(torch, hooks))
    np.testing.assert_allclose(ours[0].numpy(), np.cos(A) + B, rtol=1e-6)
    np.testing.assert_allclose(ours[1].numpy(), A, rtol=1e-6)


def _residual(hooks):
    x = glassgrad.tensor(A, requires_grad=True)
    skip = glassgrad.tensor(B, requires_grad=True)
    with hooks:
        h = (x * 1).tanh()  # tanh saves its output h ...
        h += skip  # ... which a recorded in-place op then gives a new array
        loss = (h * 2).sum()
    loss.backward()
    return x.grad


def test_a_recorded_in_place_op_on_a_saved_output_raises_with_or_without_save_on_cpu():
    # No hooks: tanh's saved h is stale after h += skip, and PyTorch raises too. Under save_on_cpu
    # PyTorch computes with the changed h (its t.cpu() is t itself), a gradient other than the one
    # of the kept array: glassgrad raises rather than give either (it used to give the kept one's).
    for hooks in (contextlib.nullcontext(), glassgrad.autograd.graph.save_on_cpu()):
        with pytest.raises(GraphError, match="modified in place"):
            _residual(hooks)


def test_an_identity_pack_raises_once_a_recorded_in_place_op_replaced_the_tensor():
    # the pack hook kept h itself, which now holds h + skip: refused rather than a wrong gradient
    with pytest.raises(GraphError, match="replaced by a recorded in-place op"):
        _residual(_identity_hooks(glassgrad))


def test_a_user_function_saving_a_tensor_later_replaced_in_place_raises():
    class Square(glassgrad.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return 2 * t * g

    x = glassgrad.tensor(A, requires_grad=True)
    c = x * 1
    with _identity_hooks(glassgrad):
        y = Square.apply(c)
    c.sin_()
    with pytest.raises(GraphError, match="replaced by a recorded in-place op"):
        (y.sum() + c.sum()).backward()


def script_hook_zeroes_its_grad(torch, build):
    a = torch.tensor(A, requires_grad=True)
    b = torch.tensor(B, requires_grad=True)

    def zero(p):
        p.grad.zero_()  # changes .grad in place while backward still runs

    a.register_post_accumulate_grad_hook(zero)
    build(a, b).sum().backward()
    return [a.grad, b.grad]


@pytest.mark.parametrize(
    "build",
    [lambda a, b: (a + b) * 1, lambda a, b: a + (b * 2).exp(), lambda a, b: a + b.exp()],
    ids=["add", "add-then-exp", "sum-of-exp"],
)
def test_a_post_accumulate_hook_changing_grad_leaves_other_gradients_alone(torch, build):
    # add hands one gradient array to both inputs: a's .grad must not be the array b's gradient
    # is still made from
    assert_same(script_hook_zeroes_its_grad(glassgrad, build), script_hook_zeroes_its_grad(torch, build))


def test_disable_saved_tensors_hooks_under_an_installed_pair_raises(torch):
    for lib, err in ((glassgrad, GraphError), (torch, RuntimeError)):
        x = lib.tensor(A, requires_grad=True)
        with (
            _identity_hooks(lib),
            pytest.raises(err, match="not here"),
            lib.autograd.graph.disable_saved_tensors_hooks("not here"),
        ):
            x.exp()
        with lib.autograd.graph.disable_saved_tensors_hooks("not here"):
            x.exp()  # allowed again once the pair is gone


def test_grad_refuses_an_input_that_does_not_require_grad(torch):
    for lib, err in ((glassgrad, GraphError), (torch, RuntimeError)):
        a, b = lib.tensor(A, requires_grad=True), lib.tensor(B)
        with pytest.raises(err, match="require"):
            lib.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)


def test_conv_input_grad_refuses_a_size_past_the_stride_rounding(torch):
    # stride 1, dilation 2: only one input length gives 7 outputs (PyTorch raises for the next)
    w, go = np.ones((2, 3, 3)), np.ones((1, 2, 7))
    assert glassgrad.nn.grad.conv1d_input(
        (1, 3, 11), glassgrad.tensor(w), glassgrad.tensor(go), 1, 0, 2
    ).shape == (
        1,
        3,
        11,
    )
    with pytest.raises(RuntimeError):
        torch.nn.grad.conv1d_input((1, 3, 12), torch.tensor(w), torch.tensor(go), 1, 0, 2)
    with pytest.raises(ShapeError, match="input_size"):
        glassgrad.nn.grad.conv1d_input((1, 3, 12), glassgrad.tensor(w), glassgrad.tensor(go), 1, 0, 2)


def test_node_has_no_getattr():
    # a class with __getattr__ keeps CPython from specialising attribute reads: every node of every
    # backward would pay for grad_fn._saved_self
    assert "__getattr__" not in vars(Node)
    x = glassgrad.tensor(A, requires_grad=True)
    assert (x * x).grad_fn._saved_self is x


def test_removing_the_last_post_accumulate_hook_drops_the_leaf_from_the_registry():
    # else every later backward takes the slower path (and copies that leaf's gradient)
    w = glassgrad.tensor(A, requires_grad=True)
    first = w.register_post_accumulate_grad_hook(lambda p: None)
    second = w.register_post_accumulate_grad_hook(lambda p: None)
    first.remove()
    assert id(w) in accumulate_hooks.registered
    second.remove()
    second.remove()  # a second remove() is harmless
    assert id(w) not in accumulate_hooks.registered
    calls = []
    w.register_post_accumulate_grad_hook(lambda p: calls.append(1))  # registering again works
    (w * 2).sum().backward()
    assert calls == [1]
