"""PyTorch's ``__constants__`` class attribute on the ``nn`` layers.

PyTorch lists a layer's hyperparameters there (for TorchScript), and programs read it to rebuild
a layer from another: TabM's ``BatchNorm1dEnsemble.from_batchnorm1d`` passes
``getattr(module, key) for key in nn.BatchNorm1d.__constants__`` to its constructor. Every name
listed is an attribute the layer's instances carry under PyTorch's name. The lists and their
order are PyTorch's; a layer that sets its own (``FractionalMaxPool2d``) keeps it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["install_constants"]

_NORM = ["track_running_stats", "momentum", "eps", "num_features", "affine"]
_CONV = [
    "stride",
    "padding",
    "dilation",
    "groups",
    "padding_mode",
    "output_padding",
    "in_channels",
    "out_channels",
    "kernel_size",
]
_RNN = [
    "mode",
    "input_size",
    "hidden_size",
    "num_layers",
    "bias",
    "batch_first",
    "dropout",
    "bidirectional",
    "proj_size",
]
_UPSAMPLE = ["size", "scale_factor", "mode", "align_corners", "name", "recompute_scale_factor"]
_AVG_POOL = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]
_EMBEDDING = ["num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type"]
_EMBEDDING_BAG = ["num_embeddings", "embedding_dim", "max_norm", "norm_type", "scale_grad_by_freq"]


def _each(names: str, constants: list[str]) -> dict[str, list[str]]:
    return dict.fromkeys(names.split(), constants)


_CONSTANTS: dict[str, list[str]] = {
    **_each(
        "BatchNorm1d BatchNorm2d BatchNorm3d InstanceNorm1d InstanceNorm2d InstanceNorm3d "
        "LazyBatchNorm1d LazyBatchNorm2d LazyBatchNorm3d LazyInstanceNorm1d LazyInstanceNorm2d "
        "LazyInstanceNorm3d SyncBatchNorm",
        _NORM,
    ),
    **_each(
        "Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d LazyConv1d LazyConv2d "
        "LazyConv3d LazyConvTranspose1d LazyConvTranspose2d LazyConvTranspose3d",
        _CONV,
    ),
    **_each(
        "CircularPad1d CircularPad2d CircularPad3d ReflectionPad1d ReflectionPad2d ReflectionPad3d "
        "ReplicationPad1d ReplicationPad2d ReplicationPad3d",
        ["padding"],
    ),
    **_each("ConstantPad1d ConstantPad2d ConstantPad3d ZeroPad1d ZeroPad2d ZeroPad3d", ["padding", "value"]),
    **_each(
        "BCELoss KLDivLoss L1Loss MSELoss MultiLabelMarginLoss MultiLabelSoftMarginLoss SmoothL1Loss "
        "SoftMarginLoss",
        ["reduction"],
    ),
    **_each("CosineEmbeddingLoss HingeEmbeddingLoss MarginRankingLoss", ["margin", "reduction"]),
    **_each("NLLLoss NLLLoss2d", ["ignore_index", "reduction"]),
    "CrossEntropyLoss": ["ignore_index", "reduction", "label_smoothing"],
    "CTCLoss": ["blank", "reduction"],
    "GaussianNLLLoss": ["full", "eps", "reduction"],
    "HuberLoss": ["reduction", "delta"],
    "MultiMarginLoss": ["p", "margin", "reduction"],
    "PoissonNLLLoss": ["log_input", "full", "eps", "reduction"],
    "TripletMarginLoss": ["margin", "p", "eps", "swap", "reduction"],
    "TripletMarginWithDistanceLoss": ["margin", "swap", "reduction"],
    "LinearCrossEntropyLoss": ["num_classes", "out_features", "reduction", "ignore_index", "label_smoothing"],
    **_each("Hardsigmoid Hardswish Mish ReLU SELU SiLU", ["inplace"]),
    **_each("AlphaDropout Dropout Dropout1d Dropout2d Dropout3d FeatureAlphaDropout", ["p", "inplace"]),
    **_each("GLU LogSoftmax Softmax Softmin", ["dim"]),
    **_each("Hardtanh ReLU6", ["min_val", "max_val", "inplace"]),
    **_each("Hardshrink Softshrink", ["lambd"]),
    **_each("CELU ELU", ["alpha", "inplace"]),
    "GELU": ["approximate"],
    "LeakyReLU": ["inplace", "negative_slope"],
    "PReLU": ["num_parameters"],
    "RReLU": ["lower", "upper", "inplace"],
    "Softplus": ["beta", "threshold"],
    "Threshold": ["threshold", "value", "inplace"],
    **_each("GRU LSTM RNN RNNBase", _RNN),
    **_each("GRUCell LSTMCell RNNCellBase", ["input_size", "hidden_size", "bias"]),
    "RNNCell": ["input_size", "hidden_size", "bias", "nonlinearity"],
    **_each("Upsample UpsamplingBilinear2d UpsamplingNearest2d", _UPSAMPLE),
    **_each(
        "MaxPool1d MaxPool2d MaxPool3d",
        ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"],
    ),
    **_each("LPPool1d LPPool2d LPPool3d", ["norm_type", "kernel_size", "stride", "ceil_mode"]),
    **_each("AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d", ["output_size", "return_indices"]),
    **_each("AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d", ["output_size"]),
    "AvgPool1d": _AVG_POOL,
    **_each("AvgPool2d AvgPool3d", [*_AVG_POOL, "divisor_override"]),
    **_each("TransformerDecoderLayer TransformerEncoderLayer", ["norm_first"]),
    **_each("TransformerDecoder TransformerEncoder", ["norm"]),
    "MultiheadAttention": ["batch_first"],
    **_each("LazyLinear Linear", ["in_features", "out_features"]),
    "Bilinear": ["in1_features", "in2_features", "out_features"],
    **_each("LayerNorm RMSNorm", ["normalized_shape", "eps", "elementwise_affine"]),
    "GroupNorm": ["num_groups", "num_channels", "eps", "affine"],
    "LocalResponseNorm": ["size", "alpha", "beta", "k"],
    "Embedding": [*_EMBEDDING, "scale_grad_by_freq", "sparse"],
    "EmbeddingBag": [*_EMBEDDING_BAG, "mode", "sparse", "include_last_offset", "padding_idx"],
    "Fold": ["output_size", "kernel_size", "dilation", "padding", "stride"],
    "Unfold": ["kernel_size", "dilation", "padding", "stride"],
    "Flatten": ["start_dim", "end_dim"],
    "Unflatten": ["dim", "unflattened_size"],
    "PixelShuffle": ["upscale_factor"],
    "PixelUnshuffle": ["downscale_factor"],
    "ChannelShuffle": ["groups"],
    "CosineSimilarity": ["dim", "eps"],
    "PairwiseDistance": ["norm", "eps", "keepdim"],
}


def install_constants(namespace: dict[str, Any]) -> None:
    """Give each layer class in ``namespace`` (``glassgrad.nn``'s globals) PyTorch's list."""
    for name, constants in _CONSTANTS.items():
        cls = namespace.get(name)
        # a class that declares its own list (or one this build lacks) is left as it is
        if cls is not None and "__constants__" not in vars(cls):
            cls.__constants__ = list(constants)
