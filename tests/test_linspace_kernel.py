"""``linspace`` and ``affine_grid``'s base grid give PyTorch's values bit for bit (port round 38:
MONAI's nearest-neighbour ``Spacing`` from 2 mm to 1.5 mm samples at half-voxel ties, and a
1-ulp difference in the grid took the other voxel in whole planes).

PyTorch's CPU kernel: ``step = (end - start) / (steps - 1)`` in the dtype, the first half
``fma(step, i, start)``, the second half ``fma(-step, steps - 1 - i, end)``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.linspace_kernel import exact_fma

RS = np.random.RandomState(38)
ENDS = [(-1.0, 1.0), (0.0, 1.0), (-3.7, 11.2), (0.0, 99.0), (5.0, -2.5), (1e-3, 7e5), (-1e10, 3.3)] + [
    tuple(float(v) for v in RS.randn(2) * 10.0 ** RS.randint(-3, 4)) for _ in range(12)
]
STEPS = [*range(0, 70), 97, 128, 255, 256, 257, 1000, 4097]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linspace_bits_match_pytorch(torch, dtype):
    for start, end in ENDS:
        for n in STEPS:
            want = torch.linspace(start, end, n, dtype=getattr(torch, dtype)).numpy()
            got = gg.linspace(start, end, n, dtype=getattr(gg, dtype)).numpy()
            assert got.dtype == want.dtype
            assert np.array_equal(got, want), (start, end, n)


@pytest.mark.parametrize(
    "dtype", ["float16", "int64", "int32", "int16", "int8", "uint8", "complex64", "complex128"]
)
def test_linspace_other_dtypes_bits_match_pytorch(torch, dtype):
    """Port round 48: float16 (RoPE's pixel frequencies were 2 ulp off), integers and complex
    followed NumPy's linspace cast to the dtype, not PyTorch's kernel."""
    for start, end in ENDS[:4] + ENDS[7:]:
        if dtype in ("int8", "uint8"):
            start, end = abs(start) % 100, abs(end) % 100
        if dtype.startswith("complex"):
            start, end = complex(start, end / 3), complex(end, -start)
        for n in [*range(0, 40), 97, 256, 257, 2049, 4097]:
            want = torch.linspace(start, end, n, dtype=getattr(torch, dtype)).numpy()
            got = gg.linspace(start, end, n, dtype=getattr(gg, dtype)).numpy()
            assert got.dtype == want.dtype
            assert np.array_equal(got, want), (start, end, n)


def test_linspace_float16_by_hand():
    """PyTorch turns a Python float into half through float32: -59.82812618... is float32's
    -59.828125, a half tie that rounds to the even -59.8125 (a direct rounding gives -59.84375).
    step = half(half(end - start) / 35); x[1] = half(start + half(step * 1))."""
    x = gg.linspace(-59.82812618206259, -0.6461217508293067, 36, dtype=gg.float16).numpy()
    assert x[0] == np.float16(-59.8125) and x[-1] == np.float16(-0.6461217508293067)
    h = np.float16
    step = h(np.float32(h(np.float32(h(-0.6461217508293067)) + np.float32(59.8125))) / np.float32(35))
    assert x[1] == h(np.float32(-59.8125) + np.float32(step))
    assert gg.linspace(2.7, -3.9, 4, dtype=gg.int64).tolist() == [2, 0, -1, -3]  # ends truncated: 2, -3


def test_linspace_bool_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="linspace: expected a numeric dtype, got bool"):
        gg.linspace(0.0, 1.0, 3, dtype=gg.bool)


def test_linspace_default_dtype_and_tensor_ends(torch):
    want = torch.linspace(torch.tensor(0.5), torch.tensor(2.25), 7).numpy()
    np.testing.assert_array_equal(gg.linspace(gg.tensor(0.5), gg.tensor(2.25), 7).numpy(), want)
    assert gg.linspace(3.0, 5.0, 1).tolist() == [3.0]  # one point: start
    assert gg.linspace(3.0, 5.0, 0).shape == (0,)


def test_linspace_negative_steps_is_a_clear_error():
    with pytest.raises(ValueError, match="linspace: expected a non-negative number of steps, got -2"):
        gg.linspace(0.0, 1.0, -2)


def _correctly_rounded32(exact: Fraction) -> np.float32:
    x = np.float32(float(exact))
    cands = [np.nextafter(x, np.float32(-np.inf)), x, np.nextafter(x, np.float32(np.inf))]
    return min(cands, key=lambda v: (abs(Fraction(float(v)) - exact), int(np.array(v).view(np.int32)) & 1))


def test_exact_fma_is_correctly_rounded():
    """Against exact rational arithmetic (Python's float(Fraction) rounds correctly)."""
    rs = np.random.RandomState(0)
    a = rs.randn(3000) * 10.0 ** rs.randint(-8, 8, 3000)
    b = rs.randint(0, 5000, 3000).astype(np.float64)
    c = rs.randn(3000) * 10.0 ** rs.randint(-8, 8, 3000)
    want = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c, strict=True)]
    np.testing.assert_array_equal(exact_fma(a, b, c, np.float64), want)
    a32, b32, c32 = a.astype(np.float32), b.astype(np.float32), c.astype(np.float32)
    exact = [
        Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))
        for x, y, z in zip(a32, b32, c32, strict=True)
    ]
    want32 = np.array([_correctly_rounded32(e) for e in exact], dtype=np.float32)
    np.testing.assert_array_equal(exact_fma(a32, b32, c32, np.float32), want32)


