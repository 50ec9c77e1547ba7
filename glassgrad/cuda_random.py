"""``glassgrad.cuda.random``: PyTorch's module of CUDA generator functions (``torch.cuda.random.
manual_seed(seed)`` is what torchattacks' APGD, APGDT, FAB and Square call next to
``torch.random.manual_seed``). The same functions as ``glassgrad.cuda``'s: there is no GPU, so
seeding does nothing, ``get_rng_state_all()`` is ``[]`` and asking for one device's state raises.

>>> import glassgrad as gg
>>> gg.cuda.random.manual_seed(0)
>>> gg.cuda.random.get_rng_state_all()
[]
"""

from __future__ import annotations

from glassgrad.cuda import manual_seed, manual_seed_all, seed, seed_all
from glassgrad.cuda_more import (
    get_rng_state,
    get_rng_state_all,
    initial_seed,
    set_rng_state,
    set_rng_state_all,
)

__all__ = [
    "get_rng_state", "get_rng_state_all", "initial_seed", "manual_seed", "manual_seed_all", "seed",
    "seed_all", "set_rng_state", "set_rng_state_all",
]  # fmt: skip
