"""``share_memory_()`` moves a tensor's array into shared memory, and NumPy cannot move the arrays
that already view the old one (PyTorch moves the storage under them). Anything still holding the
old memory would silently miss every later update, so the move is refused while something does;
a shared tensor refuses a recorded in-place op that would swap in a new, unshared array. Also
``torch.multiprocessing``'s sharing strategies."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
import glassgrad.multiprocessing as gmp
from glassgrad.errors import GraphError


@pytest.mark.parametrize(
    "hold",
    [
        lambda t: t[1:],  # a view
        lambda t: t.detach(),
        lambda t: t.data,
        lambda t: t.detach().numpy(),
        lambda t: (t * t).sum(),  # a graph that saved t
    ],
    ids=["view", "detach", "data", "numpy", "saved graph"],
)
def test_share_memory_refuses_memory_held_elsewhere(hold):
    p = glassgrad.nn.Parameter(glassgrad.zeros(4))
    held = hold(p)
    with pytest.raises(GraphError, match="share_memory_: expected a tensor whose memory nothing else holds"):
        p.share_memory_()
    assert not p.is_shared()
    del held
    assert p.share_memory_().is_shared()


def test_share_memory_refuses_a_view_whose_base_is_alive():
    base = glassgrad.zeros(6)
    p = glassgrad.nn.Parameter(base[:3])
    with pytest.raises(GraphError, match="miss every update"):
        p.share_memory_()
    del base  # nothing else sees that memory now
    assert p.share_memory_().is_shared()


def test_module_share_memory_after_optimizer_and_with_tied_weights():
    emb = glassgrad.nn.Embedding(5, 4)
    head = glassgrad.nn.Linear(4, 5, bias=False)
    head.weight = emb.weight
    model = glassgrad.nn.ModuleList([emb, head])
    opt = glassgrad.optim.SGD(model.parameters(), lr=1.0)
    model.share_memory()
    row = head.weight.detach()[0]  # taken after the move: sees the shared memory
    head(emb(glassgrad.tensor([0]))).sum().backward()
    before = row.tolist()
    opt.step()
    assert head.weight is emb.weight and head.weight.is_shared()
    assert row.tolist() != before and np.array_equal(row.numpy(), head.weight.detach().numpy()[0])


def test_shared_tensor_takes_a_recorded_inplace_change_in_its_shared_memory():
    buf = glassgrad.zeros(3).share_memory_()
    x = glassgrad.ones(3, requires_grad=True)
    buf.add_(x)  # recorded, and written into the shared memory (not a new array), as PyTorch
    assert buf.is_shared() and buf.tolist() == [1.0, 1.0, 1.0]
    (buf * 2.0).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    with glassgrad.no_grad():
        buf.add_(x)  # not recorded: written in place, in the shared memory
    assert buf.is_shared() and buf.tolist() == [2.0, 2.0, 2.0]


def test_sharing_strategies_port(torch):
    import torch.multiprocessing as tmp

    assert gmp.get_all_sharing_strategies() == tmp.get_all_sharing_strategies()
    before = gmp.get_sharing_strategy()
    try:
        gmp.set_sharing_strategy("file_system")  # scripts set it to stay under the fd limit
        assert gmp.get_sharing_strategy() == "file_system"
    finally:
        gmp.set_sharing_strategy(before)
    assert gmp.get_sharing_strategy() == "file_descriptor"
