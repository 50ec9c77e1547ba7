# ruff: noqa: A002 - the operands are named as PyTorch names them (input)
"""The copying forms of the view ops (``torch.view_copy``, ``transpose_copy``, ...: the view's
values in a fresh contiguous tensor) and the scatters that are their inverses
(``slice_scatter``, ``select_scatter``, ``diagonal_scatter``, ``as_strided_scatter``: the input
with a view of it replaced by ``src``, out of place), as PyTorch's. All differentiable, being the
view, or an in-place copy into a view of a clone, which autograd already differentiates."""

from __future__ import annotations

from typing import Any

from glassgrad.errors import IndexOutOfRangeError, ShapeError
from glassgrad.ops.indexing import normalize_dim
from glassgrad.tensor import Tensor

__all__ = [
    "alias_copy", "as_strided_copy", "detach_copy", "diagonal_copy", "expand_copy", "permute_copy",
    "select_copy", "slice_copy", "split_copy", "split_with_sizes_copy", "squeeze_copy", "t_copy",
    "transpose_copy", "unbind_copy", "unfold_copy", "unsqueeze_copy", "view_as_complex_copy",
    "view_as_real_copy", "view_copy", "split_with_sizes", "slice_scatter", "select_scatter",
    "diagonal_scatter", "as_strided_scatter",
]  # fmt: skip


def _fresh(v: Any, out: Any = None, op: str = "copy") -> Any:
    """``v`` (a tensor or a tuple of them) copied into fresh contiguous tensors, or into ``out``."""
    import glassgrad as gg
    from glassgrad.out_keyword import with_out

    if isinstance(v, tuple):  # (split's and unbind's pieces; a list is not a tensor operand)
        if out is None:
            return tuple(_fresh(t) for t in v)
        return tuple(with_out(_fresh(t), o, op) for t, o in zip(v, out, strict=True))
    return with_out(v.clone(memory_format=gg.contiguous_format), out, op)


def _slices(op: str, input: Tensor, dim: int, start: Any, end: Any, step: int) -> tuple:
    """The key of ``input[start:end:step]`` along ``dim``; ``dim`` checked (``dim % ndim`` sliced dim 0
    for a dim of 10 on a 2-D tensor), a 0-d tensor refused, as PyTorch's ``slice``."""
    if not input.ndim:
        raise IndexOutOfRangeError(f"{op}: slice() cannot be applied to a 0-dim tensor (shape {input.shape})")
    return (slice(None),) * normalize_dim(dim, input.ndim, op, input.shape) + (slice(start, end, step),)


def alias_copy(input: Tensor, *, out: Any = None) -> Tensor:
    return _fresh(input, out, "alias_copy")


def as_strided_copy(
    input: Tensor, size: Any, stride: Any, storage_offset: Any = None, *, out: Any = None
) -> Tensor:
    return _fresh(input.as_strided(size, stride, storage_offset), out, "as_strided_copy")


def detach_copy(input: Tensor, *, out: Any = None) -> Tensor:
    return _fresh(input.detach(), out, "detach_copy")


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1, *, out: Any = None) -> Tensor:
    return _fresh(input.diagonal(offset, dim1, dim2), out, "diagonal_copy")


def expand_copy(input: Tensor, size: Any, *, implicit: bool = False, out: Any = None) -> Tensor:
    return _fresh(input.expand(*size), out, "expand_copy")


def permute_copy(input: Tensor, dims: Any, *, out: Any = None) -> Tensor:
    return _fresh(input.permute(*dims), out, "permute_copy")


def select_copy(input: Tensor, dim: int, index: int, *, out: Any = None) -> Tensor:
    return _fresh(input.select(dim, index), out, "select_copy")


def slice_copy(
    input: Tensor, dim: int = 0, start: Any = None, end: Any = None, step: int = 1, *, out: Any = None
) -> Tensor:
    return _fresh(input[_slices("slice_copy", input, dim, start, end, step)], out, "slice_copy")


def split_copy(input: Tensor, split_size: Any, dim: int = 0, *, out: Any = None) -> tuple:
    return _fresh(input.split(split_size, dim), out, "split_copy")


def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:
    """``input.split(split_sizes, dim)`` with a list of sizes that must add up to the dim's length."""
    if sum(split_sizes) != input.shape[dim]:
        raise ShapeError(
            f"split_with_sizes: expected split_sizes adding up to {input.shape[dim]} (dim {dim} of shape "
            f"{input.shape}), got {list(split_sizes)} (sum {sum(split_sizes)})"
        )
    return input.split(list(split_sizes), dim)


