"""Joining primitives: ``cat`` (along an existing dim) and ``stack`` (along a new dim).

Each backward cuts the gradient back into the inputs' pieces. Inputs of mixed dtypes are brought to
one first (:func:`_joinable`): integers meeting a float become that float, two floats must agree.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.memory_formats import contiguous_format, suggest_format, to_format
from glassgrad.ops.conversion import cast
from glassgrad.ops.indexing import normalize_dim
from glassgrad.tensor import Tensor, as_array

__all__ = ["cat", "stack", "tensor_list"]


# ------------------------------------------------------------------ primitives
class Cat(Function):
    """z = [x_1, ..., x_n] joined along ``dim``.   VJP: g cut back into pieces of the inputs' sizes."""

    grads_together = True  # one formula for the list, as PyTorch: grad_fn hooks see every piece

    @staticmethod
    def forward(ctx, *arrays, dim=0, skip=()):
        # skip: legacy empty (0,) inputs, not joined but kept as inputs (``cat``); sizes[i] None
        ctx.attrs["sizes"] = [None if i in skip else a.shape[dim] for i, a in enumerate(arrays)]
        arrays = tuple(a for i, a in enumerate(arrays) if i not in skip) if skip else arrays
        return torch_layout(array_module(*arrays).concatenate(arrays, axis=dim), arrays)

    @staticmethod
    def backward(ctx, g):
        sizes = ctx.attrs["sizes"]
        xp = array_module(g)
        joined = [n for n in sizes if n is not None]
        pieces = iter(xp.split(g, np.cumsum(joined)[:-1], axis=ctx.attrs["dim"]))
        empty = xp.zeros((0,), dtype=g.dtype)  # a skipped input's gradient: (0,), as PyTorch's
        grads = [empty if n is None else next(pieces) for n in sizes]
        return tuple(p if need else None for p, need in zip(grads, ctx.needs_input_grad))


class Stack(Function):
    """z = [x_1, ..., x_n] stacked along a new dim ``dim``.   VJP: g unstacked along dim."""

    grads_together = True  # one formula for the list, as PyTorch: grad_fn hooks see every piece

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        out = array_module(*arrays).stack(arrays, axis=dim)
        return torch_layout(out, arrays, stacked=True, dim=dim)

    @staticmethod
    def backward(ctx, g):
        pieces = array_module(g).moveaxis(g, ctx.attrs["dim"], 0)  # (..., n, ...) -> (n, ...)
        return tuple(p if need else None for p, need in zip(pieces, ctx.needs_input_grad))


def torch_layout(out: Any, arrays: tuple, stacked: bool = False, dim: int = 0) -> Any:
    """``out`` laid out as PyTorch lays out a ``cat``: in the memory format every input suggests
    (channels-last when all are), else contiguous. NumPy instead keeps the inputs' stride order, so a
    stack of ``(C, H, W)`` images with channels-first strides (an HWC array transposed) would not be
    contiguous and ``view`` on it would fail. A ``stack`` along ``dim`` is PyTorch's: a ``cat`` along
    ``dim`` viewed with that dim split when ``dim < ndim``, else a ``cat`` of the inputs unsqueezed
    at the end (so a stack of channels-last images along dim 1 is not NumPy's layout)."""
    if out.__class__ is not np.ndarray:
        return out
    for a in arrays:  # a loop, not all(): the common C-ordered case pays no generator
        if not a.flags.c_contiguous:
            break
    else:
        return out  # C-ordered inputs: NumPy's result is C-ordered, and so is PyTorch's
    if stacked and dim < arrays[0].ndim:
        return torch_layout(np.concatenate(arrays, axis=dim), arrays).reshape(out.shape)
    if stacked:  # unsqueezed at the end as PyTorch does: the new dim has stride 1
        arrays = [as_strided(a, a.shape + (1,), a.strides + (a.itemsize,)) for a in arrays]
    fmts = {suggest_format(a) for a in arrays if a.__class__ is np.ndarray}
    fmt = fmts.pop() if len(fmts) == 1 else contiguous_format
    if fmt is contiguous_format:
        return out if out.flags.c_contiguous else np.ascontiguousarray(out)
    return out if suggest_format(out) is fmt else to_format(out, fmt)


