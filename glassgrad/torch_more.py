"""The long tail of PyTorch's top-level functions, re-exported by ``glassgrad/__init__.py``:
indexing, movement and product ops (``index_add`` ... ``vdot``, ``cross``), reductions and scans
(``median`` ... ``var_mean``, ``cumprod`` ...), elementwise math (``copysign`` ... ``i0``) and
the runtime settings: the BLAS thread pool's size (``threads.py``), the float32 matmul precision
(kept and read back: NumPy's float32 BLAS always computes at "highest"), memory formats and
``empty_strided``. Each lives in its own module; this file only gathers the names."""

from __future__ import annotations

from typing import Any

# torch.version (cuda None, as PyTorch's CPU build): importing the submodule binds glassgrad.version;
# kept out of __all__ (and so of docs/api.md's name list) as a module, like torch's; torch.futures too
# (torch.Future, the futures' base class, is in __all__), for libraries that return futures (Captum)
from glassgrad import futures, version  # noqa: F401
from glassgrad.deterministic import (
    are_deterministic_algorithms_enabled,
    get_deterministic_debug_mode,
    is_deterministic_algorithms_warn_only_enabled,
    set_deterministic_debug_mode,
    use_deterministic_algorithms,
)
from glassgrad.factories_asarray import asarray, frombuffer
from glassgrad.factories_like import empty_strided
from glassgrad.futures import _FutureBase as Future
from glassgrad.legacy import typename
from glassgrad.legacy_storage import *  # noqa: F403 - ByteStorage, FloatStorage ... (legacy typed storages)
from glassgrad.legacy_storage import __all__ as _legacy_storages
from glassgrad.linalg_decomp import matrix_exp, pinverse
from glassgrad.linalg_decomp import torch_qr as qr
from glassgrad.linalg_lu import lu_solve, lu_unpack
from glassgrad.linalg_lu import torch_lu as lu

# indexing, movement and product ops of indexing_more / movement_more / products_more, linalg_more
from glassgrad.linalg_more import torch_cross as cross
from glassgrad.linalg_solve import cholesky_inverse, cholesky_solve, det, logdet, matrix_power, slogdet
from glassgrad.linalg_solve import inv as inverse
from glassgrad.matmul_precision import get_float32_matmul_precision, set_float32_matmul_precision
from glassgrad.memory_formats import channels_last, channels_last_3d, memory_format
from glassgrad.ops.as_strided import as_strided

# elementwise math: copysign ... bit shifts (ops/math_more.py), asinh ... i0 (ops/unary_more.py)
from glassgrad.ops.compare import bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ge, gt, le, lt, ne
from glassgrad.ops.composite import cartesian_prod

# reduce_more / cumulative: median, mode, kthvalue, nansum/nanmean, var_mean/std_mean, aminmax, scans
from glassgrad.ops.cumulative import cummax, cummin, cumprod, logcumsumexp, msort
from glassgrad.ops.histogram import bincount, bucketize, histc, histogram, searchsorted
from glassgrad.ops.indexing_more import index_add, index_copy, index_put, masked_scatter, put
from glassgrad.ops.isin import isin
from glassgrad.ops.linalg_svd import svd
from glassgrad.ops.math_more import (
    bitwise_left_shift,
    bitwise_right_shift,
    copysign,
    float_power,
    fmax,
    fmin,
    fmod,
    hypot,
    logaddexp,
    logaddexp2,
    nextafter,
    xlogy,
)
from glassgrad.ops.matmul import outer
from glassgrad.ops.movement_more import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_shapes,
    broadcast_tensors,
    column_stack,
    diag_embed,
    diagflat,
    diff,
    dstack,
    fliplr,
    flipud,
    rot90,
    row_stack,
    take,
    take_along_dim,
)
from glassgrad.ops.pieces import unsafe_chunk, unsafe_split, unsafe_split_with_sizes
from glassgrad.ops.products_more import addbmm, addr, cdist, dist, inner, kron, pdist, tensordot, vdot
from glassgrad.ops.reduce_more import (
    aminmax,
    kthvalue,
    median,
    mode,
    nanmean,
    nanmedian,
    nansum,
    std_mean,
    var_mean,
)
from glassgrad.ops.scatter import scatter_reduce
from glassgrad.ops.special_gamma import gammainc as igamma
from glassgrad.ops.special_gamma import gammaincc as igammac
from glassgrad.ops.special_more import mvlgamma
from glassgrad.ops.split_directions import dsplit, hsplit, tensor_split, vsplit
from glassgrad.ops.trapezoid import cumulative_trapezoid, trapezoid, trapz
from glassgrad.ops.trig import acos, asin, atan
from glassgrad.ops.unary_more import (
    acosh,
    asinh,
    atanh,
    deg2rad,
    digamma,
    erfc,
    erfinv,
    fix,
    frac,
    i0,
    isneginf,
    isposinf,
    lgamma,
    polygamma,
    rad2deg,
    sgn,
    signbit,
    sinc,
    trunc,
)

