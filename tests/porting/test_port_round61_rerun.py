"""Round 61, integration re-run: the round's batteries re-run at the merged HEAD.

The layout survey, the keyword-operand batteries and the speed hunts' value checks give what they
gave at their groups' ends. Round 60's random-expression fuzz (1,000 fresh seeds, in-place ops
weighted up) found one merge-era regression: the recorded (``create_graph``) rules of
``scatter_add`` and ``scatter`` rebuilt their index key from the flat positions with the shape of
``self``'s gradient slot, which is empty when ``self`` needs no gradient, so a second derivative
through ``zeros.scatter_add(dim, index, src)`` with only ``src`` requiring grad raised a TypeError
(fuzz seeds 130071, 130099, 130380). The tests run that pattern against PyTorch in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

from .helpers import close_to

_X = np.linspace(-1.5, 2.0, 12).reshape(3, 4)
_SRC = np.cos(np.arange(8.0)).reshape(2, 4)
_W = np.sin(np.arange(12.0) + 0.5).reshape(3, 4)
# one position per column along dim 0, per row along dim 1 (scatter's write order is then moot)
_INDEX = {0: [[0, 2, 1, 2], [2, 0, 0, 1]], 1: [[3, 0, 1, 2], [1, 2, 3, 0]]}


def _scattered(lib, op, dim, self_grad):
    """Leaves, and op's result on x (requiring grad if asked) with src (always requiring grad)."""
    x = lib.tensor(_X, requires_grad=self_grad)
    src = lib.tensor(_SRC, requires_grad=True)
    index = lib.tensor(_INDEX[dim])
    y = getattr(x * 1.5, op)(dim, index, src * src)
    return ([x] if self_grad else []) + [src], y


@pytest.mark.parametrize("op", ["scatter_add", "scatter"])
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("self_grad", [False, True], ids=["src-only", "self-and-src"])
def test_second_derivative_through_scatter_when_self_needs_no_gradient(torch, op, dim, self_grad):
    got = {}
    for lib in (torch, gg):
        leaves, y = _scattered(lib, op, dim, self_grad)
        loss = (y * y * lib.tensor(_W)).sum()
        firsts = lib.autograd.grad(loss, leaves, create_graph=True)
        seconds = lib.autograd.grad(sum((g * g).sum() for g in firsts), leaves)
        got[lib] = (y, *firsts, *seconds)
    for theirs, ours in zip(got[torch], got[gg]):
        close_to(theirs, ours, 1e-12)


def test_fuzz_seed_130099_scatter_add_of_a_gather_onto_zeros(torch):
    """The fuzz's pattern: ``zeros_like(x).scatter_add(d, I, x.gather(d, I)) + x``, then a
    second-order backward (only ``src``'s path reaches x through the scatter)."""
    index = np.array([[1, 0, 2], [2, 2, 0]])
    got = {}
    for lib in (torch, gg):
        x = lib.tensor(_X[:, :3], requires_grad=True)
        i = lib.tensor(index)
        y = lib.zeros_like(x).scatter_add(0, i, x.gather(0, i).exp()) + x
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad((g * lib.tensor(_W[:, :3])).sum(), x)
        got[lib] = (y, g, g2)
    for theirs, ours in zip(got[torch], got[gg]):
        close_to(theirs, ours, 1e-12)
