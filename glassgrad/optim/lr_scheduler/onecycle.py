"""``OneCycleLR``: Smith's 1cycle policy — warm up to max_lr, then anneal far below the start,
cycling the momentum the opposite way."""

from __future__ import annotations

import math
from typing import Literal

from glassgrad.optim.lr_scheduler.base import (
    LRScheduler,
    per_group,
    set_momentum,
    start_momentum_cycle,
    warn_get_lr_outside_step,
)
from glassgrad.optim.optimizer import Optimizer

__all__ = ["OneCycleLR"]


class OneCycleLR(LRScheduler):
    r"""The 1cycle schedule (Smith & Topin, 2018), as ``torch.optim.lr_scheduler.OneCycleLR``; step it per batch.

    Phases, over ``total_steps`` (or ``epochs * steps_per_epoch``) steps::

        two-phase (default)                         three_phase=True
        1. initial_lr → max_lr   (pct_start)        1. initial_lr → max_lr      (pct_start)
        2. max_lr → min_lr       (the rest)         2. max_lr → initial_lr      (pct_start)
                                                    3. initial_lr → min_lr      (the rest)

    with ``initial_lr = max_lr / div_factor`` and ``min_lr = initial_lr / final_div_factor``; each
    phase anneals by half a cosine (``"cos"``) or a line (``"linear"``). The optimizer's own lr
    is ignored. With ``cycle_momentum`` the momentum (SGD, RMSprop) or β₁ (Adam) moves the other
    way, from max_momentum down to base_momentum while the lr rises, and back. The groups gain
    the keys ``initial_lr``, ``max_lr``, ``min_lr``, ``max_momentum``, ``base_momentum``.

    Args:
        optimizer: the optimizer to schedule.
        max_lr: the peak rate (or one per group).
        total_steps: the schedule's length; or give epochs and steps_per_epoch.
        epochs: number of epochs.
        steps_per_epoch: batches per epoch.
        pct_start: the share of the steps spent rising.
        anneal_strategy: ``"cos"`` or ``"linear"``.
        cycle_momentum: cycle momentum / β₁ inversely to the lr.
        base_momentum: the lowest momentum (or one per group).
        max_momentum: the highest momentum (or one per group).
        div_factor: initial_lr = max_lr / div_factor.
        final_div_factor: min_lr = initial_lr / final_div_factor.
        three_phase: use the three-phase schedule.
        last_epoch: the step to resume from (-1 to start).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"OneCycleLR: expected a positive integer total_steps, got {total_steps!r}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not isinstance(value, int) or value <= 0:
                    raise ValueError(f"OneCycleLR: expected a positive integer {name}, got {value!r}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: expected total_steps, or epochs and steps_per_epoch")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: expected a float 0 <= pct_start <= 1, got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: expected anneal_strategy 'cos' or 'linear', got {anneal_strategy!r}"
            )
        self._anneal_func_type = anneal_strategy
        # Each phase: the step it ends at, and the group keys its lr and momentum run between.
        rise = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                dict(end_step=rise, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr",
                     end_lr="initial_lr", start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum"),
            ]  # fmt: skip
        else:
            self._schedule_phases = [
                dict(end_step=rise, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
            ]  # fmt: skip
        max_lrs = per_group("OneCycleLR", "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, _, _ = start_momentum_cycle(
                "OneCycleLR", optimizer, base_momentum, max_momentum, last_epoch
            )
        super().__init__(optimizer, last_epoch)

    def _anneal_func(self, start: float, end: float, pct: float) -> float:
        """The value ``pct`` (0 to 1) of the way from ``start`` to ``end``, by ``anneal_strategy``.

        PyTorch's names: a subclass may replace ``_annealing_cos``/``_annealing_linear``, and a
        scheduler restored from before ``_anneal_func_type`` existed carries its function as
        ``anneal_func`` instead."""
        kind = getattr(self, "_anneal_func_type", None)
        if kind is None:
            return self.anneal_func(start, end, pct)  # type: ignore[attr-defined]
        if kind == "cos":
            return self._annealing_cos(start, end, pct)
        if kind == "linear":
            return self._annealing_linear(start, end, pct)
        raise ValueError(f"OneCycleLR: expected _anneal_func_type 'cos' or 'linear', got {kind!r}")

    @staticmethod
    def _annealing_cos(start: float, end: float, pct: float) -> float:
        """Half a cosine from ``start`` (pct 0) to ``end`` (pct 1)."""
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)

    @staticmethod
    def _annealing_linear(start: float, end: float, pct: float) -> float:
        """A line from ``start`` (pct 0) to ``end`` (pct 1)."""
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        warn_get_lr_outside_step(self)
        step = self.last_epoch
        if step > self.total_steps:
            # PyTorch's sentence, which scripts match to stop a run at the schedule's end
            raise ValueError(
                f"OneCycleLR: Tried to step {step} times. The specified number of total steps is {self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentum = self._anneal_func(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                        )
                        set_momentum(group, momentum, self.use_beta1)
                    break
                start_step = end_step
        return lrs
