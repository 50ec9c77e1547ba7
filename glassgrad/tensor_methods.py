"""``Tensor``'s core methods over the ops (``to``/``float``, ``add``, ``exp``, ``sum``, ``view``,
``topk`` ...), one line each, attached to the class when ``tensor.py`` finishes loading. The
long tail of PyTorch's methods (``new_zeros``, ``scatter_``, ``addmm`` ...) is in ``methods.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.bit_view import view_as_dtype
from glassgrad.legacy import legacy_dtype, legacy_type_name
from glassgrad.operand_errors import tensor_operand
from glassgrad.ops import (
    activation,
    clamp,
    compare,
    elementwise,
    extremes,
    forms,
    indexing,
    matmul,
    movement,
    pieces,
    reduce,
    sampling,
    softmax,
    sorting,
    statistics,
    unary,
    views,
)
from glassgrad.ops.alpha_checks import check_alpha, scaled_pair
from glassgrad.ops.composite import bmm, mm, number_first
from glassgrad.ops.half_precision import HALF, AddScaledHalf, half_axpy
from glassgrad.tensor import Tensor, attach

__all__: list[str] = []


class _Methods:
    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """The type name (``"torch.FloatTensor"``) without an argument, else a cast to ``dtype``
        (a dtype or a legacy name such as ``"torch.LongTensor"``)."""
        if dtype is None:
            return legacy_type_name(self._data.dtype)
        return self.to(legacy_dtype(dtype))

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(tensor_operand("type_as", "other", other).dtype)

    # float(), double(), long() ... with PyTorch's memory_format keyword: tensor_casts.py

    def add(self, other: Any, *legacy: Any, alpha: Any = None) -> Tensor:
        (other,), alpha = number_first("add", (other, *legacy), 1, alpha, "alpha")  # also add(-lr, g)
        check_alpha("add", alpha, self, other)
        if self._data.dtype is HALF and half_axpy(self, other, alpha):  # float16: ops/half_precision.py
            return AddScaledHalf.apply(self, other, alpha=alpha)
        return elementwise.add(*scaled_pair(self, other, alpha))

    def sub(self, other: Any, *legacy: Any, alpha: Any = None) -> Tensor:
        (other,), alpha = number_first("sub", (other, *legacy), 1, alpha, "alpha")  # also sub(lr, g)
        check_alpha("sub", alpha, self, other)
        if self._data.dtype is HALF and half_axpy(self, other, alpha):
            return AddScaledHalf.apply(self, other, alpha=alpha, op="sub")
        return elementwise.sub(*scaled_pair(self, other, alpha, elementwise.refuse_bool_sub))

    def mul(self, other: Any) -> Tensor:
        return elementwise.mul(self, other)

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        if rounding_mode is None:
            return elementwise.div(self, other)
        return forms.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent: Any) -> Tensor:
        return elementwise.pow(self, exponent)

    def neg(self) -> Tensor:
        return elementwise.neg(self)

    def exp(self) -> Tensor:
        return unary.exp(self)

    def log(self) -> Tensor:
        return unary.log(self)

    def log1p(self) -> Tensor:
        return unary.log1p(self)

    def sqrt(self) -> Tensor:
        return unary.sqrt(self)

    def rsqrt(self) -> Tensor:
        return unary.rsqrt(self)

    def square(self) -> Tensor:
        if self._data.dtype == np.bool_:  # PyTorch squares bools as int64 (pow(x, 2))
            return elementwise.pow(self, 2)
        return elementwise.mul(self, self)

    def abs(self) -> Tensor:
        return unary.abs(self)

    def sign(self) -> Tensor:
        return compare.sign(self)

    def sin(self) -> Tensor:
        return unary.sin(self)

    def cos(self) -> Tensor:
        return unary.cos(self)

    def tanh(self) -> Tensor:
        return unary.tanh(self)

    def sigmoid(self) -> Tensor:
        return activation.sigmoid(self)

    def relu(self) -> Tensor:
        return activation.relu(self)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return clamp.clamp(self, min, max)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        return elementwise.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return elementwise.minimum(self, other)

    def floor(self) -> Tensor:
        return compare.floor(self)

    def ceil(self) -> Tensor:
        return compare.ceil(self)

    def round(self, *, decimals: int = 0) -> Tensor:
        return compare.round(self, decimals=decimals)

    def eq(self, other: Any) -> Tensor:
        return compare.eq(self, other)

    def ne(self, other: Any) -> Tensor:
        return compare.ne(self, other)

    def lt(self, other: Any) -> Tensor:
        return compare.lt(self, other)

    def le(self, other: Any) -> Tensor:
        return compare.le(self, other)

    def gt(self, other: Any) -> Tensor:
        return compare.gt(self, other)

    def ge(self, other: Any) -> Tensor:
        return compare.ge(self, other)

    def logical_not(self) -> Tensor:
        return compare.logical_not(self)

    def isnan(self) -> Tensor:
        return compare.isnan(self)

    def isfinite(self) -> Tensor:
        return compare.isfinite(self)

    def where(self, condition: Any, other: Any) -> Tensor:
        return elementwise.where(condition, self, other)

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        return reduce.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return reduce.mean(self, dim, keepdim, dtype=dtype)

    def var(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
    ) -> Tensor:
        return statistics.var(self, dim, unbiased, keepdim, correction=correction)

    def std(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
    ) -> Tensor:
        return statistics.std(self, dim, unbiased, keepdim, correction=correction)

    def prod(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        return reduce.prod(self, dim, keepdim, dtype)

    # *args: a lone positional tensor is PyTorch's max(other), dim=t its dim form
    def max(self, *args: Any, dim: Any = None, keepdim: Any = extremes.NO_KEEPDIM, other: Any = None) -> Any:
        return extremes.max(self, *args, dim=dim, keepdim=keepdim, other=other)

    def min(self, *args: Any, dim: Any = None, keepdim: Any = extremes.NO_KEEPDIM, other: Any = None) -> Any:
        return extremes.min(self, *args, dim=dim, keepdim=keepdim, other=other)

    max.__signature__ = min.__signature__ = extremes.METHOD_SIGNATURE  # type: ignore[attr-defined]  # noqa: A003
    max.__overloads__ = min.__overloads__ = True  # type: ignore[attr-defined]  # noqa: A003

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return extremes.amax(self, dim, keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return extremes.amin(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return extremes.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return extremes.argmin(self, dim, keepdim)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return statistics.logsumexp(self, dim, keepdim)

    def norm(self, p: Any = 2, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        return statistics.norm(self, p, dim, keepdim, dtype=dtype)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        return reduce.cumsum(self, dim, dtype=dtype)

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return reduce.all(self, dim, keepdim)

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return reduce.any(self, dim, keepdim)

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return softmax.softmax(self, dim, dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return softmax.log_softmax(self, dim, dtype)

    def matmul(self, other: Any) -> Tensor:
        return matmul.matmul(self, other)

    def mm(self, other: Any) -> Tensor:  # 2-d only, as torch.mm (matmul would take a vector)
        return mm(self, other)

    def bmm(self, other: Any) -> Tensor:  # 3-d only, equal batches, as torch.bmm
        return bmm(self, other)

    def outer(self, vec2: Any) -> Tensor:  # x.ger(y): PyTorch's older name, still in 2.13
        return matmul.outer(self, vec2)

    ger = outer

    def reshape(self, *shape: Any) -> Tensor:
        return movement.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], dtypes.DType):
            return view_as_dtype(self, shape[0])
        return movement.view(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        return movement.view(self, tensor_operand("view_as", "other", other).shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return movement.reshape(self, tensor_operand("reshape_as", "other", other).shape)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return movement.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        return movement.t(self)

    def narrow(self, dim: int, start: Any, length: int) -> Tensor:
        return views.narrow(self, dim, start, length)

    def select(self, dim: int, index: Any) -> Tensor:
        return views.select(self, dim, index)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return views.diagonal(self, offset, dim1, dim2)

    def movedim(self, source: Any, destination: Any) -> Tensor:
        return views.movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return views.swapaxes(self, axis0, axis1)

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        return views.swapaxes(self, dim0, dim1)

    def permute(self, *dims: Any) -> Tensor:
        return movement.permute(self, *dims)

    def expand(self, *sizes: Any) -> Tensor:
        return movement.expand(self, *sizes)

    def expand_as(self, other: Tensor) -> Tensor:
        return movement.expand(self, tensor_operand("expand_as", "other", other).shape)

    # PyTorch's methods taking one list of ints take the ints unpacked as well: x.broadcast_to(2, 3),
    # x.flip(0, 1), x.squeeze(0, 2) (count_nonzero: methods.py)
    def broadcast_to(self, *size: Any) -> Tensor:  # size=: torch_keywords.VARARGS
        return movement.expand(self, *size)

    def squeeze(self, dim: Any = None, *more: int) -> Tensor:
        return movement.squeeze(self, (dim, *more) if more else dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return movement.unsqueeze(self, dim)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return movement.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Any) -> Tensor:
        return movement.unflatten(self, dim, sizes)

    def repeat(self, *sizes: Any) -> Tensor:
        return movement.repeat(self, *sizes)

    def flip(self, dims: Any, *more: int) -> Tensor:
        return movement.flip(self, (dims, *more) if more else dims)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return movement.roll(self, shifts, dims)

    def split(self, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return pieces.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return pieces.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        return pieces.unbind(self, dim)

    def tril(self, diagonal: int = 0) -> Tensor:
        return movement.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return movement.triu(self, diagonal)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return indexing.masked_fill(self, mask, value)

    def gather(self, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
        return indexing.gather(self, dim, index, sparse_grad=sparse_grad)

    def index_select(self, dim: int, index: Any) -> Tensor:
        return indexing.index_select(self, dim, index)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
        return sorting.topk(self, k, dim, largest, sorted)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        return sorting.sort(self, dim, descending, stable)  # always stable

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        return sorting.sort(self, dim, descending, stable)[1]

    def multinomial(self, num_samples: int, replacement: bool = False, generator: Any = None) -> Tensor:
        return sampling.multinomial(self, num_samples, replacement, generator=generator)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        return sampling.nonzero(self, as_tuple=as_tuple)


attach(_Methods)

# T, mT, H, mH, adjoint: their own file (0-d and 1-d cases, PyTorch's once-per-process warnings)
from glassgrad import tensor_transposes  # noqa: E402, F401
