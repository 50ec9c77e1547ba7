"""Port round 48 (lucidrains attention variants: rotary-embedding-torch, local-attention,
nystrom-attention, h-transformer-1d, memorizing-transformers, block-recurrent-transformer,
MEGABYTE, PaLM): the defects they showed, against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg


def _axial_pixel_freqs(lib, dims, dim, max_freq, dtype):
    """RoPE's pixel frequencies for an image: linspace(1, max_freq / 2) * pi times each axis'
    linspace(-1, 1) positions, broadcast over the other axes and concatenated."""
    freqs = lib.linspace(1.0, max_freq / 2, dim // 2, dtype=dtype) * math.pi
    parts = []
    for ax, n in enumerate(dims):
        pos = lib.linspace(-1, 1, steps=n, dtype=dtype)
        f = lib.einsum("..., f -> ... f", pos, freqs).repeat_interleave(2, dim=-1)
        index = [None] * len(dims)
        index[ax] = slice(None)
        parts.append(f[(Ellipsis, *index, slice(None))])
    return lib.cat(lib.broadcast_tensors(*parts), dim=-1)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_rotary_axial_pixel_freqs_match_pytorch_bit_for_bit(torch, dtype):
    """float16 ``linspace`` followed NumPy's values (2 ulp off PyTorch's at 16 frequencies)."""
    for dims, max_freq in (((4, 5), 16), ((7, 3, 2), 10), ((33,), 256)):
        want = _axial_pixel_freqs(torch, dims, 8, max_freq, getattr(torch, dtype)).numpy()
        got = _axial_pixel_freqs(gg, dims, 8, max_freq, getattr(gg, dtype)).numpy()
        assert got.dtype == want.dtype and np.array_equal(got, want), dims


@pytest.mark.parametrize("dtype", ["int64", "int32", "complex64"])
def test_linspace_integer_and_complex_positions_match_pytorch(torch, dtype):
    for start, end, n in ((0, 255, 7), (-3.7, 12.9, 11), (100.0, -20.5, 33), (1.5, 1.5, 4)):
        want = torch.linspace(start, end, n, dtype=getattr(torch, dtype)).numpy()
        got = gg.linspace(start, end, n, dtype=getattr(gg, dtype)).numpy()
        assert got.dtype == want.dtype and np.array_equal(got, want), (start, end, n)
