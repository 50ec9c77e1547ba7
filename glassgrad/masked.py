# ruff: noqa: A001, A002 - PyTorch's names (sum, input, ord) are the API
"""``torch.masked``: reductions and normalizations over the elements a boolean ``mask`` keeps.

Every function is PyTorch's strided path (``torch/masked/_ops.py``): the masked-out elements are
replaced by the operation's identity (0 for ``sum``, 1 for ``prod``, -inf for ``amax`` and
``softmax``, +inf for ``amin`` and ``softmin``, NaN for ``median``) with one ``where``, and the
plain op runs on the result, so values, dtypes and gradients (zero at masked-out elements) are
those of the ops it is built from. ``mask`` broadcasts to ``input`` (its rank may not exceed
``input``'s) and ``mask=None`` keeps every element. A row with every element masked out gives the
identity (``sum`` 0, ``amax`` -inf), or NaN for ``mean``/``var``/``std``, as PyTorch's.

>>> import glassgrad
>>> x = glassgrad.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> m = glassgrad.tensor([[True, False], [True, True]])
>>> glassgrad.masked.sum(x, 1, mask=m).tolist()
[1.0, 5.0]

Sparse layouts and ``MaskedTensor`` are not ported (see docs/design.md).
"""

from __future__ import annotations

import math
from typing import Any

import glassgrad
from glassgrad.tensor import Tensor

__all__ = [
    "amax", "amin", "argmax", "argmin", "cumprod", "cumsum", "log_softmax", "logaddexp",
    "logsumexp", "mean", "median", "norm", "normalize", "prod", "softmax", "softmin", "std",
    "sum", "var",
]  # fmt: skip

# integer inputs that sum/prod widen to int64 when no dtype is given, as PyTorch's
_WIDENED = ("uint8", "bool", "int8", "int16", "int32")


