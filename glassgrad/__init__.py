"""glassgrad: a glass-box deep-learning library on NumPy, with PyTorch's names and semantics."""

from glassgrad import autograd, cuda, data, datasets, nn, optim, xpu
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
from glassgrad.ops.activation import relu, sigmoid
from glassgrad.ops.clamp import clamp
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
from glassgrad.ops.elementwise import maximum, minimum, neg, pow, where
from glassgrad.ops.extremes import amax, amin, argmax, argmin, max, min
from glassgrad.ops.indexing import gather, index_select, masked_fill, scatter_add
from glassgrad.ops.matmul import einsum, outer
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
from glassgrad.ops.softmax import _log_softmax_backward_data, _softmax_backward_data, log_softmax, softmax  # noqa: F401
from glassgrad.ops.sorting import sort, topk
from glassgrad.ops.statistics import logsumexp, norm, std, var
from glassgrad.ops.unary import abs, cos, exp, log, log1p, rsqrt, sin, sqrt, tanh
from glassgrad.ops.views import diagonal, movedim, narrow, select, swapaxes
from glassgrad.random import Generator, get_rng_state, manual_seed, seed, set_rng_state
from glassgrad.serialization import load, save
from glassgrad.tensor import Tensor, tensor
from glassgrad.torch_version import __version__ as __version__  # 2.13.0+glassgrad.0.1.0: torch_version.py

__all__ = [
    "Tensor", "tensor", "save", "load", "autograd", "optim", "cuda", "xpu", "device", "half",
    "float", "double", "int", "inference_mode", "nn", "data", "datasets", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "float16", "float32", "float64", "int32", "int64",
    "long", "bool", "get_default_dtype", "set_default_dtype", "manual_seed", "seed", "Generator",
    "get_rng_state", "set_rng_state", "arange", "as_tensor", "empty", "empty_like", "eye",
    "from_numpy", "full", "full_like", "linspace", "ones", "ones_like", "rand", "rand_like",
    "randint", "randn", "randn_like", "randperm", "zeros", "zeros_like", "eq", "ge", "gt",
    "isfinite", "isnan", "le", "logical_and", "logical_not", "logical_or", "lt", "ne", "add",
    "clamp", "div", "maximum", "minimum", "mul", "neg", "pow", "sub", "where", "amax", "amin",
    "argmax", "argmin", "max", "min", "gather", "index_select", "masked_fill", "scatter_add",
    "sort", "topk", "cat", "stack", "einsum", "matmul", "outer", "chunk", "flatten", "flip",
    "permute", "reshape", "roll", "split", "squeeze", "transpose", "tril", "triu", "unbind",
    "narrow", "select", "diagonal", "movedim", "swapaxes", "unsqueeze", "all", "any", "cumsum",
    "mean", "prod", "sum", "multinomial", "nonzero", "logsumexp", "norm", "std", "var", "abs",
    "cos", "exp", "log", "log1p", "rsqrt", "sin", "sqrt", "tanh", "log_softmax", "relu", "sigmoid",
    "softmax"
]  # fmt: skip

moveaxis, swapdims = movedim, swapaxes
__all__ += ["moveaxis", "swapdims"]

# probability distributions and torch.linalg's triangular tools (issue 7: optim-extra)
from glassgrad import distributions, linalg  # noqa: E402

__all__ += ["distributions", "linalg"]

