"""Tensor methods added in the twentieth session, attached at import (``methods.py`` is at the file
size limit): the method forms of quantile, cov, the integer arithmetic, the scatters and view
copies, ``__contains__``, and small properties (``itemsize``, ``nbytes``, ``is_inference``...), as
PyTorch's."""

from __future__ import annotations

import itertools
import numbers
from typing import Any

from glassgrad import torch_copies, torch_misc
from glassgrad.autograd import node_views
from glassgrad.errors import ArgumentError
from glassgrad.methods import _inplace
from glassgrad.ops import int_math, quantile, stats_more
from glassgrad.tensor import Tensor

__all__ = ["METHODS"]


def sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """``self`` summed down to ``size`` (a shape ``self``'s expands from): the reverse of expand."""
    shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else tuple(size)
    lead = self.ndim - len(shape)
    if lead < 0 or any(s not in (1, t) for s, t in zip(shape, self.shape[lead:], strict=True)):
        raise RuntimeError(
            f"sum_to_size: size {shape} is not expandable to the tensor's shape {tuple(self.shape)}"
        )
    if not shape:  # PyTorch's sum_to(t, ()) is t.sum(): a new tensor even for a 0-d t, never t
        return self.sum()
    out = self.sum(tuple(range(lead))) if lead else self
    dims = tuple(k for k, (s, t) in enumerate(zip(shape, out.shape, strict=True)) if s == 1 and t != 1)
    return out.sum(dims, keepdim=True) if dims else out


def dim_order(self: Tensor, *, ambiguity_check: Any = False) -> tuple:
    """The dims from the outermost in memory to the innermost, as PyTorch's: a tensor contiguous in
    one layout only (row-major, or 4-D channels-last) gets that layout's order; otherwise the dims
    are ordered by stride, a dim with the larger size going outside where strides tie, and a pair
    that cannot be ordered (a stride of 0, or equal strides and sizes) left as it is.

    ``ambiguity_check=True`` raises ``RuntimeError`` when more than one order is legal (a size-1 dim,
    or two neighbouring dims of equal stride); a list of memory formats raises only when the tensor
    is also not contiguous in exactly one of them."""
    import glassgrad as gg

    n, strides, sizes = self.ndim, self.stride(), tuple(self.shape)
    _check_dim_order_ambiguity(self, ambiguity_check, strides, sizes)
    if n <= 1:
        return tuple(range(n))
    plain = self.is_contiguous()
    last = n == 4 and self.is_contiguous(memory_format=gg.channels_last)  # (4-D only, as PyTorch)
    if plain and not last:
        return tuple(range(n))
    if last and not plain:
        return (0, *range(2, n), 1)

    def outer(a: int, b: int) -> int:  # 1: a lies outside b, -1: inside, 0: cannot tell
        if strides[a] == 0 or strides[b] == 0:
            return 0
        if strides[a] != strides[b]:
            return 1 if strides[a] > strides[b] else -1
        return 1 if sizes[a] > sizes[b] else 0

    order = list(range(n - 1, -1, -1))  # innermost first; an insertion sort that steps over ties
    for i in range(1, n):
        at = i
        for j in range(i - 1, -1, -1):
            side = outer(order[j], order[at])
            if side > 0:
                order[j], order[at] = order[at], order[j]
                at = j
            elif side < 0:
                break
    # PyTorch's second check (a truthy ambiguity_check): every neighbouring pair must be ordered
    if ambiguity_check and any(outer(order[k], order[k + 1]) != -1 for k in range(n - 1)):
        raise RuntimeError(
            f"dim_order: the tensor does not have unique dim order (shape {sizes}, strides {strides})."
        )
    return tuple(reversed(order))


def _check_dim_order_ambiguity(self: Tensor, check: Any, strides: tuple, sizes: tuple) -> None:
    """PyTorch's ``Tensor.dim_order`` check of ``ambiguity_check`` (a bool or a list of formats)."""
    import glassgrad as gg

    fmt = type(gg.contiguous_format)
    if not isinstance(check, bool) and not (
        isinstance(check, list) and all(isinstance(f, fmt) for f in check)
    ):
        raise TypeError("dim_order: the ambiguity_check argument must be a bool or a list of memory formats.")
    if check is False:
        return
    several = any(a == b for a, b in itertools.pairwise(strides)) or any(s == 1 for s in sizes)
    formats = check if isinstance(check, list) else []
    if several and sum(bool(self.is_contiguous(memory_format=f)) for f in formats) != 1:
        raise RuntimeError(
            "dim_order: the tensor does not have unique dim order, or cannot map to exact one of the "
            f"given memory formats (shape {sizes}, strides {strides})."
        )


