"""``y.requires_grad = False`` on a computed tensor: PyTorch refuses the assignment; here the next
op that would silently cut the graph (and lose the gradients behind it) refuses instead."""

from __future__ import annotations

import pytest

import glassgrad as gg
from glassgrad.errors import GraphError


def test_a_non_leaf_set_not_to_require_grad_is_refused_where_it_would_cut(torch):
    tx = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        (tx * 2).requires_grad = False
    x = gg.ones(2, requires_grad=True)
    y = x * 2
    y.requires_grad = False
    with pytest.raises(GraphError, match=r"mul: input 0 was computed from tensors that require grad"):
        y * 3
    with pytest.raises(GraphError, match=r"add: input 1 .* use \.detach\(\)"):
        gg.ones(2) + y
    z = (x * 2).detach()  # the supported way: a leaf cut from the graph
    (z * 3 + x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