# --- the porting surface (issue 7): PyTorch's top-level names that scripts reach for.
# The keyword forms with out= (add, mul, matmul, cat ...) replace the bare op functions above.
from glassgrad import accelerator, backends, utils  # noqa: E402
from glassgrad import methods as _methods  # noqa: E402, F401 - attaches the long tail of Tensor methods
from glassgrad.device import get_default_device, set_default_device  # noqa: E402
from glassgrad.dtypes import int8, int16, uint8  # noqa: E402
from glassgrad.dtypes import int16 as short  # noqa: E402
from glassgrad.factories import randint_like, scalar_tensor  # noqa: E402
from glassgrad.factories_range import logspace, range, tril_indices, triu_indices  # noqa: E402 - (range: deprecated)
from glassgrad.legacy import (  # noqa: E402
    BFloat16Tensor,
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    _assert,  # noqa: F401 - PyTorch's private torch._assert, kept out of __all__ as there
    _assert_async,  # noqa: F401 - private too (kornia's adjust_gamma checks its arguments with it)
    compile,
    contiguous_format,
    e,
    finfo,
    iinfo,
    inf,
    legacy_contiguous_format,  # noqa: F401 - contiguous_format's old name, out of __all__ as PyTorch's
    nan,
    pi,
    preserve_format,
    set_printoptions,
    strided,
)
from glassgrad.ops.compare import ceil, floor, floor_divide, logical_xor, remainder, round, sign  # noqa: E402
from glassgrad.ops.composite import (  # noqa: E402
    addcdiv,
    addcmul,
    addmm,
    addmv,
    allclose,
    argwhere,
    baddbmm,
    bmm,
    clone,
    count_nonzero,
    diag,
    dot,
    equal,
    exp2,
    hstack,
    is_floating_point,
    is_tensor,
    isclose,
    isinf,
    log2,
    log10,
    logit,
    meshgrid,
    mm,
    mv,
    nan_to_num,
    numel,
    positive,
    reciprocal,
    repeat_interleave,
    square,
    tile,
    trace,
    unique,
    unique_consecutive,
    vstack,
)
from glassgrad.ops.forms import (  # noqa: E402
    add,
    argsort,
    bernoulli,
    broadcast_to,
    cat,
    div,
    matmul,
    mul,
    normal,
    stack,
    sub,
    t,
)
from glassgrad.ops.lerp import lerp  # noqa: E402
from glassgrad.ops.meshgrid import combinations  # noqa: E402
from glassgrad.ops.scatter import index_fill, index_reduce, masked_select, scatter  # noqa: E402
from glassgrad.ops.segment import segment_reduce  # noqa: E402
from glassgrad.ops.trig import acos, asin, atan, atan2, cosh, erf, expm1, sinh, tan  # noqa: E402
from glassgrad.random import initial_seed  # noqa: E402
from glassgrad.tensor import Size  # noqa: E402

concat = concatenate = cat
clip = clamp
true_divide = divide = div
multiply = mul
subtract = sub
negative = neg
absolute = abs
arctan2 = atan2

__all__ += [
    "accelerator", "backends", "utils", "get_default_device", "set_default_device",
    "short", "int8", "int16", "uint8", "logspace", "randint_like", "scalar_tensor", "range",
    "BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor",
    "IntTensor", "LongTensor", "ShortTensor", "compile", "contiguous_format", "e", "finfo",
    "iinfo", "inf", "nan", "pi", "preserve_format", "set_printoptions", "strided", "ceil", "floor",
    "floor_divide", "logical_xor", "remainder", "round", "sign", "addcdiv", "addcmul", "addmm",
    "addmv", "allclose", "argwhere", "baddbmm", "bmm", "clone", "count_nonzero", "diag", "dot",
    "equal", "exp2", "hstack", "is_floating_point", "is_tensor", "isclose", "isinf", "lerp",
    "log2", "log10", "logit", "meshgrid", "mm", "mv", "nan_to_num", "numel", "positive", "reciprocal",
    "repeat_interleave", "square", "tile", "trace", "unique", "unique_consecutive", "vstack", "index_fill",
    "masked_select", "scatter", "acos", "asin", "atan", "atan2", "cosh", "erf", "expm1", "sinh",
    "tan", "initial_seed", "Size", "concat", "concatenate", "clip", "true_divide", "divide",
    "multiply", "subtract", "negative", "absolute", "arctan2", "argsort", "t", "broadcast_to",
    "bernoulli", "normal", "index_reduce", "segment_reduce", "tril_indices", "triu_indices", "combinations",
]  # fmt: skip

