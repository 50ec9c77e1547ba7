"""Schedules made of schedules: ``SequentialLR`` (one after another) and ``ChainedScheduler``
(all at once, their factors multiplying)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from glassgrad.optim.lr_scheduler.base import LRScheduler, set_lr
from glassgrad.optim.lr_scheduler.plateau import ReduceLROnPlateau
from glassgrad.optim.optimizer import Optimizer

__all__ = ["SequentialLR", "ChainedScheduler"]


def _check_schedulers(owner: str, optimizer: Optimizer, schedulers: Sequence[LRScheduler]) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{owner}: expected at least one scheduler, got none")
    for i, s in enumerate(schedulers):
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{owner}: expected schedulers, got {type(s).__name__} at index {i}")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{owner}: cannot hold ReduceLROnPlateau (index {i}): its step() needs a metric")
        if s.optimizer is not optimizer:
            raise ValueError(
                f"{owner}: expected all schedulers on the same optimizer, got {type(s).__name__} at index {i} "
                "on another one"
            )


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]``, and so on.

    Each scheduler restarts at its milestone: it is put at its step 0 with its closed form (as
    PyTorch does), e.g. ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5),
    CosineAnnealingLR(opt, T_max=95)], milestones=[5])`` for a warm-up then a cosine decay.

    Args:
        optimizer: the optimizer all the schedulers belong to.
        schedulers: the schedules, in order (created just before, on ``optimizer``).
        milestones: the steps at which the next schedule starts (one fewer than schedulers).
        last_epoch: the step to resume from (-1 to start).
    """

    def __init__(
        self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int], last_epoch: int = -1
    ) -> None:
        _check_schedulers("SequentialLR", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: expected {len(schedulers) - 1} milestones for {len(schedulers)} schedulers, "
                f"got {len(milestones)}"
            )
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Creating each scheduler took its step 0; undo them all and take only the first one's.
        for group in optimizer.param_groups:
            set_lr(group, group["initial_lr"])
        self.recursive_undo()
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def recursive_undo(self, sched: Any = None) -> None:
        """Take back the step each held scheduler (``sched``'s, or this one's when None) took when
        it was created, nested ones included (PyTorch's public name for it)."""
        scheduler = self if sched is None else sched
        if hasattr(scheduler, "_schedulers"):
            for s in scheduler._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]
        """Step the schedule in charge; at a milestone, restart the next one at its step 0."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        self.__dict__.update(state)
        for s, s_state in zip(self._schedulers, saved):
            s.load_state_dict(s_state)


class ChainedScheduler(LRScheduler):
    """Step several schedulers together each time, so their factors multiply.

    Args:
        schedulers: the schedules (chainable ones, on one optimizer).
        optimizer: that optimizer (default: the first scheduler's).
    """

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None) -> None:
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler: expected at least one scheduler, got none")
        optimizer = optimizer or schedulers[0].optimizer
        _check_schedulers("ChainedScheduler", optimizer, schedulers)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = self._group_lrs()

    def step(self) -> None:  # type: ignore[override]
        """Step every scheduler once."""
        for s in self._schedulers:
            s.step()
        self._last_lr = self._group_lrs()

    state_dict = SequentialLR.state_dict
    load_state_dict = SequentialLR.load_state_dict
