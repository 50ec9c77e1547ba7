"""The Tensor API: construction, dtype inference, conversion, metadata, printing."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, GraphError


def test_dtype_inference_matches_pytorch():
    assert gg.tensor([1.0, 2.0]).dtype == gg.float32
    assert gg.tensor(3.0).dtype == gg.float32
    assert gg.tensor([1, 2]).dtype == gg.int64 == gg.long
    assert gg.tensor([True, False]).dtype == gg.bool
    assert gg.tensor(np.zeros(2)).dtype == gg.float64  # NumPy arrays keep their dtype
    assert gg.tensor([1, 2], dtype=gg.float64).dtype == gg.float64
    assert repr(gg.float32) == "glassgrad.float32"
    with pytest.raises(DTypeError, match="tensor: expected"):
        gg.tensor({"a": 1})


def test_tensor_copies_its_data_and_from_numpy_shares():
    a = np.array([1.0, 2.0])
    t = gg.tensor(a)
    a[0] = 9
    assert t.tolist() == [1.0, 2.0]
    s = gg.from_numpy(a)
    a[1] = 7
    assert s.tolist() == [9.0, 7.0]


def test_metadata():
    t = gg.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.dim() == 3 and t.ndim == 3 and t.numel() == 24 and t.device == "cpu" and len(t) == 2
    assert t.T.shape == (4, 3, 2)
    assert t.is_leaf and t.grad_fn is None and t.grad is None and not t.requires_grad


def test_conversions():
    t = gg.tensor([[1.5, 2.5]])
    assert t.tolist() == [[1.5, 2.5]]
    assert gg.tensor([4.0]).item() == 4.0
    with pytest.raises(ValueError, match=r"item: expected a tensor with one element, got shape \(1, 2\)"):
        t.item()
    assert np.asarray(t).dtype == np.float32
    assert t.long().dtype == gg.int64 and t.long().tolist() == [[1, 2]]
    assert t.to(gg.float64).dtype == gg.float64 and t.double().dtype == gg.float64
    assert t.float() is t and t.to("cpu") is t
    assert t.bool().dtype == gg.bool
    assert float(gg.tensor(2.5)) == 2.5 and int(gg.tensor(3)) == 3
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)


def test_numpy_refuses_a_tensor_that_requires_grad():
    w = gg.tensor([1.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"detach\(\).numpy\(\)"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0]


def test_detach_shares_data_and_clone_copies_with_gradient():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    d = w.detach()
    assert not d.requires_grad and d.data is w.data
    c = w.clone()
    assert c.data is not w.data and c.requires_grad
    (c * 3.0).backward(gg.ones(2))
    assert w.grad.tolist() == [3.0, 3.0]


def test_repr_shows_values_and_grad_fn():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(w) == "tensor([1., 2.], requires_grad=True)"
    assert repr(w * 2.0) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(gg.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=glassgrad.float64" in repr(gg.tensor([1.0], dtype=gg.float64))


def test_requires_grad_():
    t = gg.tensor([1.0])
    assert t.requires_grad_() is t and t.requires_grad
    with pytest.raises(DTypeError, match="got glassgrad.int64"):
        gg.tensor([1]).requires_grad_()
    with pytest.raises(GraphError, match="non-leaf"):
        (t * 2.0).requires_grad_(False)


def test_inplace_methods_on_plain_tensors():
    t = gg.zeros(2, 2)
    t.fill_(2.0)
    t.add_(1.0)
    t.mul_(2.0)
    assert t.tolist() == [[6.0, 6.0], [6.0, 6.0]]
    t.copy_(gg.tensor([1.0, 2.0]))  # broadcast
    assert t.tolist() == [[1.0, 2.0], [1.0, 2.0]]
    t.zero_()
    assert t.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    with pytest.raises(
        ValueError, match=r"copy_: expected a value broadcastable to \(2, 2\), got shape \(3,\)"
    ):
        t.copy_(gg.ones(3))
    assert t.dtype == gg.float32
    gg.manual_seed(1)
    a = gg.empty(1000).normal_(2.0, 0.5)
    gg.manual_seed(1)
    b = gg.empty(1000).normal_(2.0, 0.5)
    assert a.tolist() == b.tolist() and abs(float(a.data.mean()) - 2.0) < 0.1
    u = gg.empty(1000).uniform_(-1.0, 1.0)
    assert u.data.min() >= -1.0 and u.data.max() < 1.0


def test_iteration_and_len():
    t = gg.tensor([[1.0, 2.0], [3.0, 4.0]])
    rows = list(t)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(TypeError):
        len(gg.tensor(1.0))
