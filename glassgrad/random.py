"""One seeded generator behind every random draw in glassgrad (``manual_seed`` makes runs repeat)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "manual_seed",
    "seed",
    "initial_seed",
    "get_generator",
    "Generator",
    "get_rng_state",
    "set_rng_state",
]


class Generator:
    """A seedable random source, like ``torch.Generator`` (wraps ``numpy.random.Generator``)."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = 0 if seed is None else int(seed)
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


_default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the global generator; every later random draw in glassgrad follows from it."""
    return _default_generator.manual_seed(seed)


seed = manual_seed


def initial_seed() -> int:
    return _default_generator.initial_seed()


def get_generator(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, else the global one."""
    return (generator or _default_generator).rng


def get_rng_state() -> dict:
    return _default_generator.get_state()


def set_rng_state(state: dict) -> None:
    _default_generator.set_state(state)
