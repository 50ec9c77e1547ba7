"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``, containers,
layers, activations, losses, and the ``functional``, ``init`` and ``utils`` submodules.

>>> import glassgrad as gg
>>> import glassgrad.nn as nn
>>> model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
>>> list(model.state_dict())
['0.weight', '0.bias', '2.weight', '2.bias']
"""

from glassgrad.nn import functional, init, utils
from glassgrad.nn.activation import (
    ELU,
    GELU,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Step,
    Tanh,
)

# recurrent networks
from glassgrad.nn.additive_attention import AdditiveAttention
from glassgrad.nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from glassgrad.nn.dropout import Dropout
from glassgrad.nn.embedding import Embedding
from glassgrad.nn.linear import Bilinear, Flatten, Identity, Linear, Unflatten
from glassgrad.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from glassgrad.nn.perceptron import Perceptron
from glassgrad.nn.rnn import GRU, LSTM, RNN, RNNBase
from glassgrad.nn.rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase

__all__ = [
    # submodules
    "functional",
    "init",
    "utils",
    # base
    "Module",
    "Parameter",
    # containers
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "ParameterList",
    "ParameterDict",
    # layers
    "Identity",
    "Linear",
    "Bilinear",
    "Flatten",
    "Unflatten",
    "Embedding",
    "Dropout",
    "LayerNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "Perceptron",
    # activations
    "Sigmoid",
    "Tanh",
    "ReLU",
    "ReLU6",
    "Hardtanh",
    "LeakyReLU",
    "GELU",
    "ELU",
    "SiLU",
    "Softplus",
    "Softmax",
    "LogSoftmax",
    "Step",
    # losses
    "L1Loss",
    "MSELoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "NLLLoss",
    "CrossEntropyLoss",
    "SmoothL1Loss",
    "HuberLoss",
    "KLDivLoss",
    # recurrent networks
    "RNNBase",
    "RNN",
    "LSTM",
    "GRU",
    "RNNCellBase",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "AdditiveAttention",
]
