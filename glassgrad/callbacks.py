"""What ``fit`` reports and listens to: the per-epoch ``History``, ``Callback`` hooks,
``StopTraining`` and ``EarlyStopping``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["History", "Callback", "StopTraining", "EarlyStopping"]


class History:
    """Per-epoch records of a ``fit`` run (index ``i`` is epoch ``i``).

    Attributes:
        loss: mean training loss (weighted by batch size).
        val_loss: mean validation loss (empty without a ``val_loader``).
        metrics: name -> values; training metrics under their name, validation ones as ``val_<name>``.
        lr: learning rate of the first param group during the epoch.
        grad_norm: mean total gradient norm per step (before clipping).
        epoch_time: seconds per epoch.
        stopped_early: early stopping ended the run.
        best_epoch: the best epoch by the early-stopping monitor (None without early stopping).
    """

    _LISTS = ("loss", "val_loss", "lr", "grad_norm", "epoch_time")
    loss: list[float]
    val_loss: list[float]
    lr: list[float]
    grad_norm: list[float]
    epoch_time: list[float]

    def __init__(self) -> None:
        for k in self._LISTS:
            setattr(self, k, [])
        self.metrics: dict[str, list[float]] = {}
        self.stopped_early = False
        self.best_epoch: int | None = None

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def state_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: list(getattr(self, k)) for k in self._LISTS}
        out["metrics"] = {k: list(v) for k, v in self.metrics.items()}
        return {**out, "stopped_early": self.stopped_early, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for k in self._LISTS:
            setattr(self, k, list(state[k]))
        self.metrics = {k: list(v) for k, v in state["metrics"].items()}
        self.stopped_early, self.best_epoch = state["stopped_early"], state["best_epoch"]

    def __repr__(self) -> str:
        last = f", last loss {self.loss[-1]:.4g}" if self.loss else ""
        return f"History({self.epochs} epochs{last}, metrics {sorted(self.metrics)})"


class StopTraining(Exception):  # noqa: N818 - a signal to stop, not an error
    """Raise from a callback to end ``fit`` after the current epoch's bookkeeping."""


class Callback:
    """Hooks into ``fit``; override what you need. ``logs`` holds the epoch's numbers so far.

    A plain callable passed in ``callbacks`` is called as ``on_epoch_end(epoch, logs)``.
    """

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None: ...

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None: ...

    def on_train_end(self, logs: dict[str, Any]) -> None: ...


class EarlyStopping:
    """Stop when a monitored number has not improved for ``patience`` epochs.

    Args:
        monitor: a key of the epoch logs: ``"val_loss"``, ``"loss"``, ``"val_acc"``, ...
        patience: epochs without improvement to allow.
        min_delta: an improvement must beat the best by more than this.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for names containing "acc", else min).
        restore_best_weights: load the best epoch's weights back when training ends.

    A NaN value is never an improvement (a warning says so); it counts towards ``patience``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        if mode not in ("min", "max", "auto"):
            raise ValueError(f"EarlyStopping: expected mode 'min', 'max' or 'auto', got {mode!r}")
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        self.restore_best_weights = restore_best_weights
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.best_state: dict[str, Tensor] | None = None

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        return (
            value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        )

    def update(self, epoch: int, value: float, model: Any) -> bool:
        """Record an epoch's value; True when training should stop.

        NaN is never an improvement (every comparison with it is false, so a NaN best would stop
        every later epoch from counting): it counts as an epoch without one, with a warning.
        """
        if math.isnan(value):
            warnings.warn(
                f"EarlyStopping: {self.monitor} is nan at epoch {epoch}; counted as no improvement",
                RuntimeWarning,
                stacklevel=user_stacklevel(),
            )
        elif self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = {
                    k: Tensor(v._data.copy(), _wrap=True) for k, v in model.state_dict().items()
                }
            return False
        self.wait += 1
        return self.wait >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("best", "best_epoch", "wait", "best_state")}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for k in ("best", "best_epoch", "wait", "best_state"):
            setattr(self, k, state[k])
