"""``CyclicLR``: Smith's cyclical learning rates — a triangle wave between base_lr and max_lr."""

from __future__ import annotations

import functools
import math
import types
from collections.abc import Callable
from typing import Any, Literal

from glassgrad.optim.lr_scheduler.base import (
    LRScheduler,
    per_group,
    set_lr,
    set_momentum,
    start_momentum_cycle,
    warn_get_lr_outside_step,
)
from glassgrad.optim.optimizer import Optimizer

__all__ = ["CyclicLR"]

_SCALE_MODES = {"triangular": "cycle", "triangular2": "cycle", "exp_range": "iterations"}


class CyclicLR(LRScheduler):
    r"""Cyclical learning rates (Smith, 2017), as ``torch.optim.lr_scheduler.CyclicLR``; step it per batch.

    At step t, with one cycle = step_size_up + step_size_down steps::

        cycle = ⌊1 + t / cycle_len⌋                 (counting from 1)
        x = position within the cycle, in [0, 1)
        h = x / r            while rising (x ≤ r, r = step_size_up / cycle_len)
            (1 − x) / (1 − r) while falling          (so h runs 0 → 1 → 0)
        lr = base_lr + (max_lr − base_lr) · h · scale

    where ``scale`` is 1 (``"triangular"``), 1 / 2^(cycle − 1) (``"triangular2"``: each cycle's
    amplitude halves), γᵗ (``"exp_range"``), or ``scale_fn(cycle)`` / ``scale_fn(t)`` (with
    ``scale_mode`` ``"cycle"`` / ``"iterations"``). With ``cycle_momentum`` the momentum (SGD,
    RMSprop) or β₁ (Adam) moves the other way, ``max_momentum − (max_momentum − base_momentum)·h·scale``.
    The optimizer's own lr is replaced by base_lr at construction.

    Args:
        optimizer: the optimizer to schedule.
        base_lr: the lower rate (or one per group).
        max_lr: the upper rate (or one per group); the peak is reached only with scale 1.
        step_size_up: steps rising in each cycle.
        step_size_down: steps falling (default: step_size_up).
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"`` (ignored if scale_fn is given).
        gamma: γ of ``"exp_range"``.
        scale_fn: a custom amplitude function of one argument, with values in [0, 1].
        scale_mode: what scale_fn receives: ``"cycle"`` (the cycle number) or ``"iterations"`` (t).
        cycle_momentum: cycle momentum / β₁ inversely to the lr.
        base_momentum: the lowest momentum (or one per group).
        max_momentum: the highest momentum (or one per group).
        last_epoch: the step to resume from (-1 to start).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: Literal["triangular", "triangular2", "exp_range"] = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: Literal["cycle", "iterations"] = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float = 0.8,
        max_momentum: float = 0.9,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"CyclicLR: expected an Optimizer, got {type(optimizer).__name__}")
        base_lrs = per_group("CyclicLR", "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                set_lr(group, lr)
        self.max_lrs = per_group("CyclicLR", "max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        if up <= 0 or down < 0:
            raise ValueError(f"CyclicLR: expected step_size_up > 0 and step_size_down >= 0, got {up}, {down}")
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if scale_fn is None and mode not in _SCALE_MODES:
            raise ValueError(f"CyclicLR: expected mode in {sorted(_SCALE_MODES)} or a scale_fn, got {mode!r}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: expected scale_mode 'cycle' or 'iterations', got {scale_mode!r}")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = start_momentum_cycle(
                "CyclicLR", optimizer, base_momentum, max_momentum, last_epoch
            )
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        """Pick the built-in mode's amplitude function and its ``scale_mode`` (PyTorch's private
        hook, read by programs as ``_scale_fn_ref``). ``"exp_range"`` binds ``gamma`` now, as
        PyTorch's does: a later ``self.gamma = ...`` changes nothing until ``load_state_dict``."""
        if self._scale_fn_custom is not None:
            return
        if self.mode == "triangular":
            self._scale_fn_ref = self._triangular_scale_fn
        elif self.mode == "triangular2":
            self._scale_fn_ref = self._triangular2_scale_fn
        else:
            self._scale_fn_ref = functools.partial(self._exp_range_scale_fn, self.gamma)
        self.scale_mode = _SCALE_MODES[self.mode]

    def scale_fn(self, x: float) -> float:
        """The amplitude factor at cycle number / step ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    @staticmethod
    def _triangular_scale_fn(x: float) -> float:
        return 1.0

    @staticmethod
    def _triangular2_scale_fn(x: float) -> float:
        return 1 / (2.0 ** (x - 1))

    @staticmethod
    def _exp_range_scale_fn(gamma: float, x: float) -> float:
        return gamma**x

    def get_lr(self) -> list[float]:
        warn_get_lr_outside_step(self)
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        h = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else t)
        lrs = [base + (top - base) * h * scale for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                set_momentum(group, high - (high - low) * h * scale, self.use_beta1)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """As the base's, but a custom scale_fn is kept only if it is a callable object (its
        ``__dict__``), as in PyTorch: functions and lambdas cannot be saved."""
        state = super().state_dict()
        state.pop("_scale_fn_ref", None)  # rebuilt from ``mode`` and ``gamma`` on loading
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None
        if fn is not None and not isinstance(fn, types.FunctionType):
            state["_scale_fn_custom"] = dict(fn.__dict__)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes; a saved callable object's ``__dict__`` is restored into the current
        one, and a built-in mode's amplitude function is rebuilt from the loaded ``mode``/``gamma``."""
        fn_state = state_dict.pop("_scale_fn_custom", None)
        super().load_state_dict(state_dict)
        state_dict["_scale_fn_custom"] = fn_state
        if fn_state is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(fn_state)
        self._init_scale_fn()