# ------------------------------------------------------------------ tensor-level functions
def tensor_list(tensors: Any, op: str) -> Any:
    """PyTorch's ``Tensor[]`` argument of the public joins (``torch.cat``, ``stack``, ``hstack`` ...):
    a list or tuple of tensors (or of tensor-likes with ``__torch_function__``), else its TypeError.
    Taken as any iterable, a tensor joined its rows (``cat(x)`` of a (2, 3) ``x`` gave its 6
    elements, ``stack(x)`` a copy) and NumPy arrays, numbers and generators were joined silently."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__}"
        )
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor) and not hasattr(type(t), "__torch_function__"):
            raise TypeError(
                f"{op}(): expected Tensor as element {k} in argument 0, but got {type(t).__name__}"
            )
    return tensors


def _listed(tensors: Any) -> Any:
    """A one-pass iterable (a generator) as a list, so it can be looked at twice."""
    return tensors if isinstance(tensors, (list, tuple, Tensor)) else list(tensors)


def _any_sparse(tensors: Any) -> bool:
    return not isinstance(tensors, Tensor) and any(
        getattr(type(t), "is_sparse", False) is True for t in tensors
    )


def _sparse_join(tensors: Any, dim: int, op: str) -> Tensor:
    """Sparse COO inputs are joined by their indices (``glassgrad.sparse_structure``)."""
    from glassgrad.sparse_structure import sparse_join  # (it builds on this module)

    return sparse_join(list(tensors), dim, op)


def _joinable(tensors: Any, op: str) -> list[Tensor]:
    """Tensors of one dtype, PyTorch's result type: ints/bools meeting floats become that float, two
    float dtypes the wider (an empty float32 accumulator joined with float64 rows is float64, as
    DINO's MultiCropWrapper does), the casts recorded so each gradient returns in its own dtype."""
    for k, t in enumerate(tensors):  # PyTorch's refusal: read as a tensor, a list would join silently
        if isinstance(t, (list, tuple)):
            raise TypeError(
                f"{op}(): expected Tensor as element {k} in argument 0, but got {type(t).__name__}"
            )
    ts = [t if isinstance(t, Tensor) else Tensor(as_array(t), _wrap=True) for t in tensors]
    if not ts:
        raise ShapeError(f"{op}: expected a non-empty sequence of tensors, got none")
    floats = {t._data.dtype for t in ts if t._data.dtype.kind == "f"}
    complexes = {t._data.dtype for t in ts if t._data.dtype.kind == "c"}
    if complexes:  # complex wins, at the widest precision present; the real ones are cast recorded
        target = np.result_type(*complexes, *floats)  # (their gradient is the real part of theirs)
        return [t if t._data.dtype == target else cast(t, target) for t in ts]
    if len(floats) > 1:
        target = np.result_type(*floats)
        return [t if t._data.dtype == target else cast(t, target) for t in ts]
    target = floats.pop() if floats else np.result_type(*[t._data.dtype for t in ts])
    return [t if t._data.dtype == target else Tensor(t._data.astype(target), _wrap=True) for t in ts]


def cat(tensors: Any, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim; all other sizes must match.

    Shape:
        ``(*A, n_i, *B)`` for each input -> ``(*A, sum n_i, *B)``.

    >>> import glassgrad as gg
    >>> from glassgrad.ops.joining import cat
    >>> cat([gg.zeros(2, 3), gg.ones(1, 3)]).shape
    glassgrad.Size([3, 3])
    """
    tensors = _listed(tensors)
    if _any_sparse(tensors):
        return _sparse_join(tensors, dim, "cat")
    ts = _joinable(tensors, "cat")
    joined = ts
    if any(t.ndim != 1 or t.shape[0] for t in ts):
        joined = [t for t in ts if t.ndim != 1 or t.shape[0]]  # PyTorch skips legacy empty (0,)
    ref = joined[0]
    if ref.ndim == 0:
        raise ShapeError("cat: expected tensors with at least 1 dim, got shape ()")
    # only legacy empties: PyTorch checks no dim (legacy_cat_wrap_dim) and answers a (0,) tensor
    legacy_only = ref.ndim == 1 and not ref.shape[0] and operator.index(dim) == dim
    d = 0 if legacy_only else normalize_dim(dim, ref.ndim, "cat", ref.shape)
    for t in joined[1:]:
        if t.ndim != ref.ndim or any(a != b for i, (a, b) in enumerate(zip(ref.shape, t.shape)) if i != d):
            raise ShapeError(
                f"cat: expected tensors with equal sizes except in dim {dim}, got {ref.shape} and {t.shape}"
            )
    if len(joined) == len(ts):
        out = Cat.apply(*ts, dim=d)
    else:
        # the skipped stay inputs, so that their gradient is an empty (0,) one as PyTorch's, not None
        skip = tuple(i for i, t in enumerate(ts) if t.ndim == 1 and not t.shape[0])
        out = Cat.apply(*ts, dim=d, skip=skip)
    if out._node is not None and dim != d:
        out._node.attrs["given_dim"] = dim  # grad_fn._saved_dim shows the dim as given (saved_args.py)
    return out


def stack(tensors: Any, dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dim ``dim``.

    Shape:
        n inputs of shape ``(*A, *B)`` -> ``(*A, n, *B)`` with ``len(A) == dim``.
    """
    tensors = _listed(tensors)
    if _any_sparse(tensors):
        return _sparse_join(tensors, dim, "stack")
    ts = _joinable(tensors, "stack")
    ref = ts[0]
    for t in ts[1:]:
        if t.shape != ref.shape:
            raise ShapeError(f"stack: expected tensors of equal shape, got {ref.shape} and {t.shape}")
    d = normalize_dim(dim, ref.ndim + 1, "stack", ref.shape)
    return Stack.apply(*ts, dim=d)
