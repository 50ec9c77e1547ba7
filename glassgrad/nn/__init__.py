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

# isort: split
# attention and Transformers (issue 10)
from glassgrad.nn.attention import MultiheadAttention
from glassgrad.nn.normalization import RMSNorm
from glassgrad.nn.positional import LearnedPositionalEmbedding, RotaryEmbedding, SinusoidalPositionalEncoding
from glassgrad.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

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
    # attention and Transformers (issue 10)
    "MultiheadAttention",
    "RMSNorm",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEmbedding",
    "RotaryEmbedding",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerDecoder",
    "Transformer",
]
