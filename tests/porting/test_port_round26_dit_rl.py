"""Round 26 (DiT, cleanrl): cleanrl's replay buffer (copied from stable-baselines3) asks
`if device == "auto":` of a `torch.device`; PyTorch answers False, glassgrad raised ValueError."""

from __future__ import annotations

import glassgrad


def test_device_compares_unequal_to_a_non_device_name(torch):
    for name in ("auto", "", "gpu0", "cpu:x"):
        assert (torch.device("cpu") == name) is False
        assert (glassgrad.device("cpu") == name) is False
        assert (glassgrad.device("cpu") != name) is True
    assert glassgrad.device("cpu") == "cpu"  # glassgrad's own convenience (PyTorch: False)
