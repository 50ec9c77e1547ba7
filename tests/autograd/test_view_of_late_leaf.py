"""A view made before its base became a leaf that requires grad (``u = z[:2]; z.requires_grad_()``).

PyTorch's view then reads ``requires_grad=True`` and every in-place change of it with grad mode on
is refused ("a view of a leaf Variable that requires grad is being used in an in-place
operation"), as a change of the leaf itself is. glassgrad let such a view change in place, so the
leaf's values could move under a program that PyTorch stops. Each route below (value writes,
arithmetic, ``out=``, indexing writes, the in-place shape methods) is run in both libraries: both
raise, and both let the change through under ``no_grad``, through ``.data``, and for a view of a
tensor that does not require grad. (Round 62: the view also reads its base's requires_grad, as PyTorch's.)
"""

from __future__ import annotations

import pytest

import glassgrad as gg

CHANGES = {
    "setitem": lambda lib, u: u.__setitem__(0, 1.0),
    "copy_": lambda lib, u: u.copy_(lib.ones(2, 3)),
    "fill_": lambda lib, u: u.fill_(2.0),
    "zero_": lambda lib, u: u.zero_(),
    "normal_": lambda lib, u: u.normal_(),
    "iadd": lambda lib, u: u.__iadd__(1),
    "mul_": lambda lib, u: u.mul_(2),
    "relu inplace": lambda lib, u: lib.nn.functional.relu(u, inplace=True),
    "index_add_": lambda lib, u: u.index_add_(0, lib.tensor([0]), lib.ones(1, 3)),
    "out=": lambda lib, u: lib.add(lib.ones(2, 3), lib.ones(2, 3), out=u),
    "clamp_": lambda lib, u: u.clamp_(0, 1),
    "masked_fill_": lambda lib, u: u.masked_fill_(lib.tensor([[True], [False]]), 3.0),
    "view of the view": lambda lib, u: u[:1].mul_(2),
    "unsqueeze_": lambda lib, u: u.unsqueeze_(0),
    "t_": lambda lib, u: u.t_(),
    "transpose_": lambda lib, u: u.transpose_(0, 1),
}


def _late_view(lib):
    z = lib.zeros(3, 3)
    u = z[:2]
    z.requires_grad_()
    return z, u


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_change_of_a_view_made_before_requires_grad_is_refused(name, torch):
    for lib in (torch, gg):
        z, u = _late_view(lib)
        with pytest.raises(RuntimeError):
            CHANGES[name](lib, u)
    z, u = _late_view(gg)
    with pytest.raises(gg.errors.GraphError, match="of a leaf that requires grad"):
        CHANGES[name](gg, u)
    assert not z.detach().any().item()  # refused before anything was written


@pytest.mark.parametrize("name", ["mul_", "setitem", "copy_", "unsqueeze_"])
def test_the_same_changes_pass_where_pytorch_lets_them(name, torch):
    for lib in (torch, gg):
        z, u = _late_view(lib)
        with lib.no_grad():
            CHANGES[name](lib, u)
        z, u = _late_view(lib)
        CHANGES[name](lib, u.data)
        z = lib.zeros(3, 3)  # a base that does not require grad
        CHANGES[name](lib, z[:2])


def test_gradient_after_a_refused_change_is_the_leafs(torch):
    """The leaf keeps its values and gets its gradient as in PyTorch."""
    grads = []
    for lib in (torch, gg):
        z = lib.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], dtype=lib.float64)
        u = z[:1]
        z.requires_grad_()
        with pytest.raises(RuntimeError):
            u.mul_(2)
        (z * z).sum().backward()
        grads.append(z.grad.detach().numpy())
    assert (grads[0] == grads[1]).all()
    assert (grads[1] == [[0.0, 2.0, 4.0], [6.0, 8.0, 10.0]]).all()


def test_backward_through_a_view_made_before_requires_grad_gives_no_gradient_as_pytorch(torch):
    """PyTorch's view made before its base's ``requires_grad_()`` reads requires_grad=True, yet the
    backward through it fills neither its .grad nor the base's; so here since round 62 (a view made
    in no_grad mode does the same: tests/porting/test_port_round61_dense.py)."""
    for lib in (torch, gg):
        z = lib.ones(3, dtype=lib.float64)
        u = z[:2]
        z.requires_grad_()
        assert u.requires_grad and u.grad_fn is None
        (u * 3).sum().backward()
        assert u.grad is None and z.grad is None
