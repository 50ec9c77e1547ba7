"""Top-level functions of ``torch`` gathered here from the modules that hold them: the in-place
functions (``torch.sin_(x)`` is ``x.sin_()``), the gamma draws of ``torch._standard_gamma``,
the layer functions (``torch_nn_functions.py``), the view copies and scatters
(``torch_copies.py``), small predicates and switches (``torch_misc.py``), quantiles, covariance,
integer arithmetic and index builders (twentieth session), the ``torch._foreach_*`` list ops
(``foreach_ops.py``), runtime helpers (``get_device_module``, ``from_file``: ``torch_runtime.py``),
the ``torch._check`` family (``torch_checks.py``), the deprecated per-device autocast state
functions and the nesting counter (``amp/autocast_legacy.py``)."""

from __future__ import annotations

from typing import Any

from glassgrad import (
    _C,  # noqa: F401 - torch._C (its private hooks), as after `import torch`
    _VF,  # noqa: F401 - torch._VF, as after `import torch`
    __config__,  # noqa: F401 - torch.__config__ (show(), parallel_info()), as after `import torch`
    # PyTorch's private submodules that `import torch` loads, so that code reading them as
    # attributes ports (einx 0.3's `torch._subclasses.FakeTensor`; port round 56)
    _decomp,  # noqa: F401
    _higher_order_ops,  # noqa: F401
    _inductor,  # noqa: F401
    _jit_internal,  # noqa: F401
    _subclasses,  # noqa: F401
    _utils,  # noqa: F401
    foreach_ops,
    index_builders,
    layouts,
    library,
    masked,  # noqa: F401 - torch.masked (mask= reductions), as after `import torch`
    mps,
    rnn_functions,
    signal,  # noqa: F401 - torch.signal (its windows), as after `import torch`
    sym_types,
    tensor_casts,  # noqa: F401 - float(memory_format=) ... replace the plain casts at import
    tensor_methods_more,  # noqa: F401 - attaches its Tensor methods at import
    torch_aten_more,
    torch_checks,
    torch_copies,
    torch_losses,
    torch_misc,
    torch_nn_functions,
    torch_runtime,
    types,  # noqa: F401 - torch.types (its annotation aliases), as after `import torch`
)
from glassgrad.amp import autocast_legacy
from glassgrad.amp.autocast_legacy import *  # noqa: F403
from glassgrad.dtypes import (
    chalf,
    complex32,
    float4_e2m1fn_x2,
    float8_e4m3fn,
    float8_e4m3fnuz,
    float8_e5m2,
    float8_e5m2fnuz,
    float8_e8m0fnu,
    int1,
    int2,
    int3,
    int4,
    int5,
    int6,
    int7,
    qint8,
    qint32,
    quint2x4,
    quint4x2,
    quint8,
    uint1,
    uint2,
    uint3,
    uint4,
    uint5,
    uint6,
    uint7,
    uint16,
    uint32,
    uint64,
)
from glassgrad.finite_differences import gradient
from glassgrad.foreach_ops import *  # noqa: F403
from glassgrad.index_builders import *  # noqa: F403
from glassgrad.layouts import *  # noqa: F403
from glassgrad.linalg_lowrank import pca_lowrank, svd_lowrank
from glassgrad.onnx.operators import _reshape_from_tensor, _shape_as_tensor
from glassgrad.ops.gamma_reparam import sample_standard_gamma as _standard_gamma
from glassgrad.ops.gamma_reparam import standard_gamma_grad as _standard_gamma_grad
from glassgrad.ops.histogramdd import histogramdd
from glassgrad.ops.int_math import frexp, gcd, heaviside, lcm, ldexp
from glassgrad.ops.quantile import nanquantile, quantile
from glassgrad.ops.stats_more import corrcoef, cov
from glassgrad.rnn_functions import *  # noqa: F403
from glassgrad.streams import Event, Stream
from glassgrad.sym_types import *  # noqa: F403
from glassgrad.tensor_methods_extra import geqrf, nonzero_static, orgqr, ormqr
from glassgrad.torch_aten_more import *  # noqa: F403
from glassgrad.torch_checks import *  # noqa: F403
from glassgrad.torch_copies import *  # noqa: F403
from glassgrad.torch_losses import *  # noqa: F403
from glassgrad.torch_misc import *  # noqa: F403
from glassgrad.torch_nn_functions import *  # noqa: F403
from glassgrad.torch_runtime import *  # noqa: F403
from glassgrad.zip_archive import PyTorchFileReader

__all__ = [
    "_standard_gamma", "_standard_gamma_grad", "_segment_reduce", "_shape_as_tensor", "_reshape_from_tensor", "frexp", "gcd", "heaviside", "lcm", "ldexp", "quantile",
    "nanquantile", "cov", "corrcoef", "histogramdd", "gradient", "pca_lowrank", "svd_lowrank", "geqrf", "nonzero_static", "orgqr", "ormqr", *rnn_functions.__all__, *torch_aten_more.__all__,
    *index_builders.__all__, *layouts.__all__, *torch_copies.__all__, *torch_misc.__all__, *torch_nn_functions.__all__,
    *torch_losses.__all__, *torch_checks.__all__, *autocast_legacy.__all__, *foreach_ops.__all__, *torch_runtime.__all__, *sym_types.__all__, "uint16", "uint32", "uint64", "float8_e4m3fn",
    "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "complex32",
    "chalf", "mps", "library", "Stream", "Event", "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7", "int1", "int2", "int3",
    "int4", "int5", "int6", "int7", "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "PyTorchFileReader", "ScriptModule",
]  # fmt: skip

# torch.storage (the storage classes' module, ``from torch.storage import UntypedStorage``): an
# attribute of the package once imported, as in PyTorch, not a name of ``__all__``
from glassgrad import storage  # noqa: F401

# torch.ScriptModule (the compiled module class; Lightning imports it for annotations): glassgrad's
# scripting is eager, so it is torch.jit's ScriptModule, a plain Module
from glassgrad.jit import ScriptModule


def _inplace_function(name: str) -> Any:
    """``torch.sin_(x)``: the function form of the in-place method ``x.sin_()``."""

    def fn(input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002 - PyTorch's name
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"``x.{name}()`` in function form (PyTorch's ``torch.{name}(x)``): x changed in place and returned."
    )
    return fn


#: PyTorch's top-level in-place functions (``torch.sin_(x)``, ``torch.relu_(x)``, ``torch.zero_(x)``).
_INPLACE = (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_",
    "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_",
    "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_",
    "frac_", "i0_", "index_put_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
    "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_",
    "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_", "gcd_", "lcm_", "ldexp_",
    "addmv_", "conj_physical_",
)  # fmt: skip
globals().update({_n: _inplace_function(_n) for _n in _INPLACE})
__all__ += list(_INPLACE)


def _segment_reduce(
    data: Any, reduce: str, *, lengths: Any = None, indices: Any = None, offsets: Any = None,
    axis: int = 0, unsafe: bool = False, initial: Any = None,
) -> Any:  # fmt: skip
    """``torch._segment_reduce``: PyTorch's private name of ``torch.segment_reduce`` (one builtin
    there), which PyTorch Geometric's ``utils.segment`` and ``softmax(ptr=...)`` call; the public
    function is looked up at each call, so a ``__torch_function__`` override of it is asked too."""
    import glassgrad

    return glassgrad.segment_reduce(
        data,
        reduce,
        lengths=lengths,
        indices=indices,
        offsets=offsets,
        axis=axis,
        unsafe=unsafe,
        initial=initial,
    )
