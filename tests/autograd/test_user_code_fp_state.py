"""A user's own NumPy code run by backward (a tensor hook, a node hook, a custom Function's
backward, a post-accumulate hook) keeps the user's NumPy error state, though the pass itself is
quiet (glassgrad's gradients may be inf or nan as PyTorch's, without a word)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _overflow(_):
    np.float32(3e38) * np.float32(10)  # the user's own NumPy arithmetic: overflows


class Loud(gg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        _overflow(g)
        return g * 2


def _hook_on_tensor(x):
    y = x * 3
    y.register_hook(_overflow)
    return y.sum()


def _hook_on_node(x):
    y = x * 3
    y.grad_fn.register_hook(lambda gi, go: _overflow(gi))
    return y.sum()


def _custom_backward(x):
    return Loud.apply(x).sum()


def _post_accumulate(x):
    x.register_post_accumulate_grad_hook(_overflow)
    return (x * 3).sum()


@pytest.mark.parametrize("make", [_hook_on_tensor, _hook_on_node, _custom_backward, _post_accumulate])
def test_user_code_in_backward_raises_under_the_users_seterr(make):
    x = gg.ones(2, requires_grad=True)
    loss = make(x)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        loss.backward()


def test_the_pass_itself_stays_quiet_under_the_users_seterr():
    x = gg.zeros(2, requires_grad=True)
    with np.errstate(all="raise"):
        (1 / x).sum().backward()  # -1 / 0**2: -inf, as PyTorch's, no FloatingPointError
    assert np.isinf(x.grad.numpy()).all()
