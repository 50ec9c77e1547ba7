"""An output's tensor hooks get the very Tensor the caller gave as its gradient, as PyTorch's do.

zennit (layer-wise relevance propagation) checks ``grad is grad_output`` in its own tests: the
hook on the output of ``autograd.grad(y, x, grad_outputs=go)`` must see ``go`` itself, not a new
Tensor over the same values. The same holds for ``y.backward(go)`` and
``autograd.backward([y], [go])``, for a leaf's own hooks, for a chain of hooks that return None,
and not for a seed of another dtype (cast first, so a new Tensor in both libraries). A hook that
changes the seed in place changes the caller's tensor in both, and the caller's array never
becomes a ``.grad``.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _run(lib, how):
    x = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
    y = x * 2 if how != "leaf backward" else x
    go = lib.tensor([1.0, 0.5, 2.0], dtype=lib.float32 if how == "seed of another dtype" else lib.float64)
    seen = []
    y.register_hook(seen.append)
    y.register_hook(seen.append)
    if how in ("grad", "seed of another dtype"):
        (g,) = lib.autograd.grad(y, x, go)
    elif how == "backward":
        y.backward(go)
        g = x.grad
    elif how == "autograd.backward":
        lib.autograd.backward([y], [go])
        g = x.grad
    else:  # "leaf backward"
        y.backward(go)
        g = x.grad
    return [s is go for s in seen], g.detach().numpy(), g is go


HOW = ["grad", "backward", "autograd.backward", "leaf backward", "seed of another dtype"]


@pytest.mark.parametrize("how", HOW)
def test_the_hooks_see_the_callers_seed_as_pytorch(how, torch):
    ours, theirs = _run(gg, how), _run(torch, how)
    assert ours[0] == theirs[0] == ([how != "seed of another dtype"] * 2)
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2] is theirs[2] is False  # the seed is never the .grad itself


@pytest.mark.parametrize("how", ["grad", "backward"])
def test_a_hook_that_changes_the_seed_in_place_changes_the_callers_tensor(how, torch):
    results = []
    for lib in (gg, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 3
        y.register_hook(lambda g: g.mul_(2))
        go = lib.ones(2, dtype=lib.float64)
        if how == "grad":
            (g,) = lib.autograd.grad(y, x, go)
        else:
            y.backward(go)
            g = x.grad
        results.append((go.tolist(), g.tolist()))
    assert results[0] == results[1] == ([2.0, 2.0], [6.0, 6.0])


def test_a_leaf_seed_seen_by_a_hook_is_not_the_leafs_grad_afterwards():
    x = gg.tensor([1.0, 2.0], dtype=gg.float64, requires_grad=True)
    x.register_hook(lambda g: None)
    go = gg.tensor([1.0, 1.0], dtype=gg.float64)
    x.backward(go)
    x.grad.mul_(5)  # an optimizer's in-place use of .grad must not reach the caller's tensor
    assert go.tolist() == [1.0, 1.0]
    assert not gg.autograd.tensor_hook_run.given_seeds  # nothing kept past the pass
