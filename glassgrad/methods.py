# ruff: noqa: A006 - PyTorch's parameter names (min, max) are the API
"""The long tail of PyTorch's Tensor methods that scripts use (``new_zeros``, ``scatter_``,
``addmm``, ``atan2``, ``byte()`` ...), each a one-liner over the ops, attached to ``Tensor`` when
glassgrad is imported. The core methods live in ``tensor_methods.py``; these are kept here so that
file stays a readable list of the core. In-place variants go through ``Tensor._update`` (recorded
on non-leaves, refused on leaves that require grad, as PyTorch).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import numpy as np

from glassgrad import linalg_decomp as _ld
from glassgrad import linalg_more
from glassgrad import linalg_solve as _ls
from glassgrad.errors import DTypeError
from glassgrad.legacy import legacy_new
from glassgrad.methods_inplace import compared_inplace as _compared_inplace
from glassgrad.methods_inplace import inplace as _inplace
from glassgrad.methods_inplace import inplace_of as _inplace_of
from glassgrad.methods_inplace import untracked_inplace as _untracked_inplace
from glassgrad.methods_inplace import view_inplace as _view_inplace
from glassgrad.ops import activation, clamp, compare, composite, elementwise, indexing, scatter, trig, unary
from glassgrad.ops import complex as _cx
from glassgrad.ops import cumulative as _cu
from glassgrad.ops import histogram as _hist
from glassgrad.ops import indexing_more as _im
from glassgrad.ops import lerp as _lerp
from glassgrad.ops import linalg_svd as _svd
from glassgrad.ops import math_more as _mm
from glassgrad.ops import movement_more as _mv
from glassgrad.ops import pieces as _pieces
from glassgrad.ops import products_more as _pm
from glassgrad.ops import reduce_more as _rm
from glassgrad.ops import special_gamma as _sg
from glassgrad.ops import special_more as _sm
from glassgrad.ops import split_directions as _sd
from glassgrad.ops import unary_more as _um
from glassgrad.random_fills import METHODS as _RANDOM_METHODS
from glassgrad.tensor import Tensor
from glassgrad.tensor_new import NEW_METHODS
from glassgrad.tensor_resize import METHODS as _RESIZE_METHODS
from glassgrad.tensor_storage import METHODS as _STORAGE_METHODS

__all__ = ["METHODS"]


def _multiprocessing() -> Any:
    """glassgrad.multiprocessing, loaded on first use (it imports Python's multiprocessing)."""
    return importlib.import_module("glassgrad.multiprocessing")


def _float_power_(self: Tensor, exponent: Any) -> Tensor:
    """In place, as PyTorch's: the result is complex128 when either side is complex (a complex128
    tensor takes any exponent), else float64, and ``self`` must hold that dtype already."""
    complex_exp = isinstance(exponent, complex) or (
        isinstance(exponent, Tensor) and exponent._data.dtype.kind == "c"
    )
    result = np.complex128 if complex_exp or self._data.dtype.kind == "c" else np.float64
    if self._data.dtype != result:
        raise DTypeError(
            f"float_power_: expected a {np.dtype(result).name} tensor (the result is "
            f"{np.dtype(result).name}), got {self.dtype}"
        )
    return self._update("float_power_", _mm.float_power, exponent)


def _subtract(self: Tensor, other: Any, *, alpha: Any = None) -> Tensor:
    """``x.subtract(y, alpha=a)``: ``sub`` without its deprecated ``sub(a, y)`` form (PyTorch's has none)."""
    return self.sub(other, alpha=alpha)


# elementwise math (ops/math_more.py, ops/unary_more.py), with the in-place form where PyTorch has one
_MATH = {
    **{n: getattr(_mm, n) for n in ("copysign", "fmod", "hypot", "xlogy", "nextafter", "bitwise_left_shift",
                                    "bitwise_right_shift")},
    **{n: getattr(_um, n) for n in ("asinh", "acosh", "atanh", "sinc", "deg2rad", "rad2deg", "frac", "trunc", "fix",
                                    "sgn", "erfc", "erfinv", "lgamma", "digamma", "i0")},
    **{n: getattr(compare, n) for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "logical_and",
                                        "logical_or", "logical_xor", "logical_not")},
    "arcsinh": _um.asinh, "arccosh": _um.acosh, "arctanh": _um.atanh,
    "polygamma": lambda self, n: _um.polygamma(n, self),
    "mvlgamma": lambda self, p: _sm.mvlgamma(self, p), "igamma": _sg.gammainc, "igammac": _sg.gammaincc,
    "true_divide": elementwise.div, "divide": elementwise.div, "multiply": elementwise.mul, "subtract": _subtract,
}  # fmt: skip
_MATH_METHODS = {
    **_MATH,
    **{n: getattr(_mm, n) for n in ("fmax", "fmin", "logaddexp", "logaddexp2", "float_power")},
    "signbit": _um.signbit,
    "isposinf": _um.isposinf,
    "isneginf": _um.isneginf,
    **{f"{n}_": _inplace_of(n) for n in _MATH},  # through the methods: their keywords (other=, rounding_mode=)
    **{f"{n}_": _untracked_inplace(n) for n in ("logical_and", "logical_or", "logical_xor", "logical_not")},
    "float_power_": _float_power_,
}  # fmt: skip


