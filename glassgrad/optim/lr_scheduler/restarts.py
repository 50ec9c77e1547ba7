"""``CosineAnnealingWarmRestarts``: SGDR — cosine annealing that restarts, each period T_mult times longer."""

from __future__ import annotations

import math

from glassgrad.optim.lr_scheduler.base import LRScheduler, warn_get_lr_outside_step
from glassgrad.optim.optimizer import Optimizer

__all__ = ["CosineAnnealingWarmRestarts"]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (Loshchilov & Hutter, 2017), as PyTorch's.

    With T_cur the steps since the last restart and T_i the current period::

        lr = eta_min + (base_lr − eta_min) (1 + cos(π T_cur / T_i)) / 2
        T_cur ← T_cur + 1;  when T_cur reaches T_i:  T_cur ← 0,  T_i ← T_i · T_mult

    so the rate falls from base_lr toward eta_min over T_0 steps, jumps back to base_lr, and
    falls again over T_0·T_mult steps, and so on. ``step(epoch)`` accepts a fractional epoch
    (``scheduler.step(epoch + i / iters)`` inside an epoch of ``iters`` batches) and places the
    schedule there; it is not deprecated here, unlike the other schedulers' ``step(epoch)``.

    Args:
        optimizer: the optimizer to schedule.
        T_0: the first period, in steps (a positive int).
        T_mult: the factor by which each period grows (an int ≥ 1).
        eta_min: the lowest rate.
        last_epoch: the step to resume from (-1 to start).
    """

    def __init__(
        self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a positive int T_0, got {T_0!r}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected an int T_mult >= 1, got {T_mult!r}")
        if not isinstance(eta_min, float | int):
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a number eta_min, got {eta_min!r}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        warn_get_lr_outside_step(self)
        lo, phase = self.eta_min, math.pi * self.T_cur / self.T_i
        return [lo + (base - lo) * (1 + math.cos(phase)) / 2 for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one step, or jump to ``epoch`` (which may be fractional)."""
        # _step_count is left at 0, as PyTorch's override of step() leaves it (it is in state_dict)
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:  # restart
                # A remainder, not a subtraction: built with last_epoch = k, T_cur starts at k + 1.
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        elif epoch < 0:
            raise ValueError(
                f"CosineAnnealingWarmRestarts.step: expected a non-negative epoch, got {epoch!r}"
            )
        elif epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            # periods T_0, T_0 m, T_0 m², ...: n whole periods end at T_0 (mⁿ − 1) / (m − 1)
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**n
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self._get_lr_in_step())
