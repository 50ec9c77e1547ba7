"""``index_put``/``index_put_`` take a tuple (or list) of tensors only, as PyTorch's parser.

Before: lists, ints, NumPy arrays and None were read as indices here where PyTorch raises
TypeError, so a program written against glassgrad failed when run on PyTorch. ``x[...] = v``
still takes all of them (setitem, not index_put).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

ELEMENTS = {
    "list": lambda lib: [0, 1],
    "int": lambda lib: 0,
    "None": lambda lib: None,
    "slice": lambda lib: slice(0, 2),
    "ndarray": lambda lib: np.array([0, 1]),
}


@pytest.mark.parametrize("what", sorted(ELEMENTS))
@pytest.mark.parametrize("form", ["method_", "method", "function"])
def test_non_tensor_index_refused_as_pytorch(what, form, torch):
    def call(lib):
        x = lib.zeros(3, 3)
        idx = (ELEMENTS[what](lib), lib.tensor([0]))
        if form == "method_":
            return x.index_put_(idx, lib.tensor(1.0))
        if form == "method":
            return x.index_put(idx, lib.tensor(1.0))
        return lib.index_put(x, idx, lib.tensor(1.0))

    with pytest.raises(TypeError, match="expected Tensor as element 0"):
        call(torch)
    with pytest.raises(TypeError, match="expected Tensor as element 0"):
        call(gg)


def test_tensors_in_a_list_still_taken_and_setitem_keeps_its_keys(torch):
    for lib in (gg, torch):
        x = lib.zeros(3)
        x.index_put_([lib.tensor([0, 2])], lib.tensor(1.0))
        assert x.tolist() == [1.0, 0.0, 1.0]
    y = gg.zeros(3, 3)
    y[[0, 1], 0] = 1.0
    y[None, 2] = 2.0
    t = torch.zeros(3, 3)
    t[[0, 1], 0] = 1.0
    t[None, 2] = 2.0
    assert y.tolist() == t.tolist()