def split_with_sizes_copy(input: Tensor, split_sizes: Any, dim: int = 0, *, out: Any = None) -> tuple:
    return _fresh(split_with_sizes(input, split_sizes, dim), out, "split_with_sizes_copy")


def squeeze_copy(input: Tensor, dim: Any = None, *, out: Any = None) -> Tensor:
    return _fresh(input.squeeze() if dim is None else input.squeeze(dim), out, "squeeze_copy")


def t_copy(input: Tensor, *, out: Any = None) -> Tensor:
    return _fresh(input.t(), out, "t_copy")


def transpose_copy(input: Tensor, dim0: int, dim1: int, *, out: Any = None) -> Tensor:
    return _fresh(input.transpose(dim0, dim1), out, "transpose_copy")


def unbind_copy(input: Tensor, dim: int = 0, *, out: Any = None) -> tuple:
    return _fresh(input.unbind(dim), out, "unbind_copy")


def unfold_copy(input: Tensor, dimension: int, size: int, step: int, *, out: Any = None) -> Tensor:
    return _fresh(input.unfold(dimension, size, step), out, "unfold_copy")


def unsqueeze_copy(input: Tensor, dim: int, *, out: Any = None) -> Tensor:
    return _fresh(input.unsqueeze(dim), out, "unsqueeze_copy")


def view_as_complex_copy(input: Tensor, *, out: Any = None) -> Tensor:
    import glassgrad as gg

    return _fresh(gg.view_as_complex(input), out, "view_as_complex_copy")


def view_as_real_copy(input: Tensor, *, out: Any = None) -> Tensor:
    import glassgrad as gg

    return _fresh(gg.view_as_real(input), out, "view_as_real_copy")


def view_copy(input: Tensor, size: Any = None, dtype: Any = None, *, out: Any = None) -> Tensor:
    """A copy of ``input.view(size)`` (``size`` a shape), or of ``input.view(dtype)``. A shape the
    strides cannot express is ``reshape``'s copy, as PyTorch's (no view there to refuse)."""
    view = (
        input.view(dtype)
        if size is None
        else input.reshape(*size)
        if isinstance(size, list | tuple)
        else input.reshape(size)
    )
    return _fresh(view, out, "view_copy")


def _scatter_into(op: str, input: Tensor, src: Tensor, view: Any) -> Tensor:
    from glassgrad.autograd import forward_ad

    if forward_ad.is_active() and (forward_ad.is_dual(input) or forward_ad.is_dual(src)):
        # Forward AD does not follow a write through a view of a dual tensor (it refuses), so the
        # value is made with tangents paused and its tangent is the same scatter of the tangents
        # (the op is linear in (input, src)), as PyTorch's *_scatter forward derivatives.
        with forward_ad.paused():
            out = _scatter_into(op, input, src, view)
        t_in, t_src = (forward_ad.get_tangent(x) for x in (input, src))
        t_in = t_in if t_in is not None else input.detach().new_zeros(tuple(input.shape))
        t_src = t_src if t_src is not None else src.detach().new_zeros(tuple(src.shape))
        forward_ad.set_tangent(out, _scatter_into(op, t_in.detach(), t_src.detach(), view))
        return out
    out = input.clone()
    target = view(out)
    if tuple(target.shape) != tuple(src.shape):
        raise ShapeError(
            f"{op}: expected src of the shape it replaces, {tuple(target.shape)}, got {tuple(src.shape)}"
        )
    target.copy_(src)
    return out


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: Any = None, end: Any = None,
                  step: int = 1, *, out: Any = None) -> Tensor:  # fmt: skip
    """``input`` with ``input[start:end:step]`` along ``dim`` replaced by ``src``. Shape: input's."""
    from glassgrad.out_keyword import with_out

    key = _slices("slice_scatter", input, dim, start, end, step)
    result = _scatter_into("slice_scatter", input, src, lambda o: o[key])
    return with_out(result, out, "slice_scatter")


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """``input`` with ``input.select(dim, index)`` replaced by ``src``. Shape: input's."""
    return _scatter_into("select_scatter", input, src, lambda o: o.select(dim, index))


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``. Shape: input's."""
    return _scatter_into("diagonal_scatter", input, src, lambda o: o.diagonal(offset, dim1, dim2))


def as_strided_scatter(
    input: Tensor,
    src: Tensor,
    size: Any,
    stride: Any,
    storage_offset: Any = None,
) -> Tensor:
    """``input`` with ``input.as_strided(size, stride, storage_offset)`` replaced by ``src``."""
    return _scatter_into(
        "as_strided_scatter", input, src, lambda o: o.as_strided(size, stride, storage_offset)
    )
