"""``LRScheduler``: the base of the learning-rate schedules, with PyTorch's stepping rules.

A scheduler owns a counter ``last_epoch`` (steps taken, -1 before the first) and, on each
``step()``, advances it and writes a new ``lr`` into every param group of its optimizer. Most
schedules are written, as in PyTorch, in a *chainable* form that multiplies the group's current
``lr`` (so two schedulers on one optimizer compose); where the restart of a schedule needs it
(``SequentialLR``), a closed form from ``base_lrs`` is used instead.
"""

from __future__ import annotations

import functools
import warnings
import weakref
from typing import Any

from glassgrad.optim.optimizer import Optimizer
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "EPOCH_DEPRECATION_WARNING",
    "LRScheduler",
    "group_values",
    "per_group",
    "set_lr",
    "set_momentum",
    "start_momentum_cycle",
    "warn_get_lr_outside_step",
]


def set_lr(group: dict[str, Any], value: Any) -> None:
    """``group["lr"] = value``, or, for a tensor lr, ``value`` written into it (as PyTorch): a program
    that holds the tensor (or an optimizer step that reads it) sees the schedule's rate."""
    _update_param_group_val(group, "lr", value)


def _update_param_group_val(param_group: dict[str, Any], key: str, val: Any) -> None:
    """PyTorch's helper of that name (custom schedulers that copy its ``step`` import it):
    ``param_group[key] = val``, or ``val`` written into the tensor held there."""
    current = param_group[key]
    if isinstance(current, Tensor):
        current.fill_(val.reshape(()) if isinstance(val, Tensor) else val)
    else:
        param_group[key] = val


# PyTorch's words: programs filter the warning by them (``filterwarnings(message="The epoch parameter")``)
EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being "
    "deprecated where possible. Please use `scheduler.step()` to step the "
    "scheduler. During the deprecation, if epoch is different from None, the "
    "closed form is used instead of the new chainable form, where available. "
    "Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose."
)


def group_values(optimizer: Optimizer, key: str) -> list[Any]:
    """``group[key]`` of each param group, a tensor copied (as PyTorch): a tensor lr is changed in
    place by the next step, which must not change ``get_last_lr()`` or ``base_lrs`` with it."""
    return [
        value.clone() if isinstance(value := group[key], Tensor) else value
        for group in optimizer.param_groups
    ]


