"""The primitive ops, grouped by family. The only place where backward rules live.

elementwise (arithmetic, clamp, where), conversion (cast, clone), unary (exp, log, sqrt, trig),
compare (comparisons, bitwise and logical ops, rounding; no gradient), reduce (sum, mean, prod, cumsum, all/any), extremes (max/min,
argmax/argmin), statistics (var/std, logsumexp, norm), movement (reshape, permute, expand ...),
joining (cat, stack), padding (pad), indexing (getitem, gather, scatter_add, sort, topk), sampling
(multinomial, nonzero, one_hot), matmul (matmul, einsum), activation, special (erf on arrays), and
the fused linear, normalization, loss and recurrent (whole-sequence RNN/LSTM/GRU) primitives.
"""

from glassgrad.ops import (
    activation,
    compare,
    conversion,
    elementwise,
    extremes,
    indexing,
    joining,
    linear,
    loss,
    matmul,
    movement,
    normalization,
    padding,
    recurrent,
    reduce,
    sampling,
    special,
    statistics,
    unary,
)

__all__ = [
    "activation",
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
    "reduce",
    "sampling",
    "special",
    "statistics",
    "unary",
]
