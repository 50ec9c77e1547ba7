"""Optimizers and learning-rate schedules with PyTorch's names, defaults and update rules.

``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``, ``Adadelta``, ``Adamax``, ``NAdam``, ``RAdam``,
``Rprop``, ``ASGD``, ``LBFGS``, ``Adafactor``, ``SparseAdam`` and ``Muon`` follow ``torch.optim`` step for step;
``lr_scheduler`` holds the schedules and ``swa_utils`` weight averaging (SWA, EMA). Each
optimizer's docstring gives its algorithm, and its ``step()`` reads like it.
"""

import importlib as _importlib

from glassgrad.optim import functional_api as _functional_api
from glassgrad.optim import lr_scheduler, swa_utils
from glassgrad.optim.adadelta import Adadelta
from glassgrad.optim.adafactor import Adafactor
from glassgrad.optim.adagrad import Adagrad
from glassgrad.optim.adam import Adam, AdamW
from glassgrad.optim.adamax import Adamax
from glassgrad.optim.asgd import ASGD
from glassgrad.optim.lbfgs import LBFGS
from glassgrad.optim.muon import Muon
from glassgrad.optim.nadam import NAdam
from glassgrad.optim.optimizer import Optimizer
from glassgrad.optim.quiet import quiet_step
from glassgrad.optim.radam import RAdam
from glassgrad.optim.rmsprop import RMSprop
from glassgrad.optim.rprop import Rprop
from glassgrad.optim.sgd import SGD
from glassgrad.optim.sparse_adam import SparseAdam

# their updates overflow to inf silently, as PyTorch's (LBFGS's step runs the user's closure: not it)
for _cls in (
    SGD,
    Adam,
    AdamW,
    RMSprop,
    Adagrad,
    Adadelta,
    Adamax,
    NAdam,
    RAdam,
    Rprop,
    ASGD,
    Adafactor,
    SparseAdam,
    Muon,
):
    quiet_step(_cls)
del _cls  # a leaked loop name: MMEngine registers every Optimizer class found by dir(torch.optim)

# PyTorch's optimizer modules hold their functional forms too (``torch.optim.adam.adam``,
# ``torch.optim.sgd.sgd``), which custom optimizers import from there or from ``_functional``
for _name in _functional_api.__all__:
    setattr(_importlib.import_module(f"{__name__}.{_name}"), _name, getattr(_functional_api, _name))
del _name

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
__all__ += ["Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "LBFGS", "swa_utils"]
__all__ += ["Adafactor", "SparseAdam", "Muon"]
