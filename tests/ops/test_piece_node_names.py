"""The pieces of split/chunk/unbind/tensor_split carry PyTorch's node names (they printed
``grad_fn=<PieceBackward0>``, glassgrad's internal op), on the CPU and on meta, with the gradients
unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

CUTS = [
    ("split int", lambda x: x.split(2)),
    ("split one piece", lambda x: x.split(6)),
    ("split sizes", lambda x: x.split([1, 5])),
    ("split equal sizes", lambda x: x.split([3, 3])),
    ("chunk", lambda x: x.chunk(3)),
    ("unbind", lambda x: x.unbind(0)),
    ("unbind dim 1", lambda x: x.unbind(1)),
    ("tensor_split", lambda x: x.tensor_split(3)),
    ("tensor_split indices", lambda x: x.tensor_split([1, 4])),
]


def _names_and_grad(lib, cut, device="cpu"):
    x = lib.arange(12.0, device=device).reshape(6, 2).requires_grad_()
    pieces = cut(x)
    names = [p.grad_fn.name() for p in pieces]
    types = [type(p.grad_fn).__name__ for p in pieces]
    if device == "meta":
        return names, types, None
    sum(p.sum() * (i + 1) for i, p in enumerate(pieces)).backward()
    return names, types, x.grad.numpy()


@pytest.mark.parametrize("label, cut", CUTS)
def test_piece_nodes_are_named_as_torch(torch, label, cut):
    names, types, grad = _names_and_grad(gg, cut)
    t_names, t_types, t_grad = _names_and_grad(torch, cut)
    assert names == t_names
    assert types == t_types
    np.testing.assert_array_equal(grad, t_grad)


@pytest.mark.parametrize("label, cut", CUTS)
def test_piece_nodes_keep_their_names_on_meta(torch, label, cut):
    names, _, _ = _names_and_grad(gg, cut, device="meta")
    t_names, _, _ = _names_and_grad(torch, cut, device="meta")
    assert names == t_names


def test_the_pieces_are_still_one_op_for_observers_and_messages():
    x = gg.ones(4, requires_grad=True)
    for p in (*x.split(2), *x.unbind(0), *x.tensor_split(2)):
        assert p._node.fn.name == "piece"  # (grad_fn shows the hub, as PyTorch has one node)
