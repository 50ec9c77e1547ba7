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
  recorded), sorting (sort, topk), scatter (scatter, scatter_reduce, masked_select, index_fill),
  indexing_more (index_add/copy/put, masked_scatter), sampling (multinomial, nonzero, one_hot);
- products: matmul (matmul, einsum), products_more (cdist ...);
- complex numbers: complex (view_as_complex/real, polar, complex, real/imag, conj, angle),
  complex_twins (the complex forms of add ... matmul, abs; the ops marked complex-aware);
- networks: activation, activation_more (logsigmoid), softmax (softmax, log_softmax), conv,
  conv3d, pooling, pool3d, embedding_bag, grid_sample, and the fused linear, normalization, loss,
  ctc (CTC loss) and recurrent (whole-sequence RNN/LSTM/GRU, and the dense LSTM layer) primitives.

composite (mm, addmm, lerp, diag ...) and forms (the keyword forms with ``out=``) hold no backward
rule: they compose the primitives.
"""

from glassgrad.iterator_layout import (
    contiguous_result,
    iterator_result,
    pointwise_result,
    pow_result,
    preserved_result,
)
from glassgrad.ops import (
    activation,
    activation_more,
    aten,
    clamp,
    compare,
    complex,
    complex_twins,
    composite,
    conversion,
    ctc,
    cumulative,
    elementwise,
    extremes,
    float_power,
    forms,
    indexing,
    indexing_more,
    int_math,
    joining,
    linear,
    loss,
    loss_smooth,
    math_more,
    matmul,
    movement,
    movement_more,
    normalization,
    padding,
    pieces,
    products_more,
    profiler,
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
    zero_slope,
)

__all__ = [
    "softmax",
    "views",
    "trig",
    "scatter",
    "pieces",
    "profiler",
    "forms",
    "composite",
    "clamp",
    "activation",
    "activation_more",
    "aten",
    "compare",
    "complex",
    "complex_twins",
    "conversion",
    "ctc",
    "cumulative",
    "elementwise",
    "extremes",
    "float_power",
    "indexing",
    "indexing_more",
    "movement_more",
    "products_more",
    "joining",
    "linear",
    "loss",
    "loss_smooth",
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

# The pointwise primitives, PyTorch's TensorIterator ops: a fresh result with a size-1 dim gets
# its strides (the layout a conv after it reads); a cast keeps the input's, as ``empty_like``.
_NUMBER_OPERANDS = (  # a Python number is wrapped as an operand, as PyTorch's 0-d tensor
    *(elementwise.Add, elementwise.Sub, elementwise.Mul, elementwise.Div, elementwise.Where),
    *(compare.Remainder, math_more.Fmod, math_more.Xlogy, math_more.Copysign, zero_slope.FlatPair),
    *(zero_slope.NoDerivativePair, int_math.Heaviside, zero_slope.Compared),
)
_NUMBER_PARAMETERS = (  # numbers are parameters (clamp's bounds, an activation's slope)
    *(elementwise.Neg, elementwise.Maximum, elementwise.Minimum, clamp.Clamp, clamp.ClampBounds),
    *(unary.Exp, unary.Log, unary.Log1p, unary.Sqrt, unary.Rsqrt, unary.Abs, unary.Sin, unary.Cos),
    *(unary.Tanh, unary_more.Asinh, unary_more.Acosh, unary_more.Atanh, unary_more.Sinc),
    *(unary_more.Frac, unary_more._InFloat64, unary_more.Polygamma, float_power.FloatPower),  # +special_more
    *(trig.Tan, trig.Asin, trig.Acos, trig.Atan, trig.Atan2, trig.Sinh, trig.Cosh, trig.Erf, trig.Expm1),
    *(activation.Sigmoid, activation.Relu, activation.LeakyRelu, activation.Elu, activation.Gelu),
    *(activation.Silu, activation.Softplus, activation.Hardtanh, complex.Complex, complex.Polar),
    *(activation_more.Hardswish, math_more._NanIgnoring, math_more.Hypot, math_more._LogAddExp),
    *(zero_slope.ZeroSlope, unary.Reciprocal, activation_more.Hardsigmoid, activation_more.Logit),
)
# PyTorch writes these into a fresh contiguous tensor whatever the input's layout: log_sigmoid's
# kernel allocates its output so (masked_fill's clone(contiguous_format) too, but glassgrad keeps
# the input's layout there: a documented difference, docs/design.md)
_CONTIGUOUS = (activation_more.LogSigmoid,)
for _cls in _NUMBER_OPERANDS:
    _cls.layout = staticmethod(iterator_result)
for _cls in _NUMBER_PARAMETERS:
    _cls.layout = staticmethod(pointwise_result)
for _cls in _CONTIGUOUS:
    _cls.layout = staticmethod(contiguous_result)
elementwise.Pow.layout = staticmethod(pow_result)
conversion.Cast.layout = staticmethod(preserved_result)


def __getattr__(name: str) -> object:
    """``torch.ops.<namespace>`` for a namespace that ``glassgrad.library.custom_op`` filled
    (``ops.mylib.f``); any other unknown name stays an ``AttributeError`` (submodules import)."""
    from glassgrad import _ops

    if not name.startswith("__") and any(key.startswith(name + "::") for key in _ops.CUSTOM_OPS):
        return getattr(_ops.ops, name)
    raise AttributeError(f"module 'glassgrad.ops' has no attribute {name!r}")
