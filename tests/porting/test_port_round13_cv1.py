"""Port round 13: *Dive into Deep Learning*, object detection (anchor boxes, SSD, R-CNN) and the
augmentation/fine-tuning sections: the indexing and grid patterns those scripts rely on, against
PyTorch, and the errors PyTorch gives where they are misused."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, ShapeError

# x[key] = value with a tensor value whose dtype is not x's: ``copy_`` converts (basic keys, 0-D
# integer tensors, Python bools), ``index_put_`` refuses (tensor/list keys), but for one number
# through a single bool mask (``masked_fill_``). Each entry: (x's dtype, key, value).
SETITEM_OTHER_DTYPE = [
    ("float32", lambda L: L.tensor([0, 2]), lambda L: L.tensor([1, 2])),
    ("float32", lambda L: L.tensor([0, 2]), lambda L: L.tensor(1)),
    ("float32", lambda L: L.tensor([0, 2]), lambda L: L.tensor([1.0, 2.0], dtype=L.float64)),
    ("float32", lambda L: [0, 2], lambda L: L.tensor([1, 2])),
    ("float32", lambda L: L.tensor([True, False, True]), lambda L: L.tensor([1, 2])),
    ("float32", lambda L: L.tensor([True, False, True]), lambda L: L.tensor(1)),
    ("float32", lambda L: L.tensor([True, False, True]), lambda L: L.tensor([1])),
    ("float32", lambda L: [True, False, True], lambda L: L.tensor(1)),
    ("float32", lambda L: L.tensor(True), lambda L: L.tensor([1, 2, 3])),
    ("float32", lambda L: L.tensor(True), lambda L: L.tensor(1)),  # a 0-D bool is no mask: refused
    ("float32", lambda L: L.tensor(False), lambda L: L.tensor([1])),
    ("float32", lambda L: True, lambda L: L.tensor([1, 2, 3])),
    ("float32", lambda L: L.tensor(1), lambda L: L.tensor(7)),
    ("float32", lambda L: slice(0, 2), lambda L: L.tensor([1, 2])),
    ("int64", lambda L: L.tensor([0]), lambda L: L.tensor([1.5])),
    ("int64", lambda L: L.tensor([0]), lambda L: L.tensor([1], dtype=L.int32)),
]


@pytest.mark.parametrize(("dtype", "key", "value"), SETITEM_OTHER_DTYPE)
def test_setitem_with_a_value_of_another_dtype_as_torch(torch, dtype, key, value):
    theirs = torch.zeros(3, dtype=getattr(torch, dtype))
    ours = gg.zeros(3, dtype=getattr(gg, dtype))
    try:
        theirs[key(torch)] = value(torch)
    except RuntimeError:
        with pytest.raises(DTypeError, match="source and destination dtypes match"):
            ours[key(gg)] = value(gg)
        assert ours.tolist() == [0] * 3  # nothing written
        return
    ours[key(gg)] = value(gg)
    assert ours.tolist() == theirs.tolist()


def test_setitem_other_dtype_with_slices_and_ints_in_the_key(torch):
    # anchor labelling: jaccard[:, box_idx] = col_discard (a 0-D long index, a long value) converts;
    # a 1-D tensor index with a long value is refused, also after a slice or an int
    out = []
    for L in (torch, gg):
        j = L.ones(4, 3)
        j[:, L.tensor(1)] = L.full((4,), -1)
        j[L.tensor(2), :] = L.full((3,), -1)
        out.append(j.tolist())
    assert out[0] == out[1] and out[1][2] == [-1.0] * 3 and out[1][0] == [1.0, -1.0, 1.0]
    with pytest.raises(RuntimeError):
        torch.zeros(3, 2)[:, torch.tensor([1])] = torch.tensor([[1], [2], [3]])
    with pytest.raises(DTypeError):
        gg.zeros(3, 2)[:, gg.tensor([1])] = gg.tensor([[1], [2], [3]])
    with pytest.raises(DTypeError):
        gg.zeros(2, 3)[0, gg.tensor([1])] = gg.tensor([1])
    ours, theirs = gg.zeros(2, 2), torch.zeros(2, 2)
    ours[0, gg.tensor([True, False])] = gg.tensor(4)  # int + mask, one number: masked_fill_
    theirs[0, torch.tensor([True, False])] = torch.tensor(4)
    assert ours.tolist() == theirs.tolist()


def test_setitem_other_dtype_refused_while_recording():
    x = gg.zeros(3, requires_grad=True).clone()
    with pytest.raises(DTypeError):
        x[gg.tensor([0])] = gg.tensor([1])
    x[x == 0] = gg.tensor(1)  # one number through a mask converts, as PyTorch's masked_fill_
    assert x.tolist() == [1.0, 1.0, 1.0]


def test_meshgrid_zero_dim_tensors_count_as_length_one(torch):
    for indexing in ("ij", "xy"):
        ours = gg.meshgrid(gg.tensor(3), gg.arange(2), gg.tensor([5, 6, 7]), indexing=indexing)
        theirs = torch.meshgrid(torch.tensor(3), torch.arange(2), torch.tensor([5, 6, 7]), indexing=indexing)
        assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert gg.meshgrid(gg.tensor(3.0), indexing="ij")[0].tolist() == [3.0]


def test_meshgrid_refuses_what_torch_refuses(torch):
    cases = [
        ((lambda L: (L.arange(2.0), L.arange(2))), DTypeError, "one dtype"),
        ((lambda L: (L.zeros(2, 2), L.zeros(2))), ShapeError, "0-D or 1-D"),
        ((lambda L: ()), ShapeError, "non-empty"),
        ((lambda L: (L.arange(2), [1, 2])), TypeError, "element 1"),
    ]
    for make, error, words in cases:
        with pytest.raises((RuntimeError, TypeError)):
            torch.meshgrid(*make(torch), indexing="ij")
        with pytest.raises(error, match=words):
            gg.meshgrid(*make(gg), indexing="ij")
    with pytest.raises(ShapeError):
        gg.meshgrid([], indexing="xy")
