"""Round 66 (PyTorch's test_torch.py, NumPy interop): ``np.array(t, dtype=other, copy=False)``
follows NumPy 2's ``__array__`` protocol and raises ValueError (it returned a converted copy, so
the caller's writes silently missed the tensor). PyTorch 2.13 refuses every ``copy=False``;
glassgrad shares memory where no conversion is needed (see docs/design.md)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def test_array_copy_false_with_a_dtype_change_raises(torch):
    with pytest.raises(ValueError):
        np.array(torch.arange(3.0), dtype=np.float64, copy=False)
    with pytest.raises(ValueError, match="avoid a copy"):
        np.array(gg.arange(3.0), dtype=np.float64, copy=False)


def test_array_copy_flags_share_or_copy():
    x = gg.arange(3.0)
    np.array(x, copy=False)[0] = 5.0  # no copy asked: the tensor's memory
    np.array(x, copy=True)[1] = 7.0  # a copy
    np.asarray(x, dtype=np.float64)[2] = 9.0  # converted: a copy (copy=None allows it)
    assert x.tolist() == [5.0, 1.0, 2.0]
