"""``torch.optim._functional``: the optimizers' functional forms (``functional_api``), under the
name custom optimizers import (``import torch.optim._functional as F; F.adam(...)``)."""

from glassgrad.optim.functional_api import (  # noqa: F401 - re-exported under PyTorch's module name
    adadelta,
    adagrad,
    adam,
    adamax,
    adamw,
    asgd,
    nadam,
    radam,
    rmsprop,
    rprop,
    sgd,
)
