"""``Tensor.stride()`` for size-1 dims as PyTorch reports it (NumPy gives a new or broadcast
size-1 dim stride 0; PyTorch a contiguous layout's stride there), against PyTorch."""

from __future__ import annotations

import pytest

import glassgrad as gg

SIZE_ONE_CASES = [
    "x.expand(1, 3, 3)", "x.expand(2, 1, 3, 3)", "x[None, :, None]", "lib.ones(3, 4, 5)[None].clone()",
    "lib.ones(3).expand(1, 2, 3)", "lib.ones(3).expand(2, 1, 3)", "lib.ones(1, 3).expand(2, 1, 3)",
    "lib.ones(2, 3)[:, None, :, None]", "x.t()[None]", "x.t()[:, None]", "lib.ones(5)[::2][None]",
    "lib.ones(3)[None, None]", "x.unsqueeze(0)", "x.unsqueeze(-1)", "x[:, :1]", "lib.ones(3, 1).expand(3, 4)",
]  # fmt: skip


@pytest.mark.parametrize("call", SIZE_ONE_CASES)
def test_size_one_dims_report_pytorchs_strides(torch, call):
    """NumPy gives a new or broadcast size-1 dim stride 0; PyTorch a contiguous layout's stride there."""
    strides = [eval(call, {"x": lib.ones(3, 3), "lib": lib}).stride() for lib in (gg, torch)]
    assert strides[0] == strides[1]
