"""The Tensor API: construction, dtype inference, conversion, metadata, printing."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, GraphError, ShapeError


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


def test_scalar_conversion_errors_are_pytorchs_kinds(torch):
    """item() and bool() of a many-element tensor raise RuntimeError in PyTorch, float()/int()
    ValueError: glassgrad's error is both, so either `except` catches it as there."""
    for lib in (torch, gg):
        t = lib.ones(2)
        for conv, kind in (
            (lambda: t.item(), RuntimeError),
            (lambda: bool(t), RuntimeError),
            (lambda: float(t), ValueError),
            (lambda: int(t), ValueError),
        ):
            with pytest.raises(kind):
                conv()


def test_numpy_refuses_a_tensor_that_requires_grad():
    w = gg.tensor([1.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"detach\(\).numpy\(\)"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0]


def test_detach_shares_data_and_clone_copies_with_gradient():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    d = w.detach()
    assert not d.requires_grad and d._data is w._data
    c = w.clone()
    assert c._data is not w._data and c.requires_grad
    (c * 3.0).backward(gg.ones(2))
    assert w.grad.tolist() == [3.0, 3.0]


def test_repr_shows_values_and_grad_fn():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(w) == "tensor([1., 2.], requires_grad=True)"
    assert repr(w * 2.0) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
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
    assert a.tolist() == b.tolist() and abs(float(a._data.mean()) - 2.0) < 0.1
    u = gg.empty(1000).uniform_(-1.0, 1.0)
    assert u._data.min() >= -1.0 and u._data.max() < 1.0


def test_iteration_and_len():
    t = gg.tensor([[1.0, 2.0], [3.0, 4.0]])
    rows = list(t)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(TypeError):
        len(gg.tensor(1.0))


def test_inplace_arithmetic_follows_pytorch_casting_rules():
    i = gg.tensor([1, 2, 3])
    with pytest.raises(
        DTypeError, match=r"__iadd__: result type .*float32 can.t be cast to the desired output type .*int64"
    ):
        i += 2.5  # PyTorch: "result type Float can't be cast to the desired output type Long"
    with pytest.raises(DTypeError, match="__itruediv__"):
        i /= 2  # true division of integers is a float
    with pytest.raises(DTypeError, match="div_"):
        i.div_(gg.tensor([1, 1, 1]))
    with pytest.raises(DTypeError, match="clamp_"):
        i.clamp_(min=1.5)
    assert i.tolist() == [1, 2, 3] and i._version == 0  # nothing was written
    i += 2
    i *= gg.tensor([1, 2, 3], dtype=gg.int32)
    assert i.tolist() == [3, 8, 15] and i.dtype == gg.int64
    f = gg.tensor([1.0, 2.0])
    f += gg.tensor([0.5, 0.5], dtype=gg.float64)  # a float64 result fits float32 (same kind)
    f -= np.float64(0.5)
    assert f.dtype == gg.float32 and f.tolist() == [1.0, 2.0]
    with pytest.raises(ShapeError, match=r"__iadd__: expected a result of the tensor's shape \(2,\)"):
        f += gg.ones(3, 2)  # broadcasting may not grow the tensor
    m = gg.tensor([True, False])
    m |= gg.tensor([False, True])
    assert m.tolist() == [True, True] and m.dtype == gg.bool


def test_every_inplace_operator_changes_the_tensor_itself():
    x = gg.tensor([1.0, 2.0, 3.0])
    alias = x
    x **= 2
    x //= 2
    x %= 3
    assert x is alias and x.tolist() == [0.0, 2.0, 1.0] and x._version == 3
    b = gg.tensor([True, True])
    same = b
    b &= gg.tensor([True, False])
    b ^= True
    assert b is same and b.tolist() == [False, True]
    y = gg.tensor([1.0, -1.0]).pow_(2)
    assert y.tolist() == [1.0, 1.0]


def test_inplace_update_by_a_tensor_that_requires_grad_is_recorded():
    # x += w records the update, as PyTorch: the gradient reaches w through x
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    x = gg.zeros(2)
    x += w
    x.mul_(w)
    assert x.grad_fn is not None and x.tolist() == [1.0, 4.0]
    x.sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]  # d(w * w)/dw
    y = gg.zeros(2)
    with gg.no_grad():
        y += w
    assert y.tolist() == [1.0, 2.0] and not y.requires_grad


