"""Issue 7, item 5: legacy names the older tutorials still use (``Variable``, typed tensor
constructors, ``Tensor(3, 4)``, losses' ``size_average``/``reduce``, ``Size``). Each script runs on
glassgrad and on PyTorch; the results must agree."""

from __future__ import annotations

import warnings

import pytest

import glassgrad

from .helpers import assert_same


def script_variable(torch):
    from importlib import import_module

    Variable = import_module(torch.__name__ + ".autograd").Variable
    x = Variable(torch.tensor([1.0, 2.0]), requires_grad=True)
    y = Variable(torch.tensor([3.0, 4.0]))
    (x * y).sum().backward()
    return [x.grad, y.requires_grad, type(x).__name__]


def test_variable_port(torch):
    assert_same(script_variable(glassgrad), script_variable(torch))


def script_variable_alias(torch):
    # MorvanZhou 202_variable.py: the wrapped tensor keeps requires_grad=False, shares storage
    Variable = __import__(torch.__name__ + ".autograd", fromlist=["Variable"]).Variable
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    v = Variable(t, requires_grad=True)
    t_out = torch.mean(t * t)
    v.data.add_(1.0)
    w = torch.ones(2, requires_grad=True)
    d = Variable(w * 2)
    return [
        v is t,
        t.requires_grad,
        t_out.requires_grad,
        t,
        v.requires_grad,
        d.requires_grad,
        d.grad_fn is None,
        isinstance(t, Variable),
        isinstance(3, Variable),
    ]


def test_variable_detached_alias(torch):
    assert_same(script_variable_alias(glassgrad), script_variable_alias(torch))


def test_variable_volatile_warns_and_empty(torch):
    from glassgrad.autograd import Variable

    for lib, V in ((glassgrad, Variable), (torch, torch.autograd.Variable)):
        with pytest.warns(UserWarning, match="volatile was removed"):
            assert not V(lib.ones(2), volatile=True).requires_grad
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            V(lib.ones(2), volatile=False)
    assert_same([Variable()], [torch.autograd.Variable()])


@pytest.mark.parametrize("data", [[1.0, 2.0], 3.0])
def test_variable_non_tensor_raises(torch, data):
    from glassgrad.autograd import Variable

    with pytest.raises(TypeError, match="Variable data has to be a tensor"):
        Variable(data)
    with pytest.raises(TypeError, match="Variable data has to be a tensor"):
        torch.autograd.Variable(data)


def script_tensor_constructor(torch):
    empty = torch.Tensor(3, 4)
    return [empty.shape, empty.dtype, torch.Tensor([0]), torch.Tensor([[1, 2]]), torch.Tensor().shape]


def test_tensor_constructor_port(torch):
    assert_same(script_tensor_constructor(glassgrad), script_tensor_constructor(torch))


def script_typed_constructors(torch):
    return [torch.LongTensor([1, 2]), torch.FloatTensor([1, 2]), torch.DoubleTensor([0.5]),
            torch.BoolTensor([True, False]), torch.ByteTensor([3]), torch.FloatTensor(2, 3).shape,
            torch.LongTensor(2).dtype]  # fmt: skip


def test_typed_constructors_port(torch):
    assert_same(script_typed_constructors(glassgrad), script_typed_constructors(torch))


def script_loss_module_legacy(torch):
    out, target = torch.tensor([[0.5, 1.5], [2.0, -1.0]]), torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both libraries warn that the arguments are deprecated
        summed = torch.nn.MSELoss(size_average=False)(out, target)
        per_item = torch.nn.L1Loss(reduce=False)(out, target)
        mean = torch.nn.SmoothL1Loss(size_average=True, reduce=True)(out, target)
        nll = torch.nn.NLLLoss(size_average=False)(torch.log_softmax(out, dim=1), torch.tensor([0, 1]))
    return [summed, per_item, mean, nll]


def test_loss_module_legacy_port(torch):
    assert_same(script_loss_module_legacy(glassgrad), script_loss_module_legacy(torch))


def script_loss_functional_legacy(torch):
    F = torch.nn.functional
    out, target = torch.tensor([[0.5, 1.5], [2.0, -1.0]]), torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    labels = torch.tensor([1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [F.mse_loss(out, target, size_average=False), F.l1_loss(out, target, reduce=False),
                F.smooth_l1_loss(out, target, size_average=True), F.cross_entropy(out, labels, size_average=False),
                F.nll_loss(F.log_softmax(out, dim=1), labels, reduce=False),
                F.binary_cross_entropy(torch.sigmoid(out), target, reduce=False),
                F.binary_cross_entropy_with_logits(out, target, size_average=False, reduce=True),
                F.kl_div(F.log_softmax(out, dim=1), F.softmax(target, dim=1), size_average=False)]  # fmt: skip


def test_loss_functional_legacy_port(torch):
    assert_same(script_loss_functional_legacy(glassgrad), script_loss_functional_legacy(torch))


def script_size(torch):
    x = torch.ones(2, 3, 4)
    s = x.size()
    return [s, s.numel(), x.size(1), x.shape[-1], isinstance(s, tuple), s == (2, 3, 4), type(s).__name__,
            repr(s).split(".", 1)[1], torch.Size([2, 3]) == torch.ones(2, 3).shape, x.view(s[0], -1).shape]  # fmt: skip


def test_size_port(torch):
    assert_same(script_size(glassgrad), script_size(torch))


def test_functional_legacy_arguments_warn():
    x, y = glassgrad.tensor([0.5, 1.5]), glassgrad.tensor([0.0, 1.0])
    with pytest.warns(
        UserWarning,
        match="size_average and reduce args will be deprecated: mse_loss .* pass reduction='sum' instead",
    ):
        assert glassgrad.nn.functional.mse_loss(x, y, size_average=False).item() == 0.5


def test_typename_port(torch):
    """torch.typename (torchtext's legacy Batch prints its tensors with it): a tensor's legacy type
    name, complex ones included; the qualified name of other objects, bare for builtins."""

    class Local:
        pass

    dts = (
        "float32",
        "float64",
        "float16",
        "int64",
        "int32",
        "int16",
        "int8",
        "uint8",
        "bool",
        "complex64",
        "complex128",
    )
    for dt in dts:
        theirs = torch.typename(torch.zeros(2, dtype=getattr(torch, dt)))
        assert glassgrad.typename(glassgrad.zeros(2, dtype=getattr(glassgrad, dt))) == theirs
        assert glassgrad.zeros(2, dtype=getattr(glassgrad, dt)).type() == theirs
        assert glassgrad.zeros(2).type(theirs).dtype == getattr(glassgrad, dt)  # and back
    param = torch.nn.Parameter(torch.zeros(1))
    assert glassgrad.typename(glassgrad.nn.Parameter(glassgrad.zeros(1))) == torch.typename(param)
    for obj in (3, "s", len, Local, Local(), 2.5):
        assert glassgrad.typename(obj) == torch.typename(obj)
    assert glassgrad.typename(glassgrad.nn.Linear(1, 1)) == "glassgrad.nn.linear.Linear"


def script_volatile(torch):
    x = torch.ones(2)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        read = x.volatile
        x.volatile = True
    return [read, x.volatile, [str(w.message) for w in said]]


def test_volatile_port(torch):
    """``volatile`` (removed in PyTorch 0.4): always False, with PyTorch's two warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert script_volatile(glassgrad) == script_volatile(torch)
