"""The functional API, ``import glassgrad.nn.functional as F``: PyTorch's ``torch.nn.functional``.

Composites of the primitives in ``glassgrad.ops``, plus the few fused ops (layer/batch norm,
cross-entropy, binary cross-entropy) whose hand-derived backward is part of the lesson.

    activation      relu, relu6, hardtanh, leaky_relu, elu, gelu, silu, sigmoid, tanh, softplus,
                    softmax, log_softmax, step
    activation_more celu, glu, hardshrink, hardsigmoid, hardswish, logsigmoid, mish, prelu, rrelu,
                    selu, softmin, softshrink, softsign, tanhshrink, threshold
    layers          linear, bilinear, dropout, embedding, one_hot, pad
    alpha_dropout   alpha_dropout, feature_alpha_dropout (SELU networks); relu_, elu_ ... in place
    normalization   layer_norm, batch_norm, normalize
    distance        cosine_similarity
    loss            mse_loss, l1_loss, smooth_l1_loss, huber_loss, kl_div
    classification  nll_loss, cross_entropy, binary_cross_entropy, binary_cross_entropy_with_logits
    loss_more       cosine_embedding_loss, margin_ranking_loss, hinge_embedding_loss,
                    triplet_margin_loss, triplet_margin_with_distance_loss, pairwise_distance,
                    soft_margin_loss, multi_margin_loss, multilabel_margin_loss,
                    multilabel_soft_margin_loss
    loss_nll        poisson_nll_loss, gaussian_nll_loss
    ctc             ctc_loss (connectionist temporal classification)
    attention       scaled_dot_product_attention, attention_weights
    mha             multi_head_attention_forward (nn.MultiheadAttention's computation)
    masks           causal_mask, local_window_mask, padding_mask
    (normalization) rms_norm
    image           interpolate, pixel_shuffle, pixel_unshuffle, channel_shuffle, dropout1d/2d/3d
                    (and group_norm, instance_norm, local_response_norm in normalization)
    upsample        upsample, upsample_nearest, upsample_bilinear (interpolate's deprecated names)
    conv            conv1d, conv2d, conv_transpose1d, conv_transpose2d, unfold, fold
                    (and conv_tbc, time-major, from torch_aten_more)
    pooling         max/avg/adaptive_avg/adaptive_max/lp pool 1d and 2d, max_unpool1d/2d
    conv3d, pool3d  conv3d, conv_transpose3d, max/avg/adaptive_avg/adaptive_max/lp pool 3d, max_unpool3d
    pool_indices    max_pool1d/2d/3d_with_indices, adaptive_max_pool1d/2d/3d_with_indices
    fractional_pool fractional_max_pool2d/3d (and their _with_indices)
    embedding_bag   embedding_bag
    sampling        gumbel_softmax, affine_grid, grid_sample
"""

from glassgrad.nn.functional.activation import (
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    log_softmax,
    relu,
    relu6,
    sigmoid,
    silu,
    softmax,
    softplus,
    step,
    tanh,
)
from glassgrad.nn.functional.activation_more import (
    celu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    logsigmoid,
    mish,
    prelu,
    rrelu,
    selu,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from glassgrad.nn.functional.alpha_dropout import (
    alpha_dropout,
    celu_,
    elu_,
    feature_alpha_dropout,
    hardtanh_,
    leaky_relu_,
    relu_,
    rrelu_,
    selu_,
    threshold_,
)
from glassgrad.nn.functional.classification import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    nll_loss,
)

# convolution and pooling
from glassgrad.nn.functional.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from glassgrad.nn.functional.conv3d import conv3d, conv_transpose3d
from glassgrad.nn.functional.ctc import ctc_loss
from glassgrad.nn.functional.distance import cosine_similarity
from glassgrad.nn.functional.embedding_bag import embedding_bag
from glassgrad.nn.functional.fold import fold, unfold
from glassgrad.nn.functional.fractional_pool import (
    fractional_max_pool2d,
    fractional_max_pool2d_with_indices,
    fractional_max_pool3d,
    fractional_max_pool3d_with_indices,
)
from glassgrad.nn.functional.image import (
    channel_shuffle,
    dropout1d,
    dropout2d,
    dropout3d,
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
)
from glassgrad.nn.functional.layers import bilinear, dropout, embedding, linear, one_hot, pad
from glassgrad.nn.functional.linear_cross_entropy import linear_cross_entropy
from glassgrad.nn.functional.loss import huber_loss, kl_div, l1_loss, mse_loss, smooth_l1_loss
from glassgrad.nn.functional.loss_more import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    pairwise_distance,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from glassgrad.nn.functional.loss_nll import gaussian_nll_loss, poisson_nll_loss
from glassgrad.nn.functional.normalization import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    normalize,
)
from glassgrad.nn.functional.pool3d import (
    adaptive_avg_pool3d,
    adaptive_max_pool3d,
    avg_pool3d,
    lp_pool3d,
    max_pool3d,
)
from glassgrad.nn.functional.pool_indices import (
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d_with_indices,
    max_pool1d_with_indices,
    max_pool2d_with_indices,
    max_pool3d_with_indices,
)
from glassgrad.nn.functional.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
)
from glassgrad.nn.functional.unpool import max_unpool3d
from glassgrad.nn.functional.upsample import upsample, upsample_bilinear, upsample_nearest
from glassgrad.ops.products_more import pdist  # F.pdist is torch.pdist, as in PyTorch