# PyTorch's removed symeig/eig/lstsq/solve/matrix_rank: stubs that raise with the replacement
from glassgrad.removed_linalg import eig, lstsq, matrix_rank, solve, symeig
from glassgrad.spectral import (
    bartlett_window,
    blackman_window,
    hamming_window,
    hann_window,
    istft,
    kaiser_window,
    stft,
)
from glassgrad.tensor_storage import TypedStorage, UntypedStorage
from glassgrad.threads import get_num_threads, set_num_threads
from glassgrad.type_promotion import can_cast, promote_types, result_type

arcsinh, arccosh, arctanh, arcsin, arccos, arctan = asinh, acosh, atanh, asin, acos, atan
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge
ger = outer  # PyTorch 2.13 keeps its old name, without a warning (stylegan2-pytorch's ADA augment)


# torch.sin_(x) and the other top-level in-place functions; torch._standard_gamma and kin
from glassgrad.torch_functions_more import *  # noqa: E402, F403
from glassgrad.torch_functions_more import _INPLACE  # noqa: E402, F401 - read by the in-place tests
from glassgrad.torch_functions_more import __all__ as _functions_more_all  # noqa: E402


def clamp_min(input: Any, min: Any) -> Any:  # noqa: A002 - PyTorch's names
    """``torch.clamp_min(x, min)``: ``clamp(x, min=min)`` (a number or a broadcasting tensor); port
    round 24 (labml_nn's sketch_rnn calls it). Shape: x's, or the broadcast of x and a tensor bound."""
    from glassgrad.ops.clamp import clamp_one_side

    return clamp_one_side(input, min, None)


def clamp_max(input: Any, max: Any) -> Any:  # noqa: A002 - PyTorch's names
    """``torch.clamp_max(x, max)``: ``clamp(x, max=max)``. Shape: as ``clamp_min``'s."""
    from glassgrad.ops.clamp import clamp_one_side

    return clamp_one_side(input, None, max)


