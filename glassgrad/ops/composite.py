# ruff: noqa: A001, A002 - PyTorch's parameter names (input, sorted) are the API
"""PyTorch's tensor functions that are compositions of the primitives (no backward rule of their
own): matrix-product spellings (mm, bmm, mv, dot, addmm, baddbmm, addmv), lerp/addcmul/addcdiv,
diag/trace, repeat_interleave, the log/exp variants, comparisons that return Python values; and
``with_out`` (``out=`` handling, ops/out_write.py) re-exported. Each is a few lines over the
primitives, so gradients come for free.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassgrad.autograd.function import named
from glassgrad.backend import array_module, c_layout
from glassgrad.dtypes import float16
from glassgrad.errors import DTypeError, ShapeError, kernel_dtype_error
from glassgrad.meta_array import on_device_of, same_device
from glassgrad.operand_errors import close_operands, int_arg, refuse_sequence
from glassgrad.ops import complex as _cx
from glassgrad.ops import elementwise, joining
from glassgrad.ops import matmul as _mm
from glassgrad.ops import unary as _unary
from glassgrad.ops.activation_more import logit  # (a primitive there: re-exported)
from glassgrad.ops.alpha_checks import addc_value, blas_factors, to_result_dtype
from glassgrad.ops.closeness import isclose_array
from glassgrad.ops.log_bases import exp2, log2, log10  # (their own file: re-exported)
from glassgrad.ops.meshgrid import cartesian_prod, meshgrid  # (its own file: re-exported)
from glassgrad.ops.out_write import with_out  # (its own file: re-exported)
from glassgrad.ops.reduce import normalize_dims
from glassgrad.ops.repeat_interleave import repeat_interleave  # (its own file: re-exported)
from glassgrad.ops.scatter import scatter
from glassgrad.ops.unary_more import nan_to_num  # (its home since complex parts: re-exported)
from glassgrad.ops.unique import unique  # (its own file: re-exported)
from glassgrad.ops.unique_consecutive import unique_consecutive  # (its own file: re-exported)
from glassgrad.tensor import Tensor

__all__ = [
    "with_out", "mm", "bmm", "mv", "dot", "addmm", "baddbmm", "addmv", "lerp", "addcmul", "addcdiv", "number_first",
    "diag", "trace", "repeat_interleave", "tile", "log2", "log10", "exp2", "square", "reciprocal",
    "positive", "logit", "isinf", "nan_to_num", "allclose", "isclose", "equal", "count_nonzero", "argwhere",
    "unique", "unique_consecutive", "cartesian_prod", "meshgrid", "hstack", "vstack", "numel", "is_tensor", "is_floating_point", "clone",
]  # fmt: skip


def _dims(op: str, t: Tensor, n: int, name: str) -> None:
    if t.ndim != n:
        raise ShapeError(f"{op}: expected {name} with {n} dims, got shape {t.shape}")


def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product of two matrices ``(n, k) @ (k, m) -> (n, m)`` (no broadcasting)."""
    _dims("mm", input, 2, "input")
    _dims("mm", mat2, 2, "mat2")
    return with_out(_mm.matmul_as("mm", input, mat2), out, "mm")


def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Batched matrix product ``(b, n, k) @ (b, k, m) -> (b, n, m)`` (no broadcasting)."""
    _dims("bmm", input, 3, "input")
    _dims("bmm", mat2, 3, "mat2")
    if input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: expected equal batch sizes, got {input.shape} and {mat2.shape}")
    return with_out(named(_mm.matmul_as("bmm", input, mat2), "BmmBackward0"), out, "bmm")


def mv(input: Tensor, vec: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix-vector product ``(n, k) @ (k,) -> (n,)``."""
    _dims("mv", input, 2, "input")
    _dims("mv", vec, 1, "vec")
    return with_out(_mm.matmul_as("mv", input, vec), out, "mv")


