"""``testing.make_tensor`` and the deprecated ``testing.assert_allclose`` against PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


@pytest.mark.parametrize(
    "dtype, kw, lo, hi",
    [
        ("float32", {}, -9, 9),
        ("float64", {"low": -2.5, "high": 0.5}, -2.5, 0.5),
        ("int64", {}, -9, 9),
        ("int32", {"low": -2, "high": 3}, -2, 2),
        ("uint8", {}, 0, 9),
        ("bool", {}, 0, 1),
    ],
)
def test_make_tensor_ranges_as_torch(torch, dtype, kw, lo, hi):
    gg.manual_seed(0)
    got = gg.testing.make_tensor(40, 50, dtype=getattr(gg, dtype), device="cpu", **kw)
    want = torch.testing.make_tensor(40, 50, dtype=getattr(torch, dtype), device="cpu", **kw)
    assert tuple(got.shape) == tuple(want.shape) == (40, 50) and str(got.dtype)[10:] == str(want.dtype)[6:]
    for t in (got, want):  # both cover the documented range and stay inside it
        values = t.numpy().astype(np.float64)
        assert values.min() >= lo and values.max() <= hi
        assert values.min() < lo + 0.2 * (hi - lo) and values.max() > hi - 0.2 * (hi - lo)
    gg.manual_seed(0)
    again = gg.testing.make_tensor((40, 50), dtype=getattr(gg, dtype), device="cpu", **kw)
    np.testing.assert_array_equal(again.numpy(), got.numpy())  # manual_seed repeats the draw


def test_make_tensor_options_as_torch(torch):
    for m in (gg, torch):
        t = m.testing.make_tensor(
            3, 4, dtype=m.complex64, device="cpu", noncontiguous=True, requires_grad=True
        )
        assert not t.is_contiguous() and t.requires_grad and t.dtype == m.complex64
        z = m.testing.make_tensor(500, dtype=m.int64, device="cpu", low=-1, high=2, exclude_zero=True)
        assert not (z == 0).any() and set(z.tolist()) <= {-1, 1}
        with pytest.raises(ValueError):
            m.testing.make_tensor(3, dtype=m.int64, device="cpu", requires_grad=True)
        with pytest.raises(ValueError):
            m.testing.make_tensor(3, dtype=m.float32, device="cpu", low=3, high=2)


def test_assert_allclose_is_deprecated_and_compares_by_value(torch):
    for m in (gg, torch):
        with pytest.warns(FutureWarning, match="assert_allclose"):
            m.testing.assert_allclose(m.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-7])
        with pytest.warns(FutureWarning), pytest.raises(AssertionError):
            m.testing.assert_allclose(m.tensor([1.0, 2.0]), [1.0, 2.5])
        with pytest.warns(FutureWarning):  # NaN equals NaN by default here, dtypes not checked
            m.testing.assert_allclose(
                m.tensor([float("nan"), 1.0]), m.tensor([float("nan"), 1.0], dtype=m.float64)
            )
