"""``torch.quasirandom``: ``SobolEngine``, PyTorch's (scrambled) Sobol sequence generator.

The unscrambled points are PyTorch's bit for bit: the same Joe-Kuo direction numbers
(quasirandom_directions.py), the same Gray-code order (point ``i + 1`` is point ``i`` XOR the
direction number of the lowest zero bit of ``i``) and the same rounding (a 30-bit integer times
``2**-30`` in double, then cast to ``dtype``; the first point of a scrambled sequence is divided in
the default dtype at construction, as PyTorch's ``_first_point``). Scrambling follows PyTorch's
algorithm (a random digital shift and lower-triangular bit matrices from ``randint`` with a generator
seeded by ``seed``), but glassgrad's random stream is its own, so scrambled points differ from
PyTorch's for the same seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import glassgrad
from glassgrad.quasirandom_directions import MAXBIT, MAXDIM, scramble_state, sobol_state

__all__ = ["SobolEngine"]


def _count(what: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise TypeError(f"SobolEngine.{what}: expected a non-negative int, got {n!r}")
    return int(n)


class SobolEngine:
    """An engine for (scrambled) Sobol sequences of ``dimension`` up to 21201 (``MAXDIM``)."""

    MAXBIT = MAXBIT
    MAXDIM = MAXDIM

    def __init__(self, dimension: int, scramble: bool = False, seed: int | None = None) -> None:
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError(f"Supported range of dimensionality for SobolEngine is [1, {self.MAXDIM}]")
        self.seed = seed
        self.scramble = scramble
        self.dimension = int(dimension)
        state = sobol_state(self.dimension)
        if not self.scramble:
            shift = np.zeros(self.dimension, dtype=np.int64)
        else:
            shift, state = self._scramble(state)
        self.sobolstate = glassgrad.tensor(state, dtype=glassgrad.long)
        self.shift = glassgrad.tensor(shift, dtype=glassgrad.long)
        self.quasi = self.shift.clone()
        self._first_point = (self.quasi / 2**self.MAXBIT).reshape(1, -1)
        self.num_generated = 0

    def _scramble(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = None
        if self.seed is not None:
            g = glassgrad.Generator()
            g.manual_seed(self.seed)
        shift_ints = glassgrad.randint(2, (self.dimension, self.MAXBIT), generator=g).numpy()
        shift = shift_ints @ (np.int64(1) << np.arange(self.MAXBIT, dtype=np.int64))
        ltm = np.tril(glassgrad.randint(2, (self.dimension, self.MAXBIT, self.MAXBIT), generator=g).numpy())
        return shift, scramble_state(state, ltm)

    def _advance(self, n: int, start: int) -> np.ndarray:
        """The next ``n`` states after ``quasi`` (Gray-code steps from index ``start``)."""
        quasi = self.quasi.numpy().astype(np.int64)
        if n <= 0:
            return np.empty((0, self.dimension), dtype=np.int64)
        index = np.arange(start, start + n, dtype=np.int64)
        lowest_zero = np.zeros(n, dtype=np.int64)
        rest = index.copy()
        while (odd := (rest & 1) == 1).any():
            lowest_zero += odd
            rest = np.where(odd, rest >> 1, rest)
        steps = self.sobolstate.numpy()[:, lowest_zero].T  # (n, dimension)
        points = np.bitwise_xor.accumulate(steps, axis=0) ^ quasi
        self.quasi = glassgrad.tensor(points[-1], dtype=glassgrad.long)
        return points

    def draw(self, n: int = 1, out: Any = None, dtype: Any = None) -> Any:
        """The next ``n`` points, ``(n, dimension)``, in ``dtype`` (default: the default dtype)."""
        n = _count("draw", n)
        if dtype is None:
            dtype = glassgrad.get_default_dtype()
        if self.num_generated == 0:
            if n == 0:  # PyTorch asks its kernel for n - 1 points here
                raise RuntimeError(
                    f"SobolEngine.draw: n=0 before the first point would draw -1 points "
                    f"(shape [-1, {self.dimension}]); expected n >= 1"
                )
            first = self._first_point.to(dtype)
            rest = self._advance(n - 1, 0)
            result = glassgrad.cat((first, glassgrad.tensor(rest * 2.0**-self.MAXBIT).to(dtype)), dim=-2)
        else:
            rest = self._advance(n, self.num_generated - 1)
            result = glassgrad.tensor(rest * 2.0**-self.MAXBIT).to(dtype)
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m: int, out: Any = None, dtype: Any = None) -> Any:
        """The next ``2**m`` points; the total drawn must stay a power of 2."""
        n = 2 ** _count("draw_base2", m)
        total_n = self.num_generated + n
        if not (total_n & (total_n - 1) == 0):
            raise ValueError(
                "The balance properties of Sobol' points require "
                f"n to be a power of 2. {self.num_generated} points have been "
                f"previously generated, then: n={self.num_generated}+2**{m}={total_n}. "
                "If you still want to do this, please use "
                "'SobolEngine.draw()' instead."
            )
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self) -> SobolEngine:
        """Back to the first point."""
        self.quasi = self.shift.clone()
        self.num_generated = 0
        return self

    def fast_forward(self, n: int) -> SobolEngine:
        """Skip ``n`` points, as drawing them would."""
        n = _count("fast_forward", n)
        if self.num_generated == 0:
            self._advance(n - 1, 0)
        else:
            self._advance(n, self.num_generated - 1)
        self.num_generated += n
        return self

    def __repr__(self) -> str:
        fmt_string = [f"dimension={self.dimension}"]
        if self.scramble:
            fmt_string += ["scramble=True"]
        if self.seed is not None:
            fmt_string += [f"seed={self.seed}"]
        return self.__class__.__name__ + "(" + ", ".join(fmt_string) + ")"