def _canonical_dim(dim: Any, ndim: int) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative dims; None and ``()`` mean every dim."""
    if dim == () or dim is None:
        return tuple(range(ndim))
    ndim = max(ndim, 1)
    dims: list[int] = []
    for d in (dim,) if isinstance(dim, int) else dim:
        if d in dims:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if d >= ndim or d < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {d})"
            )
        dims.append(d % ndim)
    return tuple(sorted(dims))


def _input_mask(input: Tensor, mask: Tensor) -> Tensor:
    """``mask`` broadcast to ``input.shape`` as a bool tensor."""
    if tuple(mask.shape) != tuple(input.shape):
        if mask.ndim > input.ndim:
            raise IndexError(
                "_input_mask expected broadcastable mask (got mask dimensionality higher than of the input)"
            )
        mask = glassgrad.broadcast_to(mask.clone(), tuple(input.shape))
    return mask.to(dtype=glassgrad.bool)


def _identity(op: str, input: Tensor, ord: Any = 2) -> Tensor | None:
    """The value a masked-out element takes so that ``op`` ignores it (PyTorch's table)."""
    dtype = input.dtype
    floating, cplx = dtype.is_floating_point, dtype.is_complex
    integral = not (floating or cplx) and dtype != glassgrad.bool

    def full(value: Any) -> Tensor:
        return glassgrad.tensor(value, dtype=dtype)

    if op in ("sum", "cumsum"):
        return full(0)
    if op in ("prod", "cumprod"):
        return full(1)
    # a complex input has no order: PyTorch asks iinfo for its bound, whose TypeError the caller sees
    if op in ("amax", "argmax", "logaddexp", "logsumexp"):
        if floating:
            return full(-math.inf)
        if cplx and op == "logsumexp":
            return full(complex(-math.inf, 0))
        if integral or cplx:
            return full(glassgrad.iinfo(dtype).min)
    elif op in ("amin", "argmin"):
        if floating:
            return full(math.inf)
        if integral or cplx:
            return full(glassgrad.iinfo(dtype).max)
    elif op == "norm":
        if ord == -math.inf:
            if not floating:
                raise AssertionError(f"input must be floating point, got {dtype}")
            return full(math.inf)
        return full(0)
    elif op == "median":
        return glassgrad.tensor(math.nan, dtype=dtype if floating else glassgrad.float32)
    raise NotImplementedError(f"identity of {op} on {dtype} input")


def _combine(op: str, input: Tensor, mask: Tensor | None, ord: Any = 2) -> Tensor:
    """``input`` with its masked-out elements replaced by ``op``'s identity."""
    if mask is None:
        return input
    return glassgrad.where(_input_mask(input, mask), input, _identity(op, input, ord))


def _widened(input: Tensor, dtype: Any) -> Any:
    if dtype is not None:
        return dtype
    return glassgrad.int64 if str(input.dtype).rsplit(".", 1)[-1] in _WIDENED else input.dtype


def sum(
    input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None
) -> Tensor:
    """Sum of the kept elements over ``dim`` (all dims by default); ints widen to int64."""
    dtype = _widened(input, dtype)
    dim_ = _canonical_dim(dim, input.ndim)
    return glassgrad.sum(_combine("sum", input, mask), dim_, bool(keepdim), dtype=dtype)


def prod(
    input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None
) -> Tensor:
    """Product of the kept elements over ``dim``, one dim at a time (PyTorch's order)."""
    dtype = _widened(input, dtype)
    dim_ = _canonical_dim(dim, input.ndim)
    result = _combine("prod", input, mask).to(dtype=dtype)
    for d in reversed(dim_):
        result = result.prod(dim=d, keepdim=bool(keepdim))
    return result


def cumsum(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """Cumulative sum along ``dim``; a masked-out element adds 0. Shape of ``input``."""
    dtype = input.dtype if dtype is None else dtype
    dim_ = _canonical_dim(dim, input.ndim)[0]
    return glassgrad.cumsum(_combine("sum", input, mask), dim_, dtype=dtype).to(dtype=dtype)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """Cumulative product along ``dim``; a masked-out element multiplies by 1."""
    dtype = input.dtype if dtype is None else dtype
    dim_ = _canonical_dim(dim, input.ndim)[0]
    return glassgrad.cumprod(_combine("prod", input, mask), dim_, dtype=dtype).to(dtype=dtype)


def _extreme(op: str, input: Tensor, dim: Any, keepdim: bool, dtype: Any, mask: Tensor | None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    mask_input = _combine(op, input, mask)
    return getattr(glassgrad, op)(mask_input, _canonical_dim(dim, mask_input.ndim), bool(keepdim)).to(
        dtype=dtype
    )


def amax(
    input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None
) -> Tensor:
    """Largest kept element over ``dim``; -inf (an int's minimum) where none is kept."""
    return _extreme("amax", input, dim, keepdim, dtype, mask)


def amin(
    input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None
) -> Tensor:
    """Smallest kept element over ``dim``; +inf (an int's maximum) where none is kept."""
    return _extreme("amin", input, dim, keepdim, dtype, mask)


def _arg(op: str, input: Tensor, dim: Any, keepdim: bool, dtype: Any, mask: Tensor | None) -> Tensor:
    # PyTorch converts the index to ``dtype``, which defaults to the input's (a float index)
    dtype = input.dtype if dtype is None else dtype
    return getattr(glassgrad, op)(_combine(op, input, mask), dim, bool(keepdim)).to(dtype=dtype)


def argmax(
    input: Tensor,
    dim: int | None = None,
    *,
    keepdim: bool = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """Index of the largest kept element, in ``dtype`` (the input's by default, as PyTorch's)."""
    return _arg("argmax", input, dim, keepdim, dtype, mask)


def argmin(
    input: Tensor,
    dim: int | None = None,
    *,
    keepdim: bool = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """Index of the smallest kept element, in ``dtype`` (the input's by default)."""
    return _arg("argmin", input, dim, keepdim, dtype, mask)


def _count(input: Tensor, dim: Any, keepdim: bool, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
    """How many elements are kept per output element, and the canonical mask."""
    if mask is None:
        ones = glassgrad.ones(tuple(input.shape), dtype=glassgrad.int64)
        return sum(ones, dim, keepdim=keepdim), None
    inmask = _input_mask(input, mask)
    return inmask.sum(dim=dim, keepdim=bool(keepdim)), inmask


def mean(
    input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None
) -> Tensor:
    """Mean of the kept elements; NaN where none is kept. Float or complex ``dtype`` only."""
    source = "Input" if dtype is None else "Optional"
    dtype = input.dtype if dtype is None else dtype
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(
            f"mean(): Could not infer output dtype. {source} dtype must be either "
            f"a floating point or complex dtype. Got: {dtype}"
        )
    count, inmask = _count(input, dim, keepdim, mask)
    total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=inmask)
    return total / count


def median(
    input: Tensor, dim: int = -1, *, keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None
) -> Tensor:
    """Median of the kept elements along one ``dim`` (``nanmedian`` with NaN for masked-out)."""
    dtype = input.dtype if dtype is None else dtype
    dim_ = _canonical_dim(dim, input.ndim)[0]
    is_float = input.dtype.is_floating_point
    if not is_float:
        input = input.to(dtype=glassgrad.float32)
    output = glassgrad.nanmedian(_combine("median", input, mask), dim_, keepdim).values
    if is_float:
        return output
    if not bool(glassgrad.isnan(output).any()):
        return output.to(dtype=dtype)
    raise ValueError("masked median expects no fully masked out rows if dtype is not floating point")


def logsumexp(
    input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None
) -> Tensor:
    """log(sum(exp)) of the kept elements over ``dim``; -inf where none is kept."""
    dtype = input.dtype if dtype is None else dtype
    dim_ = _canonical_dim(dim, input.ndim)
    return glassgrad.logsumexp(_combine("logsumexp", input, mask), dim_, keepdim=keepdim).to(dtype=dtype)


def logaddexp(
    input: Tensor,
    other: Tensor,
    *,
    dtype: Any = None,
    input_mask: Tensor | None = None,
    other_mask: Tensor | None = None,
) -> Tensor:
    """Elementwise log(exp(input) + exp(other)), each operand's masked-out elements as -inf."""
    dtype = input.dtype if dtype is None else dtype
    a = _combine("logaddexp", input, input_mask)
    b = _combine("logaddexp", other, other_mask)
    return glassgrad.logaddexp(a, b).to(dtype=dtype)


def norm(
    input: Tensor,
    ord: Any = 2.0,
    dim: Any = None,
    *,
    keepdim: bool = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """Vector ``ord``-norm of the kept elements over ``dim`` (``linalg.vector_norm``)."""
    dtype = input.dtype if dtype is None else dtype
    mask_input = _combine("norm", input, mask, ord)
    dim_ = _canonical_dim(dim, input.ndim)
    return glassgrad.linalg.vector_norm(mask_input, ord, dim_, bool(keepdim), dtype=dtype)


def _std_var(
    input: Tensor, dim: Any, unbiased: Any, correction: Any, keepdim: bool, dtype: Any, mask: Any, sqrt: bool
) -> Tensor:
    """PyTorch's two-pass masked variance: mean of the kept elements, then the kept squares."""
    if unbiased is not None and correction is not None:
        raise AssertionError("Only one of unbiased and correction may be given")
    corr = 1.0 if unbiased is None else (1.0 if unbiased else 0.0)
    if correction is not None:
        corr = float(correction)
    if dtype is None:
        dtype = input.dtype
        if not (dtype.is_floating_point or dtype.is_complex):
            dtype = glassgrad.float32
    compute = dtype if (dtype.is_floating_point or dtype.is_complex) else glassgrad.float32
    count, inmask = _count(input, dim, True, mask)
    sample_mean = glassgrad.divide(sum(input, dim, keepdim=True, dtype=dtype, mask=inmask), count)
    x = glassgrad.subtract(input, sample_mean)
    total = sum(x * x.conj(), dim, keepdim=keepdim, dtype=compute, mask=inmask)
    if not keepdim:
        count = count.reshape(tuple(total.shape))
    if corr != 0:
        real = compute.to_real() if compute.is_complex else compute
        count = glassgrad.subtract(count.to(real), corr)
        count = glassgrad.maximum(count, count.new_zeros([]))
    output = glassgrad.divide(total, count).to(dtype=dtype)
    return glassgrad.sqrt(output) if sqrt else output


def var(
    input: Tensor, dim: Any = None, unbiased: bool | None = None, *, correction: Any = None,
    keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None,
) -> Tensor:  # fmt: skip
    """Variance of the kept elements (``correction`` 1 by default); NaN where none is kept."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, False)


def std(
    input: Tensor, dim: Any = None, unbiased: bool | None = None, *, correction: Any = None,
    keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None,
) -> Tensor:  # fmt: skip
    """Standard deviation of the kept elements; NaN where none is kept."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, True)


def _normalization(fn: str, fill: str, input: Tensor, dim: int, dtype: Any, mask: Tensor | None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    dim_ = _canonical_dim(dim, input.ndim)[0]
    return getattr(glassgrad.nn.functional, fn)(_combine(fill, input, mask), dim_, dtype=dtype)


def softmax(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """Softmax along ``dim`` over the kept elements; masked-out ones get 0 (NaN if a row has none)."""
    return _normalization("softmax", "amax", input, dim, dtype, mask)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """Log-softmax along ``dim`` over the kept elements; masked-out ones get -inf."""
    return _normalization("log_softmax", "amax", input, dim, dtype, mask)


def softmin(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """Softmin along ``dim`` over the kept elements; masked-out ones get 0."""
    return _normalization("softmin", "amin", input, dim, dtype, mask)


def normalize(
    input: Tensor, ord: float, dim: int, *, eps: float = 1e-12, dtype: Any = None, mask: Tensor | None = None
) -> Tensor:
    """``input / max(norm, eps)`` with the ``ord``-norm of the kept elements; masked-out give 0."""
    dtype = input.dtype if dtype is None else dtype
    mask_input = _combine("sum", input, mask)
    nrm = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    denom = glassgrad.maximum(nrm, nrm.new_full([], eps))
    return glassgrad.divide(mask_input, denom)
