"""A list used as an index, read as PyTorch reads it: a short list holding a tensor, a sequence,
a slice, None or ... is a tuple of indices (``x[[rows, cols]]`` is ``x[rows, cols]``); a list of
numbers or bools, a long list and a NumPy array are one index. NumPy alone would read every one
of these lists as one index array, a silently different result."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

KEYS = {
    "list of lists": lambda L: [[0, 1], [1, 2]],
    "list of one list": lambda L: [[0, 1]],
    "list of index tensors": lambda L: [L.tensor([0, 1]), L.tensor([1, 2])],
    "list of 0-d tensors": lambda L: [L.tensor(0), L.tensor(2)],
    "list of one 0-d tensor": lambda L: [L.tensor(1)],
    "list with a slice": lambda L: [0, slice(None)],
    "list with None": lambda L: [None, 0],
    "list with Ellipsis": lambda L: [Ellipsis, 1],
    "list of a range and a list": lambda L: [range(3), [0, 1, 2]],
    "list of NumPy arrays": lambda L: [np.array([0, 1]), np.array([1, 2])],
    "list of tuples": lambda L: [(0, 1), (2, 3)],
    "list of numbers": lambda L: [0, 2, 2],
    "list of bools": lambda L: [True, False, True],
    "long list of numbers": lambda L: [0, 1, 2] * 11,
    "long list of lists": lambda L: [[0, 1]] * 40,
    "2-d NumPy array": lambda L: np.array([[0, 1], [1, 2]]),
}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_list_keys_read_as_pytorch_reads_them(torch, name):
    a = np.arange(12.0).reshape(3, 4)
    x, t = gg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with warnings.catch_warnings(record=True) as theirs_warned:
        warnings.simplefilter("always")
        theirs = t[KEYS[name](torch)]
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours = x[KEYS[name](gg)]
    # a warning where PyTorch warns (it has deprecated reading a list as a tuple), none elsewhere
    assert [str(w.message).startswith("indexing with a list") for w in ours_warned] == [
        "non-tuple sequence" in str(w.message) for w in theirs_warned
    ]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize(
    "name", ["list of lists", "list of 0-d tensors", "list of one list", "list with a slice"]
)
def test_list_keys_write_as_pytorch_writes_them(torch, name):
    x, t = gg.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        x[KEYS[name](gg)] = -1.0
        t[KEYS[name](torch)] = -1.0
    assert x.tolist() == t.tolist()
    ours = [w for w in warned if str(w.message).startswith("indexing with a list")]
    assert len(ours) == 1 and ours[0].filename == __file__  # pointing at the line that indexed


def test_a_list_key_warns_once_after_a_meta_tensor_exists():
    """Once any meta tensor exists, indexing also checks the key for meta tensors: that second
    reading of the key warned a second time (the full suite's order showed it)."""
    gg.zeros(2, device="meta")
    x = gg.arange(12.0).reshape(3, 4)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        x[[[0, 1], [1, 2]]]
    assert [str(w.message).startswith("indexing with a list") for w in seen] == [True]
