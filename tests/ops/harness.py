"""Shared machinery for op tests: the gradcheck case registry and hypothesis shape strategies.

Each ``tests/ops/cases_<family>.py`` registers, for every op name in
``glassgrad.autograd.REGISTRY`` it covers, a hypothesis strategy that draws ``(fn, inputs)``:
``fn`` maps tensors to a tensor, ``inputs`` holds float64 arrays (checked by gradcheck), integer or
bool arrays (passed as constant tensors) and plain Python values. ``test_registry.py`` runs them all
and fails for any registered op without a case.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg

CASES: dict[str, list[st.SearchStrategy]] = {}


def case(name: str) -> Callable:
    """Register a composite strategy ``draw -> (fn, inputs)`` as a gradcheck case for op ``name``."""

    def register(fn: Callable) -> Callable:
        CASES.setdefault(name, []).append(st.composite(fn)())
        return fn

    return register


@st.composite
def shapes(draw, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> tuple:
    n = draw(st.integers(min_dims, max_dims))
    return tuple(draw(st.integers(min_side, max_side)) for _ in range(n))


@st.composite
def broadcast_pair(draw, min_dims: int = 0, max_dims: int = 3) -> tuple[tuple, tuple]:
    """Two shapes that broadcast together: the second drops leading dims and sets some sides to 1."""
    a = draw(shapes(min_dims, max_dims))
    drop = draw(st.integers(0, len(a)))
    b = tuple(1 if draw(st.booleans()) else s for s in a[drop:])
    return (a, b) if draw(st.booleans()) else (b, a)


def values(draw, shape: tuple, low: float = -2.0, high: float = 2.0, away: float = 0.0) -> np.ndarray:
    """float64 values on [low, high], drawn from a hypothesis-chosen seed; |x| >= away if away > 0."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.uniform(low, high, size=shape)
    if away > 0:
        x = np.where(np.abs(x) < away, np.sign(x + 1e-12) * away + x, x)
    return x


def distinct_values(draw, shape: tuple, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """float64 values on [low, high], pairwise at least (high - low) / (2n) apart, in a random order:
    the cases of max/min-like ops, where two values closer than the finite-difference step would
    split the gradient between them."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = int(np.prod(shape))
    step = (high - low) / max(n, 1)
    grid = low + step * (np.arange(n) + 0.25 + 0.5 * rng.random(n))  # one value per cell
    return rng.permutation(grid).reshape(shape)


def to_inputs(raw: tuple) -> tuple:
    """float64 arrays -> tensors that require grad; other arrays -> constant tensors."""
    out: list[Any] = []
    for r in raw:
        if isinstance(r, np.ndarray):
            t = gg.Tensor(r.copy(), _wrap=True)
            if r.dtype == np.float64:
                t.requires_grad_()
            out.append(t)
        else:
            out.append(r)
    return tuple(out)
