"""``NoamLR``: the warm-up then inverse-square-root schedule of "Attention Is All You Need"."""

from __future__ import annotations

from glassgrad.optim.lr_scheduler.base import LRScheduler
from glassgrad.optim.optimizer import Optimizer

__all__ = ["NoamLR", "noam_lr"]


def noam_lr(step: int, d_model: int, warmup_steps: int, factor: float = 1.0) -> float:
    """``factor * d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5)`` for ``step >= 1``.

    >>> noam_lr(4000, d_model=512, warmup_steps=4000)  # the peak, at step == warmup_steps
    0.0006987712429686843
    """
    return factor * d_model**-0.5 * min(step**-0.5, step * warmup_steps**-1.5)


class NoamLR(LRScheduler):
    r"""The Transformer's schedule (Vaswani et al., 2017, §5.3); no PyTorch equivalent.

    ``lr = factor · d_model^-1/2 · min(s^-1/2, s · warmup_steps^-3/2)`` with ``s = last_epoch + 1``:
    a linear rise for ``warmup_steps`` steps, peaking at ``s == warmup_steps``, then decay as
    1/√s. Steps count from 1, so the first lr (set when the scheduler is made) is already above
    zero. It SETS the lr: the optimizer's own lr is ignored (pass ``lr=1.0`` to make that plain;
    ``factor`` scales the whole schedule). Step it once per batch.

    It equals ``LambdaLR(opt, lambda e: noam_lr(e + 1, d_model, warmup_steps, factor))`` on an
    optimizer with ``lr=1.0``.

    Args:
        optimizer: the optimizer to schedule.
        d_model: the model width; larger models get smaller rates.
        warmup_steps: the length of the rise.
        factor: scales the schedule.
        last_epoch: the step to resume from (-1 to start).
    """

    def __init__(
        self, optimizer: Optimizer, d_model: int, warmup_steps: int, factor: float = 1.0, last_epoch: int = -1
    ) -> None:
        if not isinstance(d_model, int) or d_model <= 0:
            raise ValueError(f"NoamLR: expected a positive integer d_model, got {d_model!r}")
        if not isinstance(warmup_steps, int) or warmup_steps <= 0:
            raise ValueError(f"NoamLR: expected a positive integer warmup_steps, got {warmup_steps!r}")
        if not factor > 0:
            raise ValueError(f"NoamLR: expected factor > 0, got {factor!r}")
        self.d_model = d_model
        self.warmup_steps = warmup_steps
        self.factor = factor
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lr = noam_lr(self.last_epoch + 1, self.d_model, self.warmup_steps, self.factor)
        return [lr] * len(self.optimizer.param_groups)

    _get_closed_form_lr = get_lr