class LRScheduler:
    """Base class of the learning-rate schedulers (``torch.optim.lr_scheduler.LRScheduler``).

    Creating a scheduler records each group's starting rate as ``group["initial_lr"]`` (the
    ``base_lrs``) and takes the schedule's step 0 at once, so the optimizer's ``lr`` is the
    schedule's first value before any training step. Call ``scheduler.step()`` after
    ``optimizer.step()``, once per epoch or per batch as the schedule intends.

    Args:
        optimizer: the optimizer whose groups' ``lr`` this sets.
        last_epoch: index of the last step taken; -1 starts afresh, other values resume (the
            groups must then already hold ``initial_lr``, as after ``load_state_dict``).

    Subclasses define ``get_lr()`` (the chainable rule, using ``self.last_epoch``) and may define
    ``_get_closed_form_lr()``.
    """

    _is_initial: bool = False
    # True only while step() asks get_lr() for the new rates; set on the instance, so state_dict()
    # carries it, as PyTorch's does
    _get_lr_called_within_step: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                lr = group["lr"]  # a tensor lr is copied: it is changed in place below
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, Tensor) else lr)
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: expected 'initial_lr' in param_groups[{i}] to resume at "
                        f"last_epoch={last_epoch}; load the optimizer's state_dict first"
                    )
        self.base_lrs: list[float] = group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _track_step_called(optimizer)
        self._initial_step()

    def _initial_step(self) -> None:
        """Take step 0: set each group's ``lr`` to the schedule's first value."""
        self._step_count = 0
        with _initial_mode(self):
            self.step()

    def get_lr(self) -> list[float]:
        """The new ``lr`` of each group at ``self.last_epoch`` (called by ``step()``)."""
        raise NotImplementedError(f"{type(self).__name__}: get_lr() is not implemented")

    def get_last_lr(self) -> list[float]:
        """The ``lr`` of each group as this scheduler last set it."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance the schedule one step (or jump to ``epoch``, PyTorch's deprecated form)."""
        if self._step_count == 1 and not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
            # a step replaced after this scheduler wrapped it cannot tell whether it ran (PyTorch's
            # warning, in place of the one below)
            warnings.warn(
                "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                "initialization. Please, make sure to call `optimizer.step()` before "
                "`lr_scheduler.step()`. See more details at "
                "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        elif self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            # the first step() after the initial one, before any optimizer.step(): the schedule's
            # first value is skipped (PyTorch's warning, pytorch/pytorch#20124)
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
                "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
                "will result in PyTorch skipping the first value of the learning rate schedule. "
                "See more details at "
                "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(
                EPOCH_DEPRECATION_WARNING,
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self._get_lr_in_step()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self._get_lr_in_step()
        self._set_lrs(values)

    def _get_lr_in_step(self) -> list[float]:
        """``get_lr()`` as ``step()`` calls it (the built-in schedules warn when it is called by hand)."""
        with _enable_get_lr_call(self):
            return self.get_lr()

    def _set_lrs(self, values: list[float]) -> None:
        """Write one ``lr`` per group and remember them for ``get_last_lr()``."""
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            set_lr(group, lr)
        self._last_lr = self._group_lrs()

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (as PyTorch): counters, base_lrs, options."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes saved by ``state_dict()``."""
        self.__dict__.update(state_dict)

    def _group_lrs(self) -> list[float]:
        """Each group's current ``lr`` (a tensor lr copied): the schedules' 'no change' answer."""
        return group_values(self.optimizer, "lr")


class _enable_get_lr_call:  # noqa: N801 - PyTorch's name, imported by custom schedulers
    """``with _enable_get_lr_call(scheduler):``, as PyTorch's: a ``get_lr()`` inside counts as called
    from ``step()`` (no outside-step warning). Custom schedulers that copy PyTorch's ``step`` (or
    its ``_update_lr``) wrap their ``get_lr()`` call in it."""

    def __init__(self, o: LRScheduler) -> None:
        self.o = o

    def __enter__(self) -> _enable_get_lr_call:
        self.o._get_lr_called_within_step = True
        return self

    def __exit__(self, type: Any, value: Any, traceback: Any) -> None:  # noqa: A002 - PyTorch's names
        self.o._get_lr_called_within_step = False


class _initial_mode:  # noqa: N801 - PyTorch's name
    """``with _initial_mode(scheduler):``, as PyTorch's: the step inside is the constructor's first
    one (``_is_initial``), which sets the starting rates instead of advancing them."""

    def __init__(self, o: LRScheduler) -> None:
        self.o = o

    def __enter__(self) -> None:
        self.o._is_initial = True

    def __exit__(self, type: Any, value: Any, traceback: Any) -> None:  # noqa: A002 - PyTorch's names
        self.o._is_initial = False


class _LRScheduler(LRScheduler):
    """PyTorch's old name for ``LRScheduler``, still subclassed by published schedulers (a subclass,
    not an alias, so ``__name__`` and ``isinstance`` checks read as in PyTorch; not in ``__all__``)."""


def _track_step_called(optimizer: Optimizer) -> None:
    """Wrap ``optimizer.step`` so that calling it sets ``optimizer._opt_called``, as PyTorch's
    schedulers do: ``LRScheduler.step()`` warns when it runs before the optimizer ever stepped.
    Wrapped once per optimizer; a ``step`` that is not a bound method is left as it is."""
    step = optimizer.step
    func = getattr(step, "__func__", None)
    if hasattr(step, "_wrapped_by_lr_sched") or func is None:
        return
    opt_ref = weakref.ref(optimizer)  # no cycle: the optimizer holds the wrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        opt = opt_ref()
        opt._opt_called = True  # type: ignore[union-attr]
        return func.__get__(opt, type(opt))(*args, **kwargs)

    wrapper._wrapped_by_lr_sched = True  # type: ignore[attr-defined]
    optimizer.step = wrapper  # type: ignore[method-assign]


def warn_get_lr_outside_step(scheduler: LRScheduler) -> None:
    """PyTorch's built-in schedules warn when ``get_lr()`` is called outside ``step()``: being
    chainable, it then answers the *next* rate, not the current one."""
    if not scheduler._get_lr_called_within_step:
        warnings.warn(
            "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def _format_param(name: str, optimizer: Optimizer, param: Any) -> list[Any]:
    """PyTorch's helper of that name: ``param`` for each param group (see ``per_group``)."""
    return per_group(name, name, optimizer, param)


# PyTorch's names of two helpers above, imported by custom schedulers that copy its code
_param_groups_val_list = group_values
_warn_get_lr_called_within_step = warn_get_lr_outside_step


def per_group(owner: str, name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """``value`` for each param group: a list of one per group, or one value repeated (a tensor
    copied, as PyTorch's ``_format_param``: the schedule must not alias the user's tensor)."""
    if isinstance(value, list | tuple):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{owner}: expected one {name} per param group ({len(optimizer.param_groups)}), got {len(value)}"
            )
        values = list(value)
    else:
        values = [value] * len(optimizer.param_groups)
    return [v.clone() if isinstance(v, Tensor) else v for v in values]


def start_momentum_cycle(
    owner: str, optimizer: Optimizer, base_momentum: Any, max_momentum: Any, last_epoch: int
) -> tuple[bool, list[float], list[float]]:
    """For a schedule with ``cycle_momentum=True``: ``(use_beta1, base_momentums, max_momentums)``.

    The cycled value is ``betas[0]`` if the optimizer has ``betas`` (Adam), else ``momentum``. On a
    fresh start (``last_epoch == -1``) each group's momentum is set to its max and the group records
    ``max_momentum`` and ``base_momentum``, as PyTorch's ``CyclicLR`` and ``OneCycleLR`` do.
    """
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            f"{owner}: cycle_momentum=True needs an optimizer with momentum or betas, "
            f"got {type(optimizer).__name__}"
        )
    use_beta1 = "betas" in optimizer.defaults
    lows = per_group(owner, "base_momentum", optimizer, base_momentum)
    highs = per_group(owner, "max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for high, low, group in zip(highs, lows, optimizer.param_groups):
            set_momentum(group, high, use_beta1)
            group["max_momentum"] = high
            group["base_momentum"] = low
    return use_beta1, lows, highs


def set_momentum(group: dict[str, Any], value: float, use_beta1: bool) -> None:
    """Set a group's ``betas[0]`` (if ``use_beta1``) or its ``momentum`` to ``value``."""
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value
