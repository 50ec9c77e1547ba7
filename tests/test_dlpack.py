"""DLPack (utils/dlpack.py) against PyTorch: glassgrad and PyTorch tensors view each other's memory
without a copy, both ways, through capsules too; a tensor that requires grad is not exported."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def test_views_both_ways_share_memory(torch):
    t = torch.arange(4.0)
    g = gg.from_dlpack(t)
    g[0] = 7.0
    assert t.tolist() == [7.0, 1.0, 2.0, 3.0] and g.dtype == gg.float32
    x = gg.arange(3.0, dtype=gg.float64)
    tt = torch.from_dlpack(x)
    tt[1] = 9.0
    assert x.tolist() == [0.0, 9.0, 2.0] and tt.dtype == torch.float64
    np.testing.assert_array_equal(np.from_dlpack(gg.ones(2, 3)), np.ones((2, 3), np.float32))


def test_capsules_and_refusals(torch):
    back = gg.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(torch.tensor([1, 2])))
    assert back.tolist() == [1, 2] and back.dtype == gg.int64
    theirs = torch.utils.dlpack.from_dlpack(gg.utils.dlpack.to_dlpack(gg.tensor([0.5, 1.5])))
    assert theirs.tolist() == [0.5, 1.5]
    assert gg.ones(1).__dlpack_device__() == torch.ones(1).__dlpack_device__()
    with pytest.raises(RuntimeError, match="requires grad"):
        torch.from_dlpack(gg.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match="from_dlpack: expected an object with __dlpack__"):
        gg.from_dlpack([1.0, 2.0])
    assert gg.utils.dlpack.DLDeviceType.kDLCPU == torch.utils.dlpack.DLDeviceType.kDLCPU
