"""Optimizers and learning-rate schedules with PyTorch's names, defaults and update rules.

``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad`` follow ``torch.optim`` step for step;
``lr_scheduler`` holds the schedules. Each optimizer's docstring gives its algorithm, and its
``step()`` reads like it.
"""

from glassgrad.optim import lr_scheduler
from glassgrad.optim.adagrad import Adagrad
from glassgrad.optim.adam import Adam, AdamW
from glassgrad.optim.optimizer import Optimizer
from glassgrad.optim.rmsprop import RMSprop
from glassgrad.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
