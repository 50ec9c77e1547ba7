"""The primitive ops, grouped by family. The only place where backward rules live.

elementwise (arithmetic, where), clamp, conversion (cast, clone), unary (exp, log, sqrt, sin/cos/tanh),
trig (tan, inverse and hyperbolic trig, atan2, erf, expm1), pieces (split/chunk/unbind), views
(narrow, select, diagonal, movedim), scatter (scatter, masked_select, index_fill),
compare (comparisons, bitwise and logical ops, rounding; no gradient), reduce (sum, mean, prod, cumsum, all/any), extremes (max/min,
argmax/argmin), statistics (var/std, logsumexp, norm), movement (reshape, permute, expand ...),
joining (cat, stack), padding (pad), indexing (getitem, gather, scatter_add, sort, topk), sampling
(multinomial, nonzero, one_hot), matmul (matmul, einsum), activation, activation_more (logsigmoid), softmax (softmax, log_softmax), special (erf on arrays), and
the fused linear, normalization, loss and recurrent (whole-sequence RNN/LSTM/GRU, and the dense LSTM layer) primitives.
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
    elementwise,
    extremes,
    forms,
    indexing,
    joining,
    linear,
    loss,
    matmul,
    movement,
    normalization,
    padding,
    pieces,
    recurrent,
    recurrent_dense,
    reduce,
    sampling,
    scatter,
    softmax,
    special,
    statistics,
    trig,
    unary,
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
    "elementwise",
    "extremes",
    "indexing",
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
    "sampling",
    "special",
    "statistics",
    "unary",
]
