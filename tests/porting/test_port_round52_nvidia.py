"""Round 52, group nvidia: NVIDIA DeepLearningExamples' PyTorch models (DLRM, NCF, WaveGlow,
QuartzNet, ConvNets ResNet/SE-ResNeXt). WaveGlow's model module calls
``torch._C._jit_set_autocast_mode(False)`` when it is imported; glassgrad had no such switch. It is
now remembered like the TorchScript profiling switches and returns the previous flag, as PyTorch's.
Each test compares with PyTorch's CPU build where PyTorch decides."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

# --- torch._C._jit_set_autocast_mode ---------------------------------------------------------


def test_jit_autocast_switch_returns_the_previous_flag(torch):
    ours, theirs = gg._C._jit_set_autocast_mode, torch._C._jit_set_autocast_mode
    try:
        assert ours(False) is theirs(False) is True
        assert ours(False) is theirs(False) is False
        assert ours(True) is theirs(True) is False
        assert ours(True) is theirs(True) is True
    finally:
        ours(True)
        theirs(True)


def test_jit_autocast_switch_takes_only_a_bool(torch):
    with pytest.raises(TypeError):
        torch._C._jit_set_autocast_mode("no")
    with pytest.raises(TypeError, match=r"_C\._jit_set_autocast_mode: expected a bool, got str"):
        gg._C._jit_set_autocast_mode("no")


# --- DLRM's dot interaction: bmm, a pair of index tensors, cat with zero padding ----------------


def test_dlrm_dot_interaction_matches_pytorch(torch):
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((3, 4, 5))
    rows = [i for i in range(4) for _ in range(i)]
    cols = [j for i in range(4) for j in range(i)]
    outs, grads = [], []
    for lib in (gg, torch):
        x = lib.tensor(x0, requires_grad=True)
        inter = lib.bmm(x, lib.transpose(x, 1, 2))
        tril = lib.tensor([rows, cols])
        flat = inter[:, tril[0], tril[1]]
        out = lib.cat((x[:, 0], flat, lib.zeros(3, 2, dtype=x.dtype)), dim=1)
        (out * lib.tensor(np.arange(out.shape[1], dtype=np.float64))).sum().backward()
        outs.append(out.detach().numpy())
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=0, atol=1e-13)
    np.testing.assert_allclose(grads[0], grads[1], rtol=0, atol=1e-13)
