"""Round 66 (PyTorch's test_autograd.py, device-type part): assigning a tensor as its own
``.grad`` raises PyTorch's RuntimeError (it was accepted, so that accumulating a gradient later
changed the tensor itself); a view or a detached alias is still accepted, as PyTorch's."""

import pytest

import glassgrad as gg


@pytest.mark.parametrize("make", ["plain", "requires_grad", "parameter"])
def test_own_grad_refused_as_torch(torch, make):
    for lib in (torch, gg):
        x = lib.randn(5, 5)
        if make == "requires_grad":
            x.requires_grad_()
        elif make == "parameter":
            x = lib.nn.Parameter(x)
        with pytest.raises(RuntimeError, match="can't assign Variable as its own grad"):
            x.grad = x
        assert x.grad is None


def test_alias_of_self_still_accepted_as_torch(torch):
    for lib in (torch, gg):
        x = lib.randn(3)
        x.grad = x.view_as(x)
        assert x.grad is not x and x.grad.data_ptr() == x.data_ptr()
        x.grad = x.detach()
        assert x.grad is not x
        x.grad = None
        assert x.grad is None


def test_own_grad_refusal_keeps_accumulation_right():
    # the refusal leaves .grad unset, so a following backward accumulates d(sum x^2)/dx = 2 x
    x = gg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        x.grad = x
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, -4.0, 6.0]
    assert x.tolist() == [1.0, -2.0, 3.0]