_SAME_SHAPE_INPLACE = (
    "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh", "erf",
    "expm1", "log1p", "log2", "log10", "exp2", "reciprocal", "rsqrt", "sign", "negative",
    "atan2", "arctan2", "logit", "nan_to_num", "tril", "triu", "cumsum", "remainder", "floor_divide",
    "eq", "ne", "lt", "le", "gt", "ge", "not_equal", "less", "less_equal", "greater", "greater_equal",
)  # fmt: skip
_COMPARED_INPLACE = {  # (after _SAME_SHAPE_INPLACE in METHODS: these forms win)
    "eq": "eq", "ne": "ne", "lt": "lt", "le": "le", "gt": "gt", "ge": "ge", "not_equal": "ne", "less": "lt",
    "less_equal": "le", "greater": "gt", "greater_equal": "ge",
}  # fmt: skip

METHODS: dict[str, Any] = {
    **_MATH_METHODS,  # first, so that an entry below of the same name wins
    "abs_": _inplace("abs_", unary.abs_inplace),
    "absolute_": _inplace("absolute_", unary.abs_inplace),
    "exp_": _inplace("exp_", unary.exp),
    "log_": _inplace("log_", unary.log),
    "sqrt_": _inplace("sqrt_", unary.sqrt),
    "neg_": _inplace("neg_", elementwise.neg),
    "square_": _inplace("square_", Tensor.square),
    "relu_": _inplace("relu_", activation.relu),
    "sigmoid_": _inplace("sigmoid_", activation.sigmoid),
    "tanh_": _inplace("tanh_", unary.tanh),
    "floor_": _inplace("floor_", compare.floor),
    "ceil_": _inplace("ceil_", compare.ceil),
    "round_": _inplace("round_", compare.round),
    "clamp_min_": _inplace("clamp_min_", lambda t, min: clamp.clamp_one_side(t, min, None)),
    "clamp_max_": _inplace("clamp_max_", lambda t, max: clamp.clamp_one_side(t, None, max)),
    **NEW_METHODS,
    "new": legacy_new,
    "masked_select": scatter.masked_select,
    "scatter": scatter.scatter,
    "scatter_": _inplace("scatter_", scatter.scatter),
    "scatter_add": indexing.scatter_add,
    "scatter_add_": _inplace("scatter_add_", indexing.scatter_add),
    "index_fill": scatter.index_fill,
    "index_fill_": _inplace("index_fill_", scatter.index_fill),
    "addmm": composite.addmm,
    "addmm_": _inplace("addmm_", composite.addmm, blas=True),
    "baddbmm": composite.baddbmm,
    "addmv": composite.addmv,
    "mv": composite.mv,
    "dot": composite.dot,
    "lerp": _lerp.lerp,
    "lerp_": _inplace("lerp_", _lerp.lerp_),
    "addcmul": composite.addcmul,
    "addcmul_": _inplace("addcmul_", composite.addcmul, legacy=2),
    "addcdiv": composite.addcdiv,
    "addcdiv_": _inplace("addcdiv_", composite.addcdiv, legacy=2),
    "diag": composite.diag,
    "trace": composite.trace,
    "repeat_interleave": composite.repeat_interleave,
    "tile": composite.tile,
    "log2": composite.log2,
    "log10": composite.log10,
    "exp2": composite.exp2,
    "logit": composite.logit,
    "isinf": composite.isinf,
    "nan_to_num": composite.nan_to_num,
    "isclose": composite.isclose,
    "allclose": composite.allclose,
    "equal": composite.equal,
    "count_nonzero": lambda self, dim=None, *more: composite.count_nonzero(
        self, (dim, *more) if more else dim
    ),
    "argwhere": composite.argwhere,
    "unique": composite.unique,
    "unique_consecutive": composite.unique_consecutive,
    "tan": trig.tan,
    "asin": trig.asin,
    "acos": trig.acos,
    "atan": trig.atan,
    "atan2": trig.atan2,
    "arctan2": trig.atan2,
    "arcsin": trig.asin,
    "arccos": trig.acos,
    "arctan": trig.atan,
    "not_equal": compare.ne,
    "less": compare.lt,
    "less_equal": compare.le,
    "greater": compare.gt,
    "greater_equal": compare.ge,
    "sinh": trig.sinh,
    "cosh": trig.cosh,
    "erf": trig.erf,
    "expm1": trig.expm1,
    "clamp_min": lambda self, min: clamp.clamp_one_side(self, min, None),
    "clamp_max": lambda self, max: clamp.clamp_one_side(self, None, max),
    "logical_and": compare.logical_and,
    "logical_or": compare.logical_or,
    "logical_xor": lambda self, other: compare.ne(
        self.bool(), other.bool() if isinstance(other, Tensor) else bool(other)
    ),
    "true_divide": elementwise.div,
    "divide": lambda self, other, *, rounding_mode=None: self.div(other, rounding_mode=rounding_mode),
    "multiply": elementwise.mul,
    "subtract": _subtract,
    "negative": elementwise.neg,
    "positive": composite.positive,
    "absolute": Tensor.abs,
    "floor_divide": compare.floor_divide,
    "remainder": compare.remainder,
    "nelement": Tensor.numel,
    "ndimension": Tensor.dim,
    # PyTorch's ravel is contiguous().view(-1): a copy for any non-contiguous input, even one whose
    # strides could show it flat (x[:, ::2]), where reshape(-1) is a view that writes reach
    "ravel": lambda self: self.contiguous().view(-1),
    "_is_view": lambda self: self._base is not None,  # PyTorch's private test, read by scripts
    # data_ptr, storage_offset: tensor_methods_extra.py
    "pin_memory": lambda self, device=None: self,
    "share_memory_": lambda self: _multiprocessing().share_memory_(self),
    "is_pinned": lambda self, device=None: False,
    # before glassgrad.multiprocessing is loaded (by share_memory_) nothing can be shared
    "is_shared": lambda self: (
        "glassgrad.multiprocessing" in sys.modules and _multiprocessing().is_shared(self)
    ),
    "is_complex": lambda self: self._data.dtype.kind == "c",
    "is_signed": lambda self: self._data.dtype.kind in "fic",  # complex too, as PyTorch (not bool, uint)
    "t_": _view_inplace("t_", Tensor.t),
    "transpose_": _view_inplace("transpose_", Tensor.transpose),
    "swapaxes_": _view_inplace("swapaxes_", Tensor.swapaxes),
    "swapdims_": _view_inplace("swapdims_", Tensor.swapdims),
    "unsqueeze_": _view_inplace("unsqueeze_", Tensor.unsqueeze),
    "squeeze_": _view_inplace("squeeze_", Tensor.squeeze),
    # (Tensor.as_strided is attached by tensor_storage, after this table is built)
    "as_strided_": _view_inplace(
        "as_strided_", lambda self, *args, **kwargs: self.as_strided(*args, **kwargs)
    ),
    **{f"{n}_": _inplace_of(n) for n in _SAME_SHAPE_INPLACE},  # the rest of the same-shape in-place forms
    **{f"{n}_": _compared_inplace(n, op) for n, op in _COMPARED_INPLACE.items()},
    **_RANDOM_METHODS,  # exponential_, log_normal_, cauchy_, geometric_, random_
    "median": _rm.median,  # reduce_more / cumulative
    "nanmedian": _rm.nanmedian,
    "mode": _rm.mode,
    "kthvalue": _rm.kthvalue,
    "nansum": _rm.nansum,
    "nanmean": _rm.nanmean,
    "aminmax": _rm.aminmax,
    "cumprod": _cu.cumprod,
    "cumprod_": _inplace("cumprod_", _cu.cumprod),
    "cummax": _cu.cummax,
    "cummin": _cu.cummin,
    "logcumsumexp": _cu.logcumsumexp,
    "msort": _cu.msort,
    # indexing_more / movement_more / products_more / linalg_more
    "index_add": _im.index_add,
    "index_add_": _inplace("index_add_", _im.index_add),
    "index_copy": _im.index_copy,
    "index_copy_": _inplace("index_copy_", _im.index_copy),
    "index_put": _im.index_put,
    "index_put_": _inplace("index_put_", _im.index_put),
    "put": _im.put,
    "put_": _inplace("put_", _im.put),
    "masked_scatter": _im.masked_scatter,
    "masked_scatter_": _inplace("masked_scatter_", _im.masked_scatter),
    "scatter_reduce": scatter.scatter_reduce,
    "scatter_reduce_": _inplace("scatter_reduce_", scatter.scatter_reduce),
    "index_reduce": scatter.index_reduce,
    "index_reduce_": _inplace("index_reduce_", scatter.index_reduce),
    "take": _mv.take,
    "take_along_dim": _mv.take_along_dim,
    "fliplr": _mv.fliplr,
    "flipud": _mv.flipud,
    "rot90": _mv.rot90,
    "tensor_split": _sd.tensor_split,
    "hsplit": _sd.hsplit,
    "unsafe_split": _pieces.unsafe_split,
    "unsafe_split_with_sizes": _pieces.unsafe_split_with_sizes,
    "unsafe_chunk": _pieces.unsafe_chunk,
    "vsplit": _sd.vsplit,
    "dsplit": _sd.dsplit,
    "diff": _mv.diff,
    "diag_embed": _mv.diag_embed,
    "diagflat": _mv.diagflat,
    "unfold": _mv.unfold,
    "kron": _pm.kron,
    "inner": _pm.inner,
    "vdot": _pm.vdot,
    "dist": _pm.dist,
    "addbmm": _pm.addbmm,
    "addbmm_": _inplace("addbmm_", _pm.addbmm, blas=True),
    "addr": _pm.addr,
    "addr_": _inplace("addr_", _pm.addr, blas=True),
    "cross": linalg_more.torch_cross,
    "svd": _svd.svd,
    "qr": _ld.torch_qr,
    "pinverse": _ld.pinverse,
    "matrix_exp": _ld.matrix_exp,
    "inverse": _ls.inv,
    "det": _ls.det,
    "logdet": _ls.logdet,
    "slogdet": _ls.slogdet,
    "matrix_power": _ls.matrix_power,
    "cholesky_solve": _ls.cholesky_solve,
    "cholesky_inverse": _ls.cholesky_inverse,
    **_hist.METHODS,  # histogram, histc, bincount (ops/histogram.py)
    **_cx.METHODS,  # complex tensors: .real/.imag (writable views), conj, angle ... (ops/complex.py)
    **_RESIZE_METHODS,  # resize_, resize_as_ (tensor_resize.py)
    **_STORAGE_METHODS,  # storage, untyped_storage (tensor_storage.py)
}


