"""``get_rng_state()`` and ``Generator.get_state()`` give a uint8 tensor, as PyTorch's ByteTensor
(programs ``clone()`` it, read its ``device``, save it and hand it back); the bytes are glassgrad's
own (a PCG64 state), and the dict earlier glassgrad versions gave is still accepted back."""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad import random as gg_random


def test_the_state_is_a_uint8_tensor_as_torch(torch):
    for lib in (gg, torch):
        state = lib.get_rng_state()
        gen_state = lib.Generator().get_state()
        for s in (state, gen_state):
            assert s.dtype == lib.uint8 and s.ndim == 1 and str(s.device) == "cpu"


def test_a_cloned_state_replays_the_draws():
    gg.manual_seed(5)
    state = gg.get_rng_state().clone()
    first = gg.randn(4).numpy()
    gg.randn(3)
    gg.set_rng_state(state)
    np.testing.assert_array_equal(gg.randn(4).numpy(), first)
    gen = gg.Generator().manual_seed(2)
    saved = gen.get_state()
    a = gg.rand(3, generator=gen).numpy()
    gen.set_state(saved)
    np.testing.assert_array_equal(gg.rand(3, generator=gen).numpy(), a)


def test_the_state_survives_save_and_load(tmp_path):
    gg.manual_seed(7)
    path = tmp_path / "state.pt"
    gg.save({"rng": gg.get_rng_state()}, path)
    first = gg.randn(5).numpy()
    gg.set_rng_state(gg.load(path)["rng"])
    np.testing.assert_array_equal(gg.randn(5).numpy(), first)


def test_an_earlier_versions_dict_is_accepted():
    gg.manual_seed(1)
    legacy = gg_random.rng_state_dict()
    first = gg.randn(2).numpy()
    gg.set_rng_state(legacy)
    np.testing.assert_array_equal(gg.randn(2).numpy(), first)