# decoding: greedy and beam search, sampling (issue 10)
from glassgrad import decode  # noqa: E402

__all__ += ["decode"]

# the long tail of torch.* functions (indexing, movement, products, reductions, scans, math): torch_more.py
from glassgrad import torch_more as _more  # noqa: E402
from glassgrad.torch_more import *  # noqa: E402, F403

__all__ += _more.__all__

# out= on the top-level unary functions (torch.exp(x, out=y)), as PyTorch.
from glassgrad.ops.forms import unary_with_out as _unary_with_out  # noqa: E402

abs, cos, exp, log, log1p, rsqrt, sin, sqrt, tanh, sigmoid = (  # noqa: A001
    _unary_with_out(f, f.__name__) for f in (abs, cos, exp, log, log1p, rsqrt, sin, sqrt, tanh, sigmoid)
)

# sparse COO (sparse_tensor.py): layouts (strided == legacy's "strided"), the factory, spmm, glassgrad.sparse
from glassgrad import sparse  # noqa: E402
from glassgrad.sparse import sparse_coo_tensor, spmm  # noqa: E402
from glassgrad.sparse_products import dsmm, hsmm, hspmm, saddmm, smm, sspaddmm  # noqa: E402, F401 - outside __all__
from glassgrad.sparse_tensor import sparse_coo, strided  # noqa: E402, F811

__all__ += ["sparse", "sparse_coo", "sparse_coo_tensor", "spmm"]
# torch.jit (eager: script/trace return their argument), profiler, func, special, fft, fx, hub, testing,
# compiler (eager as glassgrad.compile), attributes after `import glassgrad` as PyTorch's; OutOfMemoryError
from glassgrad import compiler, fft, func, fx, hub, jit, onnx, profiler, special, testing  # noqa: E402, F401
from glassgrad._C import Graph, Value  # noqa: E402 - TorchScript's graph classes, for annotations (_C.py)
from glassgrad.dtypes import DType as dtype  # noqa: E402, N813 - torch.dtype, the dtypes' class
from glassgrad.errors import OutOfMemoryError  # noqa: E402
from glassgrad.func import vmap  # noqa: E402 - torch.vmap: a loop over the batch (func/vmap.py)
from glassgrad.jit_annotations import DeviceObjType, TensorType  # noqa: E402 - TorchScript's types, for annotations
from glassgrad.library_ops import Tag  # noqa: E402 - torch.Tag: operator tags (library custom_op/define)

__all__ += ["OutOfMemoryError", "Graph", "Tag", "Value", "TensorType", "DeviceObjType", "compiler", "dtype", "fft", "func", "jit", "profiler", "special", "testing", "vmap"]  # fmt: skip
torch, math = __import__("sys").modules[__name__], __import__("math")  # PyTorch's torch.torch, torch.math

# out= on the other top-level functions (out_keyword.py), then axis=/keepdims=, input=/other= (numpy_names.py)
from glassgrad import numpy_names as _numpy_names  # noqa: E402
from glassgrad import out_keyword as _out_keyword  # noqa: E402

_out_keyword.install(globals(), __all__)
_numpy_names.install(globals(), __all__, Tensor)

from glassgrad.public_names import own_names as _own_names  # noqa: E402 - pickle by public names

_own_names(globals(), __all__, "glassgrad", Tensor)
if __import__("importlib.util").util.find_spec("einops"):  # einops on our tensors (einops.py)
    from glassgrad import einops as _einops  # noqa: F401
# torch.multiprocessing, torch.functional (out=/axis= ops), torch.overrides, torch.quasirandom, torch.__future__: last, as torch's
from glassgrad import __future__, functional, library, multiprocessing, overrides, quasirandom  # noqa: E402, F401
from glassgrad.torch_runtime import module_getattr as __getattr__  # noqa: E402, F401 - torch.has_mps
