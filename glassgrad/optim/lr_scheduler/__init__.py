"""Learning-rate schedules, as ``torch.optim.lr_scheduler`` (plus ``NoamLR``).

>>> import glassgrad as gg
>>> from glassgrad.optim import SGD
>>> from glassgrad.optim.lr_scheduler import StepLR
>>> opt = SGD([gg.tensor([1.0], requires_grad=True)], lr=1.0)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for _ in range(5):
...     opt.step()  # (after backward) update the weights first, then the schedule
...     lrs.append(sched.get_last_lr()[0])
...     sched.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

# _LRScheduler and PyTorch's module-level helpers are out of PyTorch's __all__ too; custom schedulers
# import the helpers to copy its step() (``with _enable_get_lr_call(self): values = self.get_lr()``)
# or to warn with its words
from glassgrad.optim.lr_scheduler.base import (  # noqa: F401
    EPOCH_DEPRECATION_WARNING,
    LRScheduler,
    _enable_get_lr_call,
    _format_param,
    _initial_mode,
    _LRScheduler,
    _param_groups_val_list,
    _update_param_group_val,
    _warn_get_lr_called_within_step,
)
from glassgrad.optim.lr_scheduler.composite import ChainedScheduler, SequentialLR
from glassgrad.optim.lr_scheduler.cyclic import CyclicLR
from glassgrad.optim.lr_scheduler.noam import NoamLR
from glassgrad.optim.lr_scheduler.onecycle import OneCycleLR
from glassgrad.optim.lr_scheduler.plateau import ReduceLROnPlateau
from glassgrad.optim.lr_scheduler.restarts import CosineAnnealingWarmRestarts
from glassgrad.optim.lr_scheduler.schedules import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "SequentialLR",
    "ChainedScheduler",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "NoamLR",
]

# PyTorch defines every schedule in torch.optim.lr_scheduler itself, and scripts test it:
# d2l's train() asks `scheduler.__module__ == lr_scheduler.__name__` to tell a built-in schedule
# (stepped with .step()) from a plain function of the epoch. Ours live in submodules; name them here.
for _name in [*__all__, "_LRScheduler"]:
    globals()[_name].__module__ = __name__