# isort: split
# attention and Transformers (issue 10)
from glassgrad.nn.functional.attention import attention_weights, scaled_dot_product_attention
from glassgrad.nn.functional.masks import causal_mask, local_window_mask, padding_mask
from glassgrad.nn.functional.mha import multi_head_attention_forward
from glassgrad.nn.functional.normalization import rms_norm
from glassgrad.nn.functional.sampling import (  # noqa: F401 - the mode tables: PyTorch's names, not in __all__
    GRID_SAMPLE_INTERPOLATION_MODES,
    GRID_SAMPLE_PADDING_MODES,
    affine_grid,
    grid_sample,
    gumbel_softmax,
)

# isort: split
# ``F.grad`` is the module ``nn.grad`` (conv2d_input, conv2d_weight ...), and ``F._Reduction`` the
# module ``nn._reduction`` (get_enum, legacy_get_string), as PyTorch's
from glassgrad.nn import _reduction as _Reduction  # noqa: F401
from glassgrad.nn import grad as grad

# isort: split
# F.conv_tbc is torch.conv_tbc, as in PyTorch (fairseq's time-major ConvTBC); its module reads F
# only when called, so importing it last here is not circular
from glassgrad.torch_aten_more import conv_tbc

# isort: split
# PyTorch's F imports these from torch.overrides, and code copied out of it (a custom
# multi_head_attention_forward) imports them from F; not in __all__, as PyTorch's
from glassgrad.overrides import (  # noqa: F401
    handle_torch_function,
    has_torch_function,
    has_torch_function_unary,
    has_torch_function_variadic,
)

# isort: split
# PyTorch's native kernel of the same op (torch.native_channel_shuffle too)
from glassgrad.nn.functional.image import channel_shuffle as native_channel_shuffle

__all__ = [
    # activation
    "relu",
    "relu6",
    "hardtanh",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "softplus",
    "softmax",
    "log_softmax",
    "step",
    "celu",
    "glu",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "logsigmoid",
    "mish",
    "prelu",
    "rrelu",
    "selu",
    "softmin",
    "softshrink",
    "softsign",
    "tanhshrink",
    "threshold",
    "relu_",
    "elu_",
    "celu_",
    "selu_",
    "leaky_relu_",
    "hardtanh_",
    "rrelu_",
    "threshold_",
    # layers
    "linear",
    "bilinear",
    "dropout",
    "alpha_dropout",
    "feature_alpha_dropout",
    "embedding",
    "one_hot",
    "pad",
    # normalization
    "layer_norm",
    "batch_norm",
    "normalize",
    "cosine_similarity",
    # regression and distribution losses
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "kl_div",
    # classification losses
    "nll_loss",
    "cross_entropy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    # margin, embedding and likelihood losses
    "cosine_embedding_loss",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "pairwise_distance",
    "pdist",
    "soft_margin_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "ctc_loss",
    # attention and Transformers (issue 10)
    "scaled_dot_product_attention",
    "multi_head_attention_forward",
    "attention_weights",
    "causal_mask",
    "local_window_mask",
    "padding_mask",
    "rms_norm",
    # image toolbox
    "group_norm",
    "instance_norm",
    "local_response_norm",
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "pixel_shuffle",
    "pixel_unshuffle",
    "channel_shuffle",
    "native_channel_shuffle",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    # convolution and pooling
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_tbc",
    "unfold",
    "fold",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "max_unpool1d",
    "max_unpool2d",
    "lp_pool1d",
    "lp_pool2d",
    # 3-D layers, bags of embeddings, spatial sampling
    "conv3d",
    "conv_transpose3d",
    "max_pool3d",
    "avg_pool3d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
    "lp_pool3d",
    "max_unpool3d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
    "fractional_max_pool2d",
    "fractional_max_pool3d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices",
    "linear_cross_entropy",
    "embedding_bag",
    "gumbel_softmax",
    "affine_grid",
    "grid_sample",
]

# PyTorch's keyword-only out= on the F functions that are its builtins taking one (probed on 2.13;
# its conv, pooling and distance builtins take none), each kernel refusing an out of another dtype;
# then PyTorch's TypeError for an operand that is not a tensor, F.relu(np_array), and NumPy's
# axis=/keepdims= on the two with a dim that PyTorch's parser builds (F's others are Python there)
# (operand_errors.py)
from glassgrad import operand_errors as _operand_errors
from glassgrad.out_keyword import out_keyword as _out_keyword

for _name in (
    "linear",
    "gelu",
    "hardshrink",
    "softshrink",
    "softplus",
    "logsigmoid",
    "avg_pool2d",
    "avg_pool3d",
):
    globals()[_name] = _out_keyword(globals()[_name], _name, "same")

_operand_errors.install(globals(), __all__, native={"cosine_similarity", "pairwise_distance"})
