"""Tensor.resize_ / resize_as_ (tensor_resize.py) against PyTorch: the new shape laid over the
tensor's memory from its first element, shared with the tensors that share that memory; growth
keeping the old contents; PyTorch's refusals."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _programs(lib):
    """Each program returns a list of arrays (values and shapes) to compare."""
    out = []
    # NYU-DLSP20 01-tensor_tutorial: r = Tensor(t) shares t's memory; resize_ then zero_ changes t
    t = lib.arange(24.0).view(2, 3, 4)
    r = lib.Tensor(t)
    r.resize_(3, 8)
    out += [r.clone(), np.array(r.shape)]
    r.zero_()
    out += [t.clone()]
    # a transposed view: the new shape reads the memory in its order, not the view's
    a = lib.arange(6.0).view(2, 3)
    out += [a.t().resize_(2, 2).clone()]
    # a view starting at an offset keeps reading from there
    b = lib.arange(6.0)[2:]
    out += [b.resize_(2, 2).clone()]
    # the size forms; shrinking to 0 then growing back keeps the memory
    c = lib.arange(6.0)
    out += [np.array(c.resize_((1, 2)).shape), np.array(c.resize_([2, 1]).shape)]
    out += [np.array(c.resize_(()).shape), np.array(c.resize_(0).shape), c.resize_(4).clone()]
    out += [np.array(c.resize_(lib.Size([3])).shape)]
    # growing keeps the old contents first (the rest: uninitialised in PyTorch, not compared)
    d = lib.arange(4, dtype=lib.int64)
    d.resize_(2, 5)
    out += [d.reshape(-1)[:4].clone(), np.array(d.shape), d.dtype == lib.int64]
    # resize_as_ and the version counter (one bump, as an in-place op)
    e = lib.zeros(6)
    v0 = e._version
    e.resize_as_(lib.ones(3, 2))
    out += [np.array(e.shape), e._version - v0]
    return out


def test_resize_matches_torch(torch):
    ours, theirs = _programs(gg), _programs(torch)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        o = o.numpy() if hasattr(o, "numpy") else np.asarray(o)
        t = t.numpy() if hasattr(t, "numpy") else np.asarray(t)
        np.testing.assert_array_equal(o, t)


def test_resize_shares_memory_when_not_growing():
    t = gg.zeros(2, 3)
    r = gg.Tensor(t)
    r.resize_(6)
    r.fill_(7.0)
    assert t.tolist() == [[7.0] * 3] * 2


@pytest.mark.parametrize(
    "make, args, err",
    [
        (lambda lib: lib.ones(2, requires_grad=True), (1,), RuntimeError),
        (lambda lib: lib.ones(2, requires_grad=True) * 2, (2,), RuntimeError),
        (lambda lib: lib.ones(2), (2.0,), TypeError),
        (lambda lib: lib.ones(2), (-1,), RuntimeError),
    ],
)
def test_resize_refusals_match_torch(torch, make, args, err):
    for lib in (gg, torch):
        with pytest.raises(err):
            make(lib).resize_(*args)


def test_resize_refuses_a_tensor_that_requires_grad_even_under_no_grad(torch):
    for lib in (gg, torch):
        x = lib.ones(3, requires_grad=True)
        with lib.no_grad(), pytest.raises(RuntimeError, match="cannot resize .* requires? grad"):
            x.resize_(1)


def test_resize_takes_pytorchs_keyword_names(torch):
    for lib in (gg, torch):
        x, t = lib.zeros(6), lib.zeros(2, 3)
        assert tuple(x.resize_(size=(3, 2)).shape) == (3, 2)
        assert tuple(x.resize_as_(the_template=t).shape) == (2, 3)


def test_resize_on_meta_changes_only_the_shape():
    m = gg.ones(2, 3, device="meta")
    assert m.resize_(4, 4).shape == (4, 4) and m.device.type == "meta"