def test_exact_fma_float32_tie_is_resolved_by_the_exact_value():
    # 1 + 2**-24 is a float32 midpoint; with 2**-60 more the exact value is above it: round up
    a, b, c = np.float32(2.0**-24), np.float32(1.0), np.float32(1.0)
    assert exact_fma(np.array([a]), np.array([b]), np.array([c]), np.float32)[0] == np.float32(1.0)  # even
    got = exact_fma(
        np.array([np.float32(1 + 2.0**-23)]), np.array([np.float32(2.0**-24)]), np.array([c]), np.float32
    )
    assert got[0] == np.nextafter(np.float32(1.0), np.float32(2.0))


@pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid")  # PyTorch's, for unit sizes
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize(
    "size", [(1, 1, 15, 20, 21), (2, 1, 20, 24, 16), (1, 2, 7, 9), (3, 1, 1, 5), (1, 1, 1, 5, 3)]
)
def test_affine_grid_base_bits_match_pytorch(torch, size, align_corners):
    """A diagonal theta (scales and shifts by powers of two: exact products) shows the base grid."""
    nd = len(size) - 2
    theta = np.zeros((size[0], nd, nd + 1), dtype=np.float32)
    for i in range(nd):
        theta[:, i, i] = 2.0 ** (i - 1)
        theta[:, i, nd] = 0.25 * i
    want = torch.nn.functional.affine_grid(torch.tensor(theta), size, align_corners=align_corners).numpy()
    got = gg.nn.functional.affine_grid(gg.tensor(theta), size, align_corners=align_corners).numpy()
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_nearest_resampling_at_half_voxel_ties_matches_pytorch(torch):
    """MONAI's Spacing (2, 1.2, 1.5) mm -> (2, 1.5, 1.5) mm after Orientation: the normalised theta
    that MONAI's AffineTransform hands to affine_grid; many sample points fall on half-voxel ties
    (before the fix 714 of 6300 voxels took the other neighbour)."""
    h = float.fromhex
    theta = [
        [1.0, 0.0, 0.0, h("-0x1.1111p-6")],
        [0.0, h("0x1.0aaaacp+0"), 0.0, h("0x1.00002p-5")],
        [0.0, 0.0, 0.984375, 0.0],
    ]
    theta = np.array([theta], np.float32)
    x = np.arange(20 * 24 * 16, dtype=np.float32).reshape(1, 1, 20, 24, 16)
    outs = []
    for lib in (torch, gg):
        grid = lib.nn.functional.affine_grid(lib.tensor(theta), [1, 1, 15, 20, 21], align_corners=False)
        out = lib.nn.functional.grid_sample(
            lib.tensor(x), grid, mode="nearest", padding_mode="border", align_corners=False
        )
        outs.append(out.numpy())
    np.testing.assert_array_equal(outs[1], outs[0])


def test_affine_grid_gradcheck_with_a_broadcast_batch():
    rs = np.random.RandomState(1)
    for size in ((2, 1, 3, 4), (1, 1, 2, 3, 4)):
        nd = len(size) - 2
        theta = gg.tensor(rs.randn(size[0], nd, nd + 1), dtype=gg.float64, requires_grad=True)
        for ac in (False, True):
            assert gradcheck(
                lambda t, ac=ac, size=size: gg.nn.functional.affine_grid(t, size, align_corners=ac), (theta,)
            )