def test_repr_of_empty_and_bool_tensors_matches_pytorch():
    assert repr(gg.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(gg.zeros(2, 0, dtype=gg.int64)) == "tensor([], size=(2, 0), dtype=glassgrad.int64)"
    assert repr(gg.tensor([])) == "tensor([])"
    assert repr(gg.tensor([True, False])) == "tensor([ True, False])"
    assert repr(gg.tensor(True)) == "tensor(True)"
    assert repr(gg.tensor([], dtype=gg.bool)) == "tensor([], dtype=glassgrad.bool)"


def test_construction_errors_are_clear():
    with pytest.raises(ShapeError, match="tensor: expected a rectangular nested sequence"):
        gg.tensor([[1, 2], [3]])
    with pytest.raises(OverflowError, match="tensor: expected integers that fit int64"):
        gg.tensor([2**63])  # NumPy would make uint64 and wrap it to a negative int64
    assert gg.tensor([2**63 - 1]).item() == 2**63 - 1


def test_to_another_tensor_and_dtype_arguments_of_methods():
    x = gg.tensor([1.0, 2.0])
    assert x.to(gg.tensor([1], dtype=gg.float64)).dtype == gg.float64  # to(other): other's dtype
    i = gg.tensor([1, 2])
    assert i.mean(dtype=gg.float32).item() == 1.5
    assert i.cumsum(0, dtype=gg.float64).dtype == gg.float64
    assert i.softmax(0, dtype=gg.float64).dtype == gg.float64
    assert x.log_softmax(-1, gg.float64).dtype == gg.float64


def test_a_list_of_tensors_keeps_their_dtype():
    assert gg.tensor([gg.tensor(1.0, dtype=gg.float64), gg.tensor(2.0, dtype=gg.float64)]).dtype == gg.float64
    assert gg.tensor([gg.tensor(1, dtype=gg.int32)]).dtype == gg.int32
    assert gg.tensor([gg.tensor(1.0), 2.0]).dtype == gg.float32  # a Python float among them is weak


def test_inplace_change_of_a_read_only_view_is_a_clear_error():
    e = gg.ones(3).expand(2, 3)  # a broadcast view: its rows share memory
    # (fill_/zero_ and writes to a part with no shared places go through, as PyTorch's:
    # tests/autograd/test_expand_write_through.py)
    for change in [
        lambda: e.add_(1.0),
        lambda: e.fill_(gg.tensor(2.0)),
        lambda: e.__setitem__((slice(None), 0), 5.0),
    ]:
        with pytest.raises(ShapeError, match="expected a writable tensor, got a read-only view"):
            change()
    c = e.clone()
    c[0, 0] = 5.0
    assert c.tolist() == [[5.0, 1.0, 1.0], [1.0, 1.0, 1.0]]


def test_np_array_copies_while_np_asarray_and_numpy_share():
    t = gg.tensor([1.0, 2.0])
    a = np.array(t)  # NumPy asks __array__ for a copy; writing to it must not change t (as torch)
    a[0] = 5.0
    assert t.tolist() == [1.0, 2.0]
    assert np.asarray(t) is t._data and t.numpy() is t._data
    assert np.array(t, dtype=np.float64).dtype == np.float64


def test_format_spec_of_a_zero_dim_tensor_formats_its_number():
    loss = gg.tensor(1.23456, requires_grad=True) * 1.0
    assert f"{loss:.2f}" == "1.23" and f"{gg.tensor(3):d}" == "3" and f"{gg.tensor(7):>3}" == "  7"
    assert f"{gg.tensor([1.5, 2.0])}" == repr(gg.tensor([1.5, 2.0]))
    with pytest.raises(TypeError):
        f"{gg.tensor([1.5]):.2f}"  # as in PyTorch: only 0-d tensors take a number format


def test_dtype_equality_is_not_fooled_by_none_or_python_types():
    # np.dtype(None) and np.dtype(float) are float64; PyTorch's dtypes equal only dtypes
    assert (gg.float64 == None) is False and (gg.float64 != None) is True  # noqa: E711
    assert [gg.float64 == float, gg.int64 == int, gg.bool == bool] == [False, False, False]  # noqa: E721
    assert gg.float32 == np.float32 and gg.float32 == np.dtype("float32") and gg.int64 == gg.long
    assert gg.tensor([1.0], dtype=gg.float64).dtype not in (None, gg.float32)