# Names that ported training scripts reach for at import time (port round 9): the dtypes NumPy has
# (complex) or lacks (bfloat16: a name only, dtypes.py), the one-process torch.distributed, and
# torch.amp (GradScaler; autocast casts nothing, amp/autocast_mode.py).
from glassgrad import amp, cpu, distributed  # noqa: E402
from glassgrad.amp import (  # noqa: E402 - torch.autocast is torch.amp.autocast
    GradScaler,
    autocast,
    get_autocast_dtype,
    is_autocast_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from glassgrad.dtypes import bfloat16, complex64, complex128  # noqa: E402

# complex tensors (ops/complex.py; port round 10: llama's rotary embeddings)
from glassgrad.ops.complex import (  # noqa: E402
    angle,
    complex,
    conj,
    conj_physical,
    imag,
    is_complex,
    is_conj,
    polar,
    real,
    resolve_conj,
    view_as_complex,
    view_as_real,
)

cfloat, cdouble = complex64, complex128

__all__ = [
    "Future",
    "as_strided",
    "asarray",
    "frombuffer",
    "TypedStorage",
    "UntypedStorage",
    "cartesian_prod",
    "igamma",
    "igammac",
    "symeig",
    "eig",
    "lstsq",
    "solve",
    "matrix_rank",
    "arcsin",
    "arccos",
    "arctan",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "cross",
    "index_add",
    "bincount",
    "bucketize",
    "isin",
    "stft",
    "istft",
    "hann_window",
    "kaiser_window",
    "hamming_window",
    "blackman_window",
    "bartlett_window",
    "searchsorted",
    "histc",
    "histogram",
    "index_copy",
    "index_put",
    "masked_scatter",
    "put",
    "scatter_reduce",
    "take",
    "take_along_dim",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_shapes",
    "broadcast_tensors",
    "column_stack",
    "diag_embed",
    "diagflat",
    "diff",
    "dstack",
    "fliplr",
    "flipud",
    "rot90",
    "row_stack",
    "tensor_split",
    "hsplit",
    "unsafe_split",
    "unsafe_split_with_sizes",
    "unsafe_chunk",
    "vsplit",
    "dsplit",
    "addbmm",
    "addr",
    "cdist",
    "dist",
    "pdist",
    "inner",
    "kron",
    "ger",
    "tensordot",
    "vdot",
    "cummax",
    "cummin",
    "cumprod",
    "logcumsumexp",
    "msort",
    "trapezoid",
    "trapz",
    "cumulative_trapezoid",
    "aminmax",
    "kthvalue",
    "median",
    "mode",
    "nanmean",
    "nanmedian",
    "nansum",
    "std_mean",
    "var_mean",
    "bitwise_and",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "acosh",
    "asinh",
    "atanh",
    "arccosh",
    "arcsinh",
    "arctanh",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "copysign",
    "deg2rad",
    "fix",
    "float_power",
    "fmax",
    "fmin",
    "fmod",
    "frac",
    "hypot",
    "logaddexp",
    "logaddexp2",
    "nextafter",
    "rad2deg",
    "sgn",
    "signbit",
    "isposinf",
    "isneginf",
    "sinc",
    "trunc",
    "xlogy",
    "digamma",
    "erfc",
    "erfinv",
    "i0",
    "lgamma",
    "polygamma",
    "mvlgamma",
    "svd",
    "qr",
    "pinverse",
    "matrix_exp",
    "inverse",
    "det",
    "logdet",
    "slogdet",
    "matrix_power",
    "cholesky_solve",
    "cholesky_inverse",
    *_functions_more_all,  # (the in-place functions among them)
    "clamp_min",
    "clamp_max",
    "distributed",
    "amp",
    "cpu",
    "GradScaler",
    "autocast",
    "get_autocast_dtype",
    "is_autocast_enabled",
    "set_autocast_dtype",
    "set_autocast_enabled",
    "bfloat16",
    "complex64",
    "complex128",
    "cfloat",
    "cdouble",
    "angle",
    "complex",
    "conj",
    "conj_physical",
    "imag",
    "is_complex",
    "is_conj",
    "polar",
    "real",
    "resolve_conj",
    "view_as_complex",
    "view_as_real",
    "get_num_threads",
    "set_num_threads",
    "are_deterministic_algorithms_enabled",
    "get_deterministic_debug_mode",
    "is_deterministic_algorithms_warn_only_enabled",
    "set_deterministic_debug_mode",
    "use_deterministic_algorithms",
    "get_float32_matmul_precision",
    "set_float32_matmul_precision",
    "channels_last",
    "channels_last_3d",
    "memory_format",
    "empty_strided",
    "typename",
    "promote_types",
    "result_type",
    "can_cast",
    "lu",
    "lu_unpack",
    "lu_solve",
]
__all__ += _legacy_storages
