"""What the fifth round's older tutorials needed (docs/porting.md, "Real scripts ported"):
``Tensor.to`` refusing a keyword it does not know (the former_torchies autograd tutorial's
``a.to(requires_grad=True)`` stops both libraries alike instead of being ignored), and
``scatter``/``scatter_`` with PyTorch's older ``reduce='add' | 'multiply'`` (the transforms
tutorial's one-hot ``scatter_(0, index, value=1)`` family). Each is run on glassgrad and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError, ShapeError

from .helpers import assert_same

X = np.linspace(-1.5, 2.0, 12).reshape(3, 4)
SRC = np.linspace(0.5, 1.6, 8).reshape(2, 4)
INDEX = np.array([[0, 1, 2, 0], [2, 0, 0, 1]])


def script_to_keywords(torch):
    x = torch.ones(2, 3)
    with pytest.raises(TypeError):
        x.to(requires_grad=True)
    with pytest.raises(TypeError):
        x.to(torch.float64, pin_memory=True)
    kept = x.to(memory_format=torch.preserve_format, non_blocking=True)
    cast = x.to(dtype=torch.float64, copy=True)
    return [kept.dtype, cast.dtype, cast, x.to(device="cpu") is x]


def test_to_rejects_unknown_keywords_as_pytorch(torch):
    assert_same(script_to_keywords(glassgrad), script_to_keywords(torch))


def script_scatter_reduce_forms(torch):
    x = torch.tensor(X)
    src = torch.tensor(SRC)
    idx = torch.tensor(INDEX)
    longs = torch.zeros(2, 3, dtype=torch.long)
    col = torch.tensor([[0, 0], [2, 1]])
    return [
        x.scatter(0, idx, src, reduce="add"),
        x.scatter(0, idx, src, reduce="multiply"),
        x.scatter(-1, idx, src, reduce="add"),
        x.clone().scatter_(0, idx, 2.5, reduce="multiply"),
        x.clone().scatter_(1, idx[:, :2], value=-1.0, reduce="add"),
        torch.scatter(x, 0, idx, src, reduce="add"),
        longs.scatter_(1, col, 3, reduce="add"),
        torch.zeros(5).scatter_(0, torch.tensor([1, 1, 4]), torch.ones(3), reduce="add"),
    ]


@pytest.mark.filterwarnings("ignore:The reduce argument")
def test_scatter_reduce_keyword_matches_pytorch(torch):
    assert_same(script_scatter_reduce_forms(glassgrad), script_scatter_reduce_forms(torch))


@pytest.mark.parametrize(("reduce", "mode"), [("add", "sum"), ("multiply", "prod")])
def test_scatter_reduce_keyword_gradients(torch, reduce, mode):
    # PyTorch has no derivative for this form; its gradient is scatter_reduce's with include_self
    def grads(lib, fn):
        x = lib.tensor(X, requires_grad=True)
        src = lib.tensor(SRC, requires_grad=True)
        out = fn(x, src, lib.tensor(INDEX))
        (out * lib.tensor(X + 3.0)).sum().backward()
        return [out, x.grad, src.grad]

    ours = grads(glassgrad, lambda x, s, i: x.scatter(0, i, s, reduce=reduce))
    theirs = grads(torch, lambda x, s, i: x.scatter_reduce(0, i, s, mode, include_self=True))
    assert_same(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_reduce_keyword_gradcheck(reduce):
    x = glassgrad.tensor(X, requires_grad=True)
    src = glassgrad.tensor(SRC, requires_grad=True)
    idx = glassgrad.tensor(INDEX)
    assert gradcheck(lambda a, s: a.scatter(1, idx, s, reduce=reduce), (x, src))
    assert gradcheck(lambda a: a.scatter(0, idx, 1.5, reduce=reduce), (x,))


def test_scatter_rejects_other_reductions(torch):
    for lib, error in ((glassgrad, ValueError), (torch, RuntimeError)):
        x = lib.tensor(X)
        for bad in ("sum", "mean", "Add"):
            with pytest.raises(error, match="add.*multiply"):
                x.scatter(0, lib.tensor(INDEX), 2.0, reduce=bad)


def script_scatter_reduce_zero_dim(torch):
    one = torch.tensor(2.0)
    return [
        one.scatter(0, torch.tensor(0), torch.tensor(3.0), reduce="multiply"),
        torch.zeros(3).scatter(0, torch.tensor(1), 4.0, reduce="add"),
        torch.ones(3).scatter(0, torch.tensor([2]), torch.tensor(5.0), reduce="add"),
    ]


def test_scatter_reduce_keyword_zero_dim_matches_pytorch(torch):
    assert_same(script_scatter_reduce_zero_dim(glassgrad), script_scatter_reduce_zero_dim(torch))


def test_scatter_reduce_keyword_bad_input_names_scatter():
    x = glassgrad.tensor(X)
    idx = glassgrad.tensor(INDEX)
    with pytest.raises(DTypeError, match="^scatter: .*dtype"):
        x.scatter(0, idx, glassgrad.tensor(SRC, dtype=glassgrad.float32), reduce="add")
    with pytest.raises(ShapeError, match="^scatter: "):
        x.scatter(0, idx, glassgrad.tensor(SRC[:1]), reduce="add")
    with pytest.raises(IndexError, match="scatter"):
        x.scatter(0, glassgrad.tensor(INDEX + 3), 1.0, reduce="multiply")
    with pytest.raises(ValueError, match="^scatter: "):
        x.scatter(0, idx, 1.0, reduce=["add"])


def test_scatter_reduce_keyword_in_place(torch):
    with pytest.raises(RuntimeError):  # a leaf that requires grad, as PyTorch
        glassgrad.tensor(X, requires_grad=True).scatter_(0, glassgrad.tensor(INDEX), 2.0, reduce="add")

    def grads(lib, write):
        a = lib.tensor(X, requires_grad=True)
        src = lib.tensor(SRC, requires_grad=True)
        x = write(a.clone(), lib.tensor(INDEX), src)
        (x * lib.tensor(X - 1.0)).sum().backward()
        return [x, a.grad, src.grad]

    ours = grads(glassgrad, lambda x, i, s: x.scatter_(0, i, s, reduce="multiply"))
    theirs = grads(torch, lambda x, i, s: x.scatter_reduce_(0, i, s, "prod", include_self=True))
    assert_same(ours, theirs, rtol=1e-10, atol=1e-12)


def script_to_tensor_keyword_and_module_to(torch):
    x = torch.ones(2, 3)
    like = torch.zeros(1, dtype=torch.float64)
    m = torch.nn.Linear(3, 2)
    with pytest.raises(TypeError):
        m.to(requires_grad=True)
    m.to(tensor=like, non_blocking=True)
    return [x.to(tensor=like).dtype, m.weight.dtype, m.to(memory_format=torch.preserve_format) is m]


def test_to_tensor_keyword_and_module_to_keywords(torch):
    assert_same(
        script_to_tensor_keyword_and_module_to(glassgrad), script_to_tensor_keyword_and_module_to(torch)
    )
