"""The primitive ops, grouped by family. The only place where backward rules live.

- arithmetic and math: elementwise (arithmetic, where), clamp, conversion (cast, clone), unary
  (exp, log, sqrt, sin/cos/tanh), trig (tan, inverse and hyperbolic trig, atan2, erf, expm1),
  math_more (copysign, fmax/fmin, fmod, hypot, logaddexp, xlogy, float_power, shifts), unary_more
  (asinh ..., sinc, frac, trunc, erfc, erfinv, lgamma, digamma, polygamma, i0 from special_series),
  special (erf on arrays), compare (comparisons, bitwise and logical ops, rounding; no gradient);
- reductions: reduce (sum, mean, prod, cumsum, all/any), extremes (max/min, argmax/argmin),
  statistics (var/std, logsumexp, norm), reduce_more (median, mode, kthvalue, nansum/nanmean,
  var_mean, aminmax), cumulative (cumprod, cummax/cummin, logcumsumexp, msort);
- shapes and indexing: movement (reshape, permute, expand ...), movement_more (diag_embed,
  Tensor.unfold ...), joining (cat, stack), pieces (split/chunk/unbind), views (narrow, select,
  diagonal, movedim), padding (pad), indexing (getitem, gather, scatter_add), setitem (x[key] = v,
  recorded), sorting (sort, topk), scatter (scatter, masked_select, index_fill), indexing_more
  (index_add/copy/put, masked_scatter, scatter_reduce), sampling (multinomial, nonzero, one_hot);
- products: matmul (matmul, einsum), products_more (cdist ...);
- networks: activation, activation_more (logsigmoid), softmax (softmax, log_softmax), conv,
  conv3d, pooling, pool3d, embedding_bag, grid_sample, and the fused linear, normalization, loss
  and recurrent (whole-sequence RNN/LSTM/GRU, and the dense LSTM layer) primitives.

composite (mm, addmm, lerp, diag ...) and forms (the keyword forms with ``out=``) hold no backward
rule: they compose the primitives.
"""

from glassgrad.ops import (
    activation,
    activation_more,
    clamp,
    compare,
    composite,
    conversion,
    cumulative,
    elementwise,
    extremes,
    forms,
    indexing,
    indexing_more,
    joining,
    linear,
    loss,
    math_more,
    matmul,
    movement,
    movement_more,
    normalization,
    padding,
    pieces,
    products_more,
    recurrent,
    recurrent_dense,
    reduce,
    reduce_more,
    sampling,
    scatter,
    softmax,
    special,
    statistics,
    trig,
    unary,
    unary_more,
    views,
)

__all__ = [
    "softmax",
    "views",
    "trig",
    "scatter",
    "pieces",
    "forms",
    "composite",
    "clamp",
    "activation",
    "activation_more",
    "compare",
    "conversion",
    "cumulative",
    "elementwise",
    "extremes",
    "indexing",
    "indexing_more",
    "movement_more",
    "products_more",
    "joining",
    "linear",
    "loss",
    "matmul",
    "movement",
    "normalization",
    "padding",
    "recurrent",
    "recurrent_dense",
    "reduce",
    "reduce_more",
    "sampling",
    "special",
    "math_more",
    "unary_more",
    "statistics",
    "unary",
]
