"""``isposinf`` / ``isneginf`` (functions and methods): PyTorch's results for floats (inf, -inf, NaN,
-0.0, large finite), integers and bools (never infinite), 0-d and empty tensors; complex refused."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError

FLOATS = np.array([1.0, np.inf, -np.inf, np.nan, -0.0, 3.4e38, -3.4e38])


@pytest.mark.parametrize("name", ["isposinf", "isneginf"])
@pytest.mark.parametrize(
    "array",
    [FLOATS.astype(np.float32), FLOATS, np.array([1.0, np.inf, -np.inf, np.nan, -0.0, 65504.0], np.float16).reshape(6, 1), np.array([-3, 0, 7]),
     np.array([True, False]), np.array(np.inf), np.zeros((0, 3))],
    ids=["float32", "float64", "float16", "int64", "bool", "0-d", "empty"],
)  # fmt: skip
def test_matches_torch(torch, name, array):
    expected = getattr(torch, name)(torch.from_numpy(array)).numpy()
    for ours in (getattr(gg, name)(gg.tensor(array)), getattr(gg.tensor(array), name)()):
        assert ours.dtype == gg.bool and ours.shape == expected.shape
        np.testing.assert_array_equal(ours._data, expected)


def test_no_gradient_is_recorded():
    x = gg.tensor([1.0, np.inf], requires_grad=True)
    assert not gg.isposinf(x).requires_grad and not x.isneginf().requires_grad


@pytest.mark.parametrize("name", ["isposinf", "isneginf"])
def test_complex_is_refused_by_name(torch, name):
    with pytest.raises(RuntimeError, match="complex"):
        getattr(torch, name)(torch.tensor([1 + 1j]))
    with pytest.raises(DTypeError, match=rf"{name}: expected a real tensor, got dtype complex128"):
        getattr(gg, name)(gg.tensor(np.array([1 + 1j])))
