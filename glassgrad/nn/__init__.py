"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``, containers,
layers, activations, losses, and the ``functional``, ``init`` and ``utils`` submodules.

>>> import glassgrad as gg
>>> import glassgrad.nn as nn
>>> model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
>>> list(model.state_dict())
['0.weight', '0.bias', '2.weight', '2.bias']
"""

from glassgrad.nn import (
    blocks,
    functional,
    grad,  # torch.nn.grad: conv gradients as functions (nn/grad.py)
    init,
    utils,
)
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
from glassgrad.nn.activation_more import (
    CELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    LogSigmoid,
    Mish,
    PReLU,
    RReLU,
    Softmax2d,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from glassgrad.nn.adaptive import AdaptiveLogSoftmaxWithLoss
from glassgrad.nn.container import Container, ModuleDict, ModuleList, Sequential

# convolution and pooling
from glassgrad.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Fold, Unfold
from glassgrad.nn.cross_map_lrn import CrossMapLRN2d  # PyTorch's legacy cross-channel LRN
from glassgrad.nn.distance import CosineSimilarity, PairwiseDistance
from glassgrad.nn.dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout
from glassgrad.nn.embedding import Embedding
from glassgrad.nn.embedding_bag import EmbeddingBag
from glassgrad.nn.fractional_pool import FractionalMaxPool2d, FractionalMaxPool3d
from glassgrad.nn.instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from glassgrad.nn.layers3d import (
    AdaptiveAvgPool3d,
    AdaptiveMaxPool3d,
    AvgPool3d,
    BatchNorm3d,
    CircularPad3d,
    ConstantPad3d,
    Conv3d,
    ConvTranspose3d,
    LPPool3d,
    MaxPool3d,
    MaxUnpool3d,
    ReflectionPad3d,
    ReplicationPad3d,
    ZeroPad3d,
)
from glassgrad.nn.linear import Bilinear, Flatten, Identity, Linear, Unflatten
from glassgrad.nn.linear_cross_entropy import LinearCrossEntropyLoss, LinearCrossEntropyOptions
from glassgrad.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    NLLLoss2d,
    SmoothL1Loss,
)
from glassgrad.nn.loss_more import (
    CosineEmbeddingLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.module_constants import install_constants as _install_constants
from glassgrad.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, LocalResponseNorm
from glassgrad.nn.padding import (
    CircularPad1d,
    CircularPad2d,
    ConstantPad1d,
    ConstantPad2d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReplicationPad1d,
    ReplicationPad2d,
    ZeroPad1d,
    ZeroPad2d,
)
from glassgrad.nn.parallel import DataParallel  # PyTorch's CPU path (nn/parallel.py)
from glassgrad.nn.param_containers import ParameterDict, ParameterList
from glassgrad.nn.parameter import Buffer
from glassgrad.nn.perceptron import Perceptron
from glassgrad.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    LPPool1d,
    LPPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool1d,
    MaxUnpool2d,
)
from glassgrad.nn.shuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle
from glassgrad.nn.sync_batchnorm import SyncBatchNorm
from glassgrad.nn.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

# isort: split
# attention and Transformers (issue 10)
# recurrent networks
from glassgrad.nn.additive_attention import AdditiveAttention
from glassgrad.nn.attention import MultiheadAttention
from glassgrad.nn.normalization import RMSNorm
from glassgrad.nn.positional import LearnedPositionalEmbedding, RotaryEmbedding, SinusoidalPositionalEncoding
from glassgrad.nn.rnn import GRU, LSTM, RNN, RNNBase
from glassgrad.nn.rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from glassgrad.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

# isort: split
# lazy layers (round 12: d2l builds its models from them) and their placeholders
from glassgrad.nn.lazy import (
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyConvTranspose3d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
    LazyLinear,
)
from glassgrad.nn.parameter import UninitializedBuffer, UninitializedParameter

# isort: split
# nn.quantized.FloatFunctional: DPT-style heads sum their residuals through it
from glassgrad.nn import quantized

__all__ = [
    # submodules
    "blocks",
    "functional",
    "init",
    "utils",
    "grad",
    # base
    "Module",
    "Parameter",
    "Buffer",
    # containers
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "ParameterList",
    "ParameterDict",
    "DataParallel",
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
    "SyncBatchNorm",
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
    "CELU",
    "GLU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "LogSigmoid",
    "Mish",
    "PReLU",
    "RReLU",
    "SELU",
    "Softmax2d",
    "Softmin",
    "Softshrink",
    "Softsign",
    "Tanhshrink",
    "Threshold",
    # losses
    "L1Loss",
    "MSELoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "NLLLoss",
    "NLLLoss2d",
    "CrossEntropyLoss",
    "SmoothL1Loss",
    "HuberLoss",
    "KLDivLoss",
    "CosineEmbeddingLoss",
    "MarginRankingLoss",
    "HingeEmbeddingLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "SoftMarginLoss",
    "MultiMarginLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "PoissonNLLLoss",
    "GaussianNLLLoss",
    "CTCLoss",
    # distances
    "PairwiseDistance",
    "CosineSimilarity",
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
    # image toolbox
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LocalResponseNorm",
    "CrossMapLRN2d",
    "AdaptiveLogSoftmaxWithLoss",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "FeatureAlphaDropout",
    "PixelShuffle",
    "PixelUnshuffle",
    "ChannelShuffle",
    "Upsample",
    "UpsamplingNearest2d",
    "UpsamplingBilinear2d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "CircularPad1d",
    "CircularPad2d",
    # convolution and pooling
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "Unfold",
    "Fold",
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "Container",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
    "LinearCrossEntropyLoss",
    "LinearCrossEntropyOptions",
    "LPPool1d",
    "LPPool2d",
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
    # 3-D layers and bags of embeddings
    "Conv3d",
    "ConvTranspose3d",
    "MaxPool3d",
    "MaxUnpool3d",
    "LPPool3d",
    "AvgPool3d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool3d",
    "BatchNorm3d",
    "ReflectionPad3d",
    "ReplicationPad3d",
    "CircularPad3d",
    "ConstantPad3d",
    "ZeroPad3d",
    "EmbeddingBag",
]

# torch.nn.modules.<file> import paths (nn/modules/ re-exports the layers above, so it comes last)
from glassgrad.nn import modules

__all__ += ["modules", "quantized"]

__all__ += [
    "LazyLinear",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
    "UninitializedParameter",
    "UninitializedBuffer",
]

# PyTorch's per-layer ``__constants__`` lists, which programs read to rebuild a layer from another
_install_constants(globals())