def narrow_copy(self: Tensor, dim: int, start: int, length: int) -> Tensor:
    return torch_copies.alias_copy(self.narrow(dim, start, length))


def new_empty_strided(self: Tensor, size: Any, stride: Any, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    import glassgrad as gg

    return gg.empty_strided(size, stride, dtype=dtype or self.dtype)


def bernoulli(self: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    import glassgrad as gg

    return gg.bernoulli(self, p, generator=generator)


def contains(self: Tensor, element: Any) -> bool:
    """``element in t``: whether any element of ``t`` equals ``element`` (a number, or a tensor
    broadcast against ``t``: a row ``ns in samples`` is found where any of its values is), as
    PyTorch's ``__contains__``; without it Python iterated the rows and ``bool`` of a row raised."""
    if isinstance(element, Tensor | numbers.Number):
        return bool((element == self).any().item())
    raise ArgumentError(
        f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}."
    )


def _dlpack() -> Any:
    from glassgrad.utils import dlpack

    return dlpack


def _gg() -> Any:
    import glassgrad as gg

    return gg


def _F() -> Any:  # noqa: N802 - nn.functional, imported late (it imports Tensor's methods' users)
    import glassgrad.nn.functional as F

    return F


def _prop(fn: Any) -> property:
    return property(fn)


METHODS: dict[str, Any] = {
    "quantile": quantile.quantile, "nanquantile": quantile.nanquantile,
    "cov": stats_more.cov, "corrcoef": stats_more.corrcoef,
    "gcd": int_math.gcd, "gcd_": _inplace("gcd_", int_math.gcd), "lcm": int_math.lcm, "lcm_": _inplace("lcm_", int_math.lcm),
    "heaviside": int_math.heaviside, "heaviside_": _inplace("heaviside_", int_math.heaviside),
    "frexp": int_math.frexp, "ldexp": int_math.ldexp, "ldexp_": _inplace("ldexp_", int_math.ldexp),
    "isreal": torch_misc.isreal, "is_nonzero": torch_misc.is_nonzero, "is_same_size": torch_misc.is_same_size,
    "triangular_solve": torch_misc.triangular_solve, "cholesky": torch_misc.cholesky,
    "slice_scatter": torch_copies.slice_scatter, "select_scatter": torch_copies.select_scatter,
    "diagonal_scatter": torch_copies.diagonal_scatter, "as_strided_scatter": torch_copies.as_strided_scatter,
    "split_with_sizes": torch_copies.split_with_sizes, "sum_to_size": sum_to_size, "dim_order": dim_order,
    "narrow_copy": narrow_copy, "new_empty_strided": new_empty_strided, "bernoulli": bernoulli,
    "__contains__": contains,
    # glassgrad's inference_mode is no_grad: no tensor is an inference tensor, none has a lazy negation bit
    "is_inference": lambda self: False, "is_neg": lambda self: False, "resolve_neg": lambda self: self,
    "itemsize": _prop(lambda self: self._data.dtype.itemsize),
    "nbytes": _prop(lambda self: self.numel() * self._data.dtype.itemsize),
    "output_nr": _prop(lambda self: 0 if self._node is None else node_views.edge(self._node)[1]),
    "renorm": torch_misc.renorm, "renorm_": _inplace("renorm_", torch_misc.renorm),
    "to_sparse_coo": lambda self: self.to_sparse(),
    "hardshrink": lambda self, lambd=0.5: _F().hardshrink(self, lambd),
    "prelu": lambda self, weight: _F().prelu(self, weight),
    "__dlpack__": lambda self, **kw: _dlpack().tensor_dlpack(self, **kw),
    "__dlpack_device__": lambda self: _dlpack().tensor_dlpack_device(self),
}  # fmt: skip

for _name, _fn in METHODS.items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)
