"""Weight averaging, as ``torch.optim.swa_utils``: stochastic weight averaging (SWA) and
exponential moving averages (EMA) of a model's weights, the SWA learning-rate schedule and the
recomputation of BatchNorm statistics for the averaged weights.

``AveragedModel`` keeps a deep copy of a model and folds the model's current weights into it on
each ``update_parameters(model)``: by default the running mean (SWA), or any rule given as
``avg_fn`` (one tensor at a time) or ``multi_avg_fn`` (lists of tensors of one dtype at a time).
The ``get_*_avg_fn`` factories give the SWA and EMA rules in both forms. ``SWALR`` anneals each
group's lr to ``swa_lr`` and then holds it; ``update_bn`` refills BatchNorm's running statistics
with one pass over the data, since averaged weights make the ones collected in training stale.

>>> import glassgrad as gg
>>> from glassgrad.optim.swa_utils import AveragedModel
>>> model = gg.nn.Linear(1, 1, bias=False)
>>> swa = AveragedModel(model)
>>> for w in (1.0, 2.0, 6.0):
...     with gg.no_grad():
...         _ = model.weight.fill_(w)
...     swa.update_parameters(model)
>>> swa.module.weight.item(), swa.n_averaged.item()
(3.0, 3)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any

from glassgrad import dtypes
from glassgrad.autograd import no_grad
from glassgrad.nn.module import Module
from glassgrad.nn.normalization import _BatchNorm
from glassgrad.optim.lr_scheduler.base import LRScheduler, per_group, warn_get_lr_outside_step
from glassgrad.optim.optimizer import Optimizer

# PyTorch's swa_utils imports these two from torch.utils._foreach_utils, and programs import them
# from here (nequip's EMA: ``from torch.optim.swa_utils import _group_tensors_by_device_and_dtype``)
from glassgrad.optim.optimizer_internals import (  # noqa: F401
    _get_foreach_kernels_supported_devices,
    _group_tensors_by_device_and_dtype,
)
from glassgrad.tensor import Tensor, tensor

__all__ = [
    "AveragedModel",
    "update_bn",
    "SWALR",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
    "get_ema_avg_fn",
    "get_swa_avg_fn",
]

AvgFn = Callable[[Tensor, Tensor, "Tensor | int"], Tensor]
MultiAvgFn = Callable[[list[Tensor], list[Tensor], "Tensor | int"], None]


def _check_decay(op: str, decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"{op}: expected decay in [0, 1], got {decay}")


def _lerps(dtype: Any) -> bool:
    """Whether tensors of ``dtype`` average by lerp (float, complex): integer ones (BatchNorm's
    ``num_batches_tracked``) take the plain formula, truncated back to their dtype by ``copy_``."""
    return dtype.is_floating_point or dtype.is_complex


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """The EMA rule on lists: ``ema <- decay * ema + (1 - decay) * current``, in place.

    The returned ``fn(ema_params, current_params, num_averaged)`` takes two lists of tensors of one
    dtype, pairwise of equal shapes, and ignores ``num_averaged``. ``decay`` must lie in [0, 1].
    """
    _check_decay("get_ema_multi_avg_fn", decay)

    @no_grad()
    def ema_update(ema_param_list: list[Tensor], current_param_list: list[Tensor], _: Any) -> None:
        if not ema_param_list:
            return
        lerp = _lerps(ema_param_list[0].dtype)
        for ema, current in zip(ema_param_list, current_param_list):
            if lerp:
                ema.lerp_(current, 1 - decay)
            else:
                ema.copy_(ema * decay + current * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """The running-mean rule on lists: ``avg <- avg + (current - avg) / (num_averaged + 1)``.

    The returned ``fn(averaged_params, current_params, num_averaged)`` takes two lists of tensors of
    one dtype, pairwise of equal shapes, and a count (an int or a 0-d tensor). On integer tensors it
    truncates as ``get_swa_avg_fn`` does, where PyTorch's foreach version raises.
    """

    @no_grad()
    def swa_update(
        averaged_param_list: list[Tensor], current_param_list: list[Tensor], num_averaged: Any
    ) -> None:
        if not averaged_param_list:
            return
        lerp = _lerps(averaged_param_list[0].dtype)
        for averaged, current in zip(averaged_param_list, current_param_list):
            if lerp:
                averaged.lerp_(current, 1 / (num_averaged + 1))
            else:
                averaged.copy_(averaged + (current - averaged) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """The EMA rule on one tensor: ``fn(ema, current, num_averaged)`` returns
    ``decay * ema + (1 - decay) * current`` (same shape; ``num_averaged`` is ignored)."""
    _check_decay("get_ema_avg_fn", decay)

    @no_grad()
    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> AvgFn:
    """The running-mean rule on one tensor: ``fn(avg, current, num_averaged)`` returns
    ``avg + (current - avg) / (num_averaged + 1)`` (same shape), the mean of ``num_averaged + 1``
    models when ``avg`` is the mean of the first ``num_averaged``."""

    @no_grad()
    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A running average of a model's weights (SWA by default, or EMA, or any rule).

    Holds ``module``, a deep copy of ``model`` (moved to ``device`` if given), and the buffer
    ``n_averaged``, a 0-d int64 tensor counting the updates, so the state_dict keys are
    ``n_averaged`` and ``module.<the model's keys>``. ``update_parameters(model)`` copies the
    model's weights on the first call, then folds them in: with ``multi_avg_fn`` one call per
    dtype on lists of (averaged, current) tensors, with ``avg_fn`` one call per tensor whose result
    is copied into the average, with neither the running mean ``get_swa_avg_fn``. Calling it runs
    the averaged copy: ``forward(*args, **kwargs)`` is ``module(*args, **kwargs)``.

    Args:
        model: the module to average; its weights are copied, it is not changed.
        device: where to keep the copy (None: where ``model`` is).
        avg_fn: ``fn(averaged, current, num_averaged) -> Tensor``, see ``get_ema_avg_fn``.
        multi_avg_fn: ``fn(averaged_list, current_list, num_averaged)`` updating in place.
        use_buffers: average the buffers too (BatchNorm's running statistics); if False they are
            copied from ``model`` on each update, and ``update_bn`` recomputes them afterwards.
    """

    n_averaged: Tensor

    def __init__(
        self,
        model: Module,
        device: Any = None,
        avg_fn: AvgFn | None = None,
        multi_avg_fn: MultiAvgFn | None = None,
        use_buffers: bool = False,
    ) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            # PyTorch asserts this, so a port that catches it still does
            raise AssertionError("AveragedModel: expected at most one of avg_fn and multi_avg_fn, got both")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=dtypes.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The averaged copy's output: ``module(*args, **kwargs)``."""
        return self.module(*args, **kwargs)

    @no_grad()
    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers if ``use_buffers``) into the average.

        Tensors are paired in ``parameters()`` (then ``buffers()``) order, so ``model`` must have
        the structure of the averaged one; each pair has the same shape.
        """
        if self.use_buffers:
            ours = [*self.module.parameters(), *self.module.buffers()]
            theirs = [*model.parameters(), *model.buffers()]
        else:
            ours, theirs = list(self.parameters()), list(model.parameters())
        pairs = [(a.detach(), b.detach().to(a.device)) for a, b in zip(ours, theirs)]
        n = self.n_averaged
        if int(n) == 0:
            for averaged, current in pairs:
                averaged.copy_(current)
        elif self.multi_avg_fn is not None:
            # one call per (device, dtype), as PyTorch groups them for its foreach kernels
            groups: dict[tuple[str, Any], tuple[list[Tensor], list[Tensor]]] = {}
            for averaged, current in pairs:
                group = groups.setdefault((str(averaged.device), averaged.dtype), ([], []))
                group[0].append(averaged)
                group[1].append(current)
            for averaged_list, current_list in groups.values():
                self.multi_avg_fn(averaged_list, current_list, n)
        else:
            avg_fn = self.avg_fn if self.avg_fn is not None else get_swa_avg_fn()
            for averaged, current in pairs:
                averaged.copy_(avg_fn(averaged, current, n))
        if not self.use_buffers:
            # the buffers are not averaged: keep them those of the latest model
            for ours_b, theirs_b in zip(self.module.buffers(), model.buffers()):
                ours_b.detach().copy_(theirs_b.detach().to(ours_b.device))
        self.n_averaged += 1


@no_grad()
def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute the running statistics of every BatchNorm in ``model`` with one pass over ``loader``.

    Each ``_BatchNorm`` has its statistics reset and its momentum set to None (the cumulative
    average over the pass); afterwards the momenta and ``model``'s training mode are restored.
    An item of ``loader`` is the input, or a list/tuple whose first element is (as ``(x, y)``
    batches); it is moved to ``device`` if given. A model without BatchNorm is left untouched.
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for item in loader:
        if isinstance(item, list | tuple):
            item = item[0]
        if device is not None:
            item = item.to(device)
        model(item)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr from its current value to ``swa_lr`` over ``anneal_epochs`` steps,
    then hold it (``torch.optim.swa_utils.SWALR``).

    At step ``s`` (``s = 0`` on creation) with ``t = clamp(s / max(1, anneal_epochs), 0, 1)``
    and ``alpha = t`` ("linear") or ``(1 - cos(pi t)) / 2`` ("cos"), the lr is
    ``alpha * swa_lr + (1 - alpha) * lr0``. It is computed from the group's current lr (``lr0``
    recovered from the previous step's alpha), so it chains with a schedule stepped before it.
    ``anneal_epochs=0`` jumps to ``swa_lr`` at once.

    Args:
        optimizer: the optimizer to schedule; each group records its ``swa_lr``.
        swa_lr: the final lr, one for all groups or a list of one per group.
        anneal_epochs: steps of annealing, an int >= 0.
        anneal_strategy: "cos" or "linear".
        last_epoch: the step to resume from (-1 to start).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | list[float],
        anneal_epochs: int = 10,
        anneal_strategy: str = "cos",
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"SWALR: expected an Optimizer, got {type(optimizer).__name__}")
        swa_lrs = per_group("SWALR", "swa_lr", optimizer, swa_lr)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: expected anneal_strategy 'cos' or 'linear', got {anneal_strategy!r}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: expected anneal_epochs to be an int >= 0, got {anneal_epochs!r}")
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        self._set_anneal_func(anneal_strategy)
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        """The ``lr0`` that ``alpha * swa_lr + (1 - alpha) * lr0`` turned into ``lr``."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[float]:
        warn_get_lr_outside_step(self)
        # the step comes from _step_count, not last_epoch, so step(epoch) does not move it
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / span)))
        alpha = self.anneal_func(max(0, min(1, step / span)))
        groups = self.optimizer.param_groups
        lr0s = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        return [g["swa_lr"] * alpha + lr0 * (1 - alpha) for g, lr0 in zip(groups, lr0s)]

    def state_dict(self) -> dict[str, Any]:
        """As the base, less the anneal function (``_anneal_strategy`` names it)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self._set_anneal_func(self._anneal_strategy)
