"""glassgrad: a glass-box deep-learning library on NumPy, with PyTorch's names and semantics."""

from glassgrad import autograd, cuda, data, datasets, nn, optim
from glassgrad.autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from glassgrad.device import device
from glassgrad.dtypes import (
    bool,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    long,
    set_default_dtype,
)
from glassgrad.dtypes import float16 as half
from glassgrad.dtypes import float32 as float
from glassgrad.dtypes import float64 as double
from glassgrad.dtypes import int32 as int
from glassgrad.factories import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from glassgrad.ops.activation import log_softmax, relu, sigmoid, softmax
from glassgrad.ops.compare import (
    eq,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    lt,
    ne,
)
from glassgrad.ops.elementwise import add, clamp, div, maximum, minimum, mul, neg, pow, sub, where
from glassgrad.ops.extremes import amax, amin, argmax, argmin, max, min
from glassgrad.ops.indexing import gather, index_select, masked_fill, scatter_add, sort, topk
from glassgrad.ops.joining import cat, stack
from glassgrad.ops.matmul import einsum, matmul, outer
from glassgrad.ops.movement import (
    flatten,
    flip,
    permute,
    reshape,
    roll,
    squeeze,
    transpose,
    tril,
    triu,
    unsqueeze,
)
from glassgrad.ops.pieces import chunk, split, unbind
from glassgrad.ops.reduce import all, any, cumsum, mean, prod, sum
from glassgrad.ops.sampling import multinomial, nonzero
from glassgrad.ops.statistics import logsumexp, norm, std, var
from glassgrad.ops.unary import abs, cos, exp, log, log1p, rsqrt, sin, sqrt, tanh
from glassgrad.ops.views import diagonal, movedim, narrow, select, swapaxes
from glassgrad.random import Generator, get_rng_state, manual_seed, seed, set_rng_state
from glassgrad.serialization import load, save
from glassgrad.tensor import Tensor, tensor

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "tensor",
    "save",
    "load",
    "autograd",
    "optim",
    "cuda",
    "device",
    "half",
    "float",
    "double",
    "int",
    "inference_mode",
    "nn",
    "data",
    "datasets",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "float16",
    "float32",
    "float64",
    "int32",
    "int64",
    "long",
    "bool",
    "get_default_dtype",
    "set_default_dtype",
    "manual_seed",
    "seed",
    "Generator",
    "get_rng_state",
    "set_rng_state",
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "zeros",
    "zeros_like",
    "eq",
    "ge",
    "gt",
    "isfinite",
    "isnan",
    "le",
    "logical_and",
    "logical_not",
    "logical_or",
    "lt",
    "ne",
    "add",
    "clamp",
    "div",
    "maximum",
    "minimum",
    "mul",
    "neg",
    "pow",
    "sub",
    "where",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "max",
    "min",
    "gather",
    "index_select",
    "masked_fill",
    "scatter_add",
    "sort",
    "topk",
    "cat",
    "stack",
    "einsum",
    "matmul",
    "outer",
    "chunk",
    "flatten",
    "flip",
    "permute",
    "reshape",
    "roll",
    "split",
    "squeeze",
    "transpose",
    "tril",
    "triu",
    "unbind",
    "narrow",
    "select",
    "diagonal",
    "movedim",
    "swapaxes",
    "unsqueeze",
    "all",
    "any",
    "cumsum",
    "mean",
    "prod",
    "sum",
    "multinomial",
    "nonzero",
    "logsumexp",
    "norm",
    "std",
    "var",
    "abs",
    "cos",
    "exp",
    "log",
    "log1p",
    "rsqrt",
    "sin",
    "sqrt",
    "tanh",
    "log_softmax",
    "relu",
    "sigmoid",
    "softmax",
]

moveaxis = movedim
swapdims = swapaxes
__all__ += ["moveaxis", "swapdims"]

# probability distributions and torch.linalg's triangular tools (issue 7: optim-extra)
from glassgrad import distributions, linalg  # noqa: E402

__all__ += ["distributions", "linalg"]

# subpackages PyTorch scripts reach as attributes after a bare `import torch` (issue 7: porting)
from glassgrad import accelerator, backends, utils  # noqa: E402
from glassgrad.device import get_default_device, set_default_device  # noqa: E402

__all__ += ["accelerator", "backends", "utils", "get_default_device", "set_default_device"]
