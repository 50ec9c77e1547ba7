"""PyTorch's keyword-only names the parser-stub survey (tests/porting/test_torch_keywords.py) found
missing: ``pin_memory=`` (and ``layout=``) on the factories, ``requires_grad=`` on randint_like,
``sparse_grad=`` on gather, each checked against PyTorch 2.13's CPU build."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

X = [[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]]

# calls written once for both libraries: ``lib`` is torch or glassgrad, ``x`` a float tensor of X
CALLS = [
    "lib.arange(5, {kw})",
    "lib.arange(1.0, 2.0, 0.25, {kw})",
    "lib.linspace(0, 1, 5, {kw})",
    "lib.logspace(0, 2, 3, {kw})",
    "lib.randint(3, 4, (2, 3), {kw})",
    "lib.empty_like(x, {kw})",
    "lib.zeros_like(x, {kw})",
    "lib.ones_like(x, {kw})",
    "lib.full_like(x, 7, {kw})",
    "lib.rand_like(x, {kw})",
    "lib.randn_like(x, {kw})",
    "lib.randint_like(x, 3, 4, {kw})",
    "lib.scalar_tensor(2.5, {kw})",
    "x.new_full((2,), 3.0, {kw})",
]


def _call(lib, call, kw):
    return eval(call.format(kw=kw), {"lib": lib, "x": lib.tensor(X)})


def _same_kind(ours, theirs):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("kw", ["pin_memory=False", "pin_memory=None"])
def test_pin_memory_false_is_taken_and_changes_nothing(torch, call, kw):
    ours, theirs = _call(gg, call, kw), _call(torch, call, kw)
    _same_kind(ours, theirs)
    if "rand" not in call and "empty" not in call:  # (random and uninitialised values differ)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
        np.testing.assert_array_equal(ours.numpy(), _call(gg, call, "").numpy())


@pytest.mark.parametrize("call", CALLS)
def test_pin_memory_true_raises_as_pytorchs_cpu_build(torch, call):
    with pytest.raises(RuntimeError, match="pin_memory=True requires"):
        _call(torch, call, "pin_memory=True")
    with pytest.raises(RuntimeError, match="pin_memory needs a GPU"):
        _call(gg, call, "pin_memory=True")


def test_range_refuses_pin_memory_as_pytorch(torch):
    for lib in (torch, gg):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (range's deprecation)
            with pytest.raises(TypeError, match="pin_memory"):
                lib.range(0, 2, pin_memory=False)


@pytest.mark.parametrize("call", ["lib.scalar_tensor(2.5, {kw})", "x.new_full((2,), 3.0, {kw})"])
def test_layout_strided_is_taken(torch, call):
    ours = _call(gg, call, "layout=lib.strided")
    theirs = _call(torch, call, "layout=lib.strided")
    _same_kind(ours, theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_scalar_tensor_is_dense_whatever_the_layout_and_goes_on_meta(torch):
    theirs = torch.scalar_tensor(2.5, layout=torch.sparse_coo)
    ours = gg.scalar_tensor(2.5, layout=gg.sparse_coo)
    assert theirs.layout == torch.strided and ours.tolist() == theirs.tolist() == 2.5
    meta = gg.scalar_tensor(1, dtype=gg.float64, device="meta")
    assert meta.device.type == "meta" and meta.shape == () and meta.dtype == gg.float64


def test_new_full_refuses_a_sparse_layout(torch):
    with pytest.raises(NotImplementedError):  # PyTorch has no sparse fill
        torch.ones(2).new_full((2,), 3.0, layout=torch.sparse_coo)
    with pytest.raises(ValueError, match="full: expected layout strided"):
        gg.ones(2).new_full((2,), 3.0, layout=gg.sparse_coo)


def test_randint_like_requires_grad_as_pytorch(torch):
    for lib in (torch, gg):
        x = lib.tensor(X)
        y = lib.randint_like(x, 2, 5, requires_grad=True)
        assert y.requires_grad and y.is_leaf and y.dtype == lib.float32
        assert ((y >= 2) & (y < 5)).all() and (y == y.floor()).all()
        assert not lib.randint_like(x, 3, requires_grad=False).requires_grad
        assert not lib.randint_like(x, 3, requires_grad=None).requires_grad
        with pytest.raises(RuntimeError):  # an integer tensor can't require grad
            lib.randint_like(x.long(), 3, requires_grad=True)
    y = gg.randint_like(gg.tensor(X), 3, requires_grad=True)
    (y * 2).sum().backward()
    assert y.grad.tolist() == [[2.0] * 3] * 2


INDEX = [[0, 2], [1, 1]]


def test_gather_takes_sparse_grad_false(torch):
    results = []
    for lib in (torch, gg):
        x = lib.tensor(X, requires_grad=True)
        i = lib.tensor(INDEX)
        top = lib.gather(x, 1, i, sparse_grad=False)
        method = x.gather(1, i, sparse_grad=False)
        buf = lib.empty(2, 2)
        with lib.no_grad():
            assert lib.gather(x, 1, i, sparse_grad=False, out=buf) is buf
        (top * 2 + method).sum().backward()
        results.append((top.detach().numpy(), method.detach().numpy(), buf.numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_gather_refuses_sparse_grad_true(torch):
    t = torch.tensor(X, requires_grad=True)
    torch.gather(t, 1, torch.tensor(INDEX), sparse_grad=True).sum().backward()
    assert t.grad.layout == torch.sparse_coo  # PyTorch's gradient is a sparse COO tensor
    x = gg.tensor(X, requires_grad=True)
    for call in (lambda: gg.gather(x, 1, gg.tensor(INDEX), sparse_grad=True),
                 lambda: x.gather(1, gg.tensor(INDEX), sparse_grad=True)):  # fmt: skip
        with pytest.raises(NotImplementedError, match=r"gather: sparse gradients .*sparse_grad=False only"):
            call()