for _name, _fn in METHODS.items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)

# sparse COO's dense side (sparse_tensor.py, sparse_more.py); is_sparse: tensor_device.py
from glassgrad import sparse_from_dense as _sparse_from_dense  # noqa: E402
from glassgrad import sparse_tensor as _sp  # noqa: E402

Tensor.layout = property(lambda self: _sp.strided)
Tensor.to_sparse = _sparse_from_dense.to_sparse
Tensor.to_dense = _sparse_from_dense.dense_to_dense


def _sparse_dim(self: Tensor) -> int:
    """A strided tensor's sparse dims: none (PyTorch answers 0; the COO class has its own)."""
    return 0


def _dense_dim(self: Tensor) -> int:
    """A strided tensor's dense dims: all of them, ``self.dim()``, as PyTorch's."""
    return self.ndim


Tensor.sparse_dim = _sparse_dim
Tensor.dense_dim = _dense_dim


def _array_wrap(self: Tensor, array: np.ndarray, context: Any = None, return_scalar: bool = False) -> Tensor:
    """NumPy hands a ufunc's result on a tensor back through this: ``np.clip(t, 0., 1.)``,
    ``np.sqrt(t)``, ``np.add(t, a)`` give a tensor (no grad), as PyTorch's ``__array_wrap__``
    does; a bool result becomes uint8, as in PyTorch (its workaround from before bool tensors)."""
    from glassgrad.factories import adopt  # (a late import: factories imports this module's users)

    array = np.asarray(array)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    return adopt(array if array.flags.writeable else array.copy())  # NumPy's new result: resizable


Tensor.__array_wrap__ = _array_wrap
