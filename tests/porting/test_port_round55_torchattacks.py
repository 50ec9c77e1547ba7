"""Round 55, torchattacks (adversarial attacks: ``autograd.grad`` in loops) and foolbox 3 on
eagerpy: one defect.

- ``torch.cuda.random`` did not exist: torchattacks' APGD, APGDT, FAB and Square (and so
  AutoAttack) seed with ``torch.random.manual_seed(seed)`` then ``torch.cuda.random.manual_seed
  (seed)``, an AttributeError here before any attack step. It is now PyTorch's module of CUDA
  generator functions, the same functions as ``glassgrad.cuda``'s (no GPU: seeding does nothing,
  there are no states, asking for one device's state raises).
"""

from __future__ import annotations

import importlib
import sys

import pytest

import glassgrad


def test_cuda_random_is_an_importable_module_with_pytorchs_names(torch):
    mod = importlib.import_module("glassgrad.cuda.random")
    assert glassgrad.cuda.random is mod is sys.modules["glassgrad.cuda.random"]
    assert sorted(mod.__all__) == sorted(torch.cuda.random.__all__)
    for name in torch.cuda.random.__all__:
        assert callable(getattr(mod, name)), name
    from glassgrad.cuda.random import manual_seed  # the `from torch.cuda.random import` form

    assert manual_seed is glassgrad.cuda.manual_seed


def test_cuda_random_answers_as_pytorchs_cpu_build(torch):
    for lib in (glassgrad, torch):
        r = lib.cuda.random
        assert r.manual_seed(3) is None and r.manual_seed_all(3) is None
        assert r.seed() is None and r.seed_all() is None
        assert r.get_rng_state_all() == []
        assert r.set_rng_state(lib.zeros(3, dtype=lib.uint8)) is None
        assert r.set_rng_state_all([]) is None
    # one device's state or seed needs a GPU: PyTorch's CPU build raises AssertionError ("Torch not
    # compiled with CUDA enabled"), glassgrad RuntimeError with the same words
    for name in ("get_rng_state", "initial_seed"):
        with pytest.raises(AssertionError, match="not compiled with CUDA"):
            getattr(torch.cuda.random, name)()
        with pytest.raises(RuntimeError, match=f"cuda.{name}: Torch not compiled with CUDA"):
            getattr(glassgrad.cuda.random, name)()


def test_apgd_style_seeding_gives_the_same_random_start_again():
    # torchattacks' APGD.perturb: seed both generators, then draw the random start
    def start(seed):
        glassgrad.random.manual_seed(seed)
        glassgrad.cuda.random.manual_seed(seed)
        x = glassgrad.zeros(2, 3, dtype=glassgrad.float64)
        return 2 * glassgrad.rand(x.shape).to(x.dtype) - 1

    a, b, c = start(0), start(0), start(1)
    assert glassgrad.equal(a, b) and not glassgrad.equal(a, c)
    assert a.min().item() >= -1 and a.max().item() < 1