def dot(input: Tensor, tensor: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inner product of two 1-D tensors of the same length."""
    _dims("dot", input, 1, "input")
    _dims("dot", tensor, 1, "tensor")
    return with_out(_mm.matmul_as("dot", input, tensor), out, "dot")


def addmm(
    input: Tensor, mat1: Tensor, mat2: Tensor, *legacy: Any, beta: Any = 1, alpha: Any = 1, out: Any = None
) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), input broadcast to ``(n, m)`` (``legacy``: ops/blas_number_first.py)."""
    if legacy:
        input, (mat1, mat2), beta, alpha = blas_legacy("addmm", input, (mat1, mat2, *legacy), beta, alpha)
    beta, alpha = blas_factors("addmm", input, (mat1, mat2), beta, alpha)
    if _halves(input, mat1, mat2):  # float16: alpha = 0 still multiplies, as PyTorch's CPU kernel
        i, a, b = _wide(input, mat1, mat2)
        return with_out((_scaled(mm(a, b), alpha) + _term(i, beta)).half(), out, "addmm")
    # the product first: PyTorch's result is row-major as the product is, whatever input's layout
    # (the sum's result takes its first operand's, iterator_layout.py); a + b == b + a exactly
    prod = mm(mat1, mat2)
    return with_out(_term(prod, alpha) + _term(input, beta), out, "addmm")


def baddbmm(
    input: Tensor,
    batch1: Tensor,
    batch2: Tensor,
    *legacy: Any,
    beta: Any = 1,
    alpha: Any = 1,
    out: Any = None,
) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), batched (``legacy`` as addmm's)."""
    if legacy:
        input, (batch1, batch2), beta, alpha = blas_legacy(
            "baddbmm", input, (batch1, batch2, *legacy), beta, alpha
        )
    beta, alpha = blas_factors("baddbmm", input, (batch1, batch2), beta, alpha)
    if _halves(input, batch1, batch2):
        return with_out(baddbmm(*_wide(input, batch1, batch2), beta=beta, alpha=alpha).half(), out, "baddbmm")
    return with_out(
        _scaled(bmm(batch1, batch2), alpha) + _term(input, beta), out, "baddbmm"
    )  # as PyTorch: alpha = 0 still multiplies; the product first, as addmm's


def addmv(
    input: Tensor, mat: Tensor, vec: Tensor, *legacy: Any, beta: Any = 1, alpha: Any = 1, out: Any = None
) -> Tensor:
    """beta * input + alpha * (mat @ vec) (``legacy`` as addmm's)."""
    if legacy:
        input, (mat, vec), beta, alpha = blas_legacy("addmv", input, (mat, vec, *legacy), beta, alpha)
    beta, alpha = blas_factors("addmv", input, (mat, vec), beta, alpha)
    if _halves(input, mat, vec):
        i, m, v = _wide(input, mat, vec)
        return with_out((_term(i, beta) + _scaled(mv(m, v), alpha)).half(), out, "addmv")
    # PyTorch's float16 and complex addmv multiply by alpha = 0 (a NaN in mat or vec stays);
    # float32/float64 and every addmm skip the product
    prod = mv(mat, vec)
    scaled = _scaled(prod, alpha) if prod._data.dtype.kind == "c" else _term(prod, alpha)
    return with_out(_term(input, beta) + scaled, out, "addmv")


def _halves(*ts: Any) -> bool:
    """All float16: PyTorch's CPU kernels then compute in float32 and round once (a float16 product
    rounded before the bias is added is one ulp off)."""
    return all(getattr(t, "dtype", None) == float16 for t in ts)


def _wide(*ts: Tensor) -> list:
    return [t.float() for t in ts]


def _scaled(t: Tensor, s: Any) -> Tensor:
    return t if s == 1 else t * s


def _term(t: Tensor, s: Any) -> Tensor:
    """``s * t`` in the addmm family; a factor of 0 drops the term (no nan from 0 * inf), as PyTorch,
    a zero of ``t``'s dtype (a float 0.0 made an int64 addmm's result float32)."""
    if s == 0:
        xp = array_module(t._data)
        zero = Tensor(xp.zeros((), dtype=t._data.dtype), _wrap=True)
        # the mask laid out as t, so that the result is (PyTorch's addr keeps input's layout)
        return elementwise.where(xp.zeros_like(t._data, dtype=bool), t, zero)
    return _scaled(t, s)


def lerp(input: Tensor, end: Tensor, weight: Any, *, out: Any = None) -> Tensor:
    """input + weight * (end - input), in PyTorch's two forms so that it rounds as PyTorch's:
    from ``input`` for |weight| < 0.5, from ``end`` (end - diff * (1 - weight)) otherwise, which
    also gives ``end`` exactly at weight 1."""
    tw = isinstance(weight, Tensor)
    if _halves(input, end, weight if tw else input):
        return with_out(
            lerp(input.float(), end.float(), weight.float() if tw else weight).half(), out, "lerp"
        )
    diff = end - input
    if isinstance(weight, Tensor):
        near = weight.abs() < 0.5
        # each form reads diff only where it is chosen: the other's zero gradient times an
        # infinite diff would be NaN (weight's gradient is g (end - input), +-inf there, as PyTorch)
        low = input + weight * elementwise.where(near, diff, 0.0)
        high = end - elementwise.where(near, 0.0, diff) * (1 - weight)
        return with_out(elementwise.where(near, low, high), out, "lerp")
    near = abs(weight) < 0.5
    return with_out(input + weight * diff if near else end - diff * (1 - weight), out, "lerp")


def _number(op: str, s: Any, name: str) -> Any:
    """``s`` as the number PyTorch's parser takes for a Scalar: a Python/NumPy number or a 0-d
    tensor that does not require grad (its value); anything else is a ``TypeError``."""
    if isinstance(s, Tensor):
        if s.ndim == 0 and not s.requires_grad:
            return s.item()
        raise TypeError(f"{op}: expected a number for {name}, got a tensor of shape {s.shape}")
    if not isinstance(s, numbers.Number):
        raise TypeError(f"{op}: expected a number for {name}, got {type(s).__name__}")
    return s


# PyTorch warns about its deprecated number-first overloads once per process, whichever op comes
# first (an optimizer written with add_(a, g) and addcmul_(v, g, g) prints one warning, not two)
_number_first_warned = [False]


def number_first(op: str, args: tuple, n: int, number: Any, name: str) -> tuple[tuple, Any]:
    """``(tensors, number)`` from the ``args`` after ``input``: ``n`` tensors with ``name=`` as a
    keyword (None: not given, 1), or PyTorch's deprecated overload that puts the number first
    (``p.data.add_(-lr, grad)``, ``v.addcmul_(1 - beta, g, g)``, from scripts of 2017-2019), which
    warns as PyTorch does: once per process. As PyTorch's parser, a number both first and as a
    keyword, an extra argument (``x.add(y, 2)``) or a tensor where the number goes is a
    ``TypeError``: no call is misread."""
    if len(args) == n:
        return args, 1 if number is None else _number(op, number, name)
    if len(args) > n + 1 or number is not None:
        raise TypeError(
            f"{op}: expected at most {n + 2} positional arguments (the deprecated {op}(input, Number "
            f"{name}, Tensor ...)) and {name} only as a keyword, got {len(args) + 1} positional"
            + (f" and {name}=" if number is not None else "")
        )
    if isinstance(args[0], Tensor) and args[0].ndim:  # kept apart: the message names the form
        raise TypeError(
            f"{op}: expected a number before the tensors in the deprecated form {op}(Number {name}, "
            f"Tensor ...), got a tensor of shape {args[0].shape}"
        )
    number = _number(op, args[0], name)
    _warn_once(
        f"This overload of {op} is deprecated:\n\t{op}(Number {name}, Tensor ...)\nConsider using "
        f"{op}(Tensor ..., *, Number {name}) instead"
    )
    return args[1:], number


def addcmul(
    input: Tensor, tensor1: Tensor, tensor2: Tensor, *legacy: Tensor, value: Any = None, out: Any = None
) -> Tensor:
    """input + value * tensor1 * tensor2 (``legacy``: PyTorch's deprecated ``(input, value, t1, t2)``)."""
    (tensor1, tensor2), value = number_first("addcmul", (tensor1, tensor2, *legacy), 2, value, "value")
    refuse_sequence("addcmul", "tensor1", tensor1)
    refuse_sequence("addcmul", "tensor2", tensor2)
    value = addc_value("addcmul", value, input, tensor1, tensor2)
    a, t1, t2 = to_result_dtype(input, tensor1, tensor2)  # multiplied in the result's dtype
    if _halves(a, t1, t2):
        return with_out(addcmul(*_wide(a, t1, t2), value=value).half(), out, "addcmul")
    return with_out(a + _scaled(t1 * t2, value), out, "addcmul")


def addcdiv(
    input: Tensor, tensor1: Tensor, tensor2: Tensor, *legacy: Tensor, value: Any = None, out: Any = None
) -> Tensor:
    """input + value * tensor1 / tensor2 (``legacy``: PyTorch's deprecated ``(input, value, t1, t2)``)."""
    (tensor1, tensor2), value = number_first("addcdiv", (tensor1, tensor2, *legacy), 2, value, "value")
    refuse_sequence("addcdiv", "tensor1", tensor1)
    refuse_sequence("addcdiv", "tensor2", tensor2)
    value = addc_value("addcdiv", value, input, tensor1, tensor2)
    half = _halves(*(operands := to_result_dtype(input, tensor1, tensor2)))  # in the result's dtype
    a, t1, t2 = _wide(*operands) if half else operands  # float16 in float32, as PyTorch's CPU kernel
    result = a + _scaled(t1, value) / t2  # (value * t1) / t2: PyTorch's order (its last bit)
    return with_out(result.half() if half else result, out, "addcdiv")


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D input becomes a square matrix with it on the ``diagonal``; a 2-D input gives that diagonal.

    Shape:
        ``(n,) -> (n + |d|, n + |d|)``; ``(n, m) -> (L,)``.
    """
    diagonal = int_arg("diag", "diagonal", diagonal)
    if input.ndim == 2:
        return input.diagonal(diagonal).clone()  # a copy, as PyTorch's (diagonal() is the view)
    if input.ndim != 1:
        raise ShapeError(f"diag: expected a 1-D or 2-D input, got shape {input.shape}")
    if input._data.dtype.kind == "c":  # scatter has no complex rule: each part's diagonal matrix
        return _cx.complex(diag(_cx.real(input), diagonal), diag(_cx.imag(input), diagonal))
    m = input.shape[0]
    n = m + abs(diagonal)
    # entry i goes to (i, i + d) for d >= 0, (i - d, i) below: flat position i (n + 1) + offset
    offset = diagonal if diagonal >= 0 else -diagonal * n
    at = Tensor(on_device_of(input._data, np.arange(m, dtype=np.int64) * (n + 1) + offset), _wrap=True)
    zeros = Tensor(array_module(input._data).zeros(n * n, dtype=input._data.dtype), _wrap=True)
    return scatter(zeros, 0, at, input).reshape(n, n)  # (n*n,) -> (n, n)


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix."""
    _dims("trace", input, 2, "input")
    if (
        input._data.dtype.kind == "b"
    ):  # PyTorch has no bool kernel (the sum of the diagonal's bools would run)
        raise kernel_dtype_error("trace", "trace", "bool")
    return input.diagonal().sum()


def tile(input: Tensor, *dims: Any) -> Tensor:
    """``input`` repeated along each dim (leading 1s added to whichever is shorter), as ``numpy.tile``;
    ``dims`` a sequence or ints (``x.tile(2)``, ``x.tile((2, 1))``)."""
    dims = tuple(dims[0]) if len(dims) == 1 and not isinstance(dims[0], int) else dims
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return input.repeat(*dims)


def square(input: Tensor) -> Tensor:
    return input.square()  # a bool tensor gives int64, as PyTorch


def positive(input: Tensor) -> Tensor:
    """``input`` itself (PyTorch's ``torch.positive``, unary plus); a bool tensor raises, as PyTorch."""
    if input._data.dtype == np.bool_:
        raise DTypeError("positive: expected a numeric tensor, got bool (PyTorch: + of a bool tensor)")
    return input


def reciprocal(input: Tensor) -> Tensor:
    x = elementwise.floating(input)
    if x._data.dtype.kind == "f":  # its own op, as PyTorch's (gradient -g z^2); complex: a division
        return _unary.reciprocal(x)
    return elementwise.div(1.0, x)  # not ``1.0 / x``: ``Tensor.__rtruediv__`` takes this function


def isinf(input: Tensor) -> Tensor:
    return Tensor(array_module(input._data).isinf(input._data), _wrap=True)


def isclose(
    input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> Tensor:
    rtol, atol = close_operands("isclose", input, other, rtol, atol)
    xp = array_module(input._data, b := _arr(other))
    if xp is not np:  # meta: a device mismatch as PyTorch's; the result is meta (no values read)
        same_device("isclose", input, b)
        return Tensor(xp.isclose(input._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan), _wrap=True)
    return Tensor(isclose_array(input._data, np.asarray(b), rtol, atol, equal_nan), _wrap=True)


def allclose(
    input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> bool:
    rtol, atol = close_operands("allclose", input, other, rtol, atol)
    xp = array_module(input._data)
    if xp is not np:
        return bool(xp.allclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))
    return bool(isclose_array(input._data, np.asarray(_arr(other)), rtol, atol, equal_nan).all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and the same values."""
    return input.shape == other.shape and bool(
        array_module(input._data).array_equal(input._data, _arr(other))
    )


def _arr(t: Any) -> Any:
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    # () counts all; a NumPy integer or 0-d integer tensor is one dim, as PyTorch's parser reads it
    axis = normalize_dims("count_nonzero", input._data.ndim, dim)
    xp = array_module(input._data)  # meta_numpy keeps a meta count meta
    return Tensor(c_layout(xp.asarray(xp.count_nonzero(input._data, axis=axis), dtype=np.int64)), _wrap=True)


def argwhere(input: Tensor) -> Tensor:
    return Tensor(array_module(input._data).argwhere(input._data).astype(np.int64), _wrap=True)


def hstack(tensors: Any, *, out: Any = None) -> Tensor:
    """Join along dim 1, or dim 0 for 1-D tensors; 0-d tensors count as 1-D (as PyTorch)."""
    ts = [t.reshape(1) if t.ndim == 0 else t for t in joining.tensor_list(tensors, "hstack")]
    return with_out(joining.cat(ts, 0 if ts and ts[0].ndim == 1 else 1), out, "hstack", ts)  # as cat.out


def vstack(tensors: Any, *, out: Any = None) -> Tensor:
    """Join along dim 0, 0-d and 1-D tensors as rows: () -> (1, 1), (n,) -> (1, n) (as PyTorch)."""
    ts = [t.reshape(1, -1) if t.ndim < 2 else t for t in joining.tensor_list(tensors, "vstack")]
    return with_out(joining.cat(ts, 0), out, "vstack", ts)  # (out checked against the inputs)


def numel(input: Tensor) -> int:
    return input.numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input._data.dtype.kind == "f"


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    return input.clone(memory_format=memory_format)


# the deprecated number-first forms of the addmm family (they read this module's warned flag and
# _number at call time): imported last, as that module imports this one
from glassgrad.ops.blas_number_first import _warn_once, blas_legacy  # noqa: E402
