"""The copying forms of the view ops (``torch.view_copy``, ``transpose_copy``, ...: the view's
values in a fresh contiguous tensor) and the scatters that are their inverses
(``slice_scatter``, ``select_scatter``, ``diagonal_scatter``, ``as_strided_scatter``: the input
with a view of it replaced by ``src``, out of place), as PyTorch's. All differentiable, being the
view, or an in-place copy into a view of a clone, which autograd already differentiates."""

from __future__ import annotations

from typing import Any

from glassgrad.errors import ShapeError
from glassgrad.tensor import Tensor

__all__ = [
    "alias_copy", "as_strided_copy", "detach_copy", "diagonal_copy", "expand_copy", "permute_copy",
    "select_copy", "slice_copy", "split_copy", "split_with_sizes_copy", "squeeze_copy", "t_copy",
    "transpose_copy", "unbind_copy", "unfold_copy", "unsqueeze_copy", "view_as_complex_copy",
    "view_as_real_copy", "view_copy", "split_with_sizes", "slice_scatter", "select_scatter",
    "diagonal_scatter", "as_strided_scatter",
]  # fmt: skip


def _fresh(v: Any) -> Any:
    import glassgrad as gg

    if isinstance(v, tuple | list):
        return tuple(_fresh(t) for t in v)
    return v.clone(memory_format=gg.contiguous_format)


def _slices(input: Tensor, dim: int, start: Any, end: Any, step: int) -> tuple:  # noqa: A002
    d = dim % input.ndim if input.ndim else 0
    return (slice(None),) * d + (slice(start, end, step),)


def alias_copy(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
    return _fresh(input)


def as_strided_copy(input: Tensor, size: Any, stride: Any, storage_offset: Any = None) -> Tensor:  # noqa: A002
    return _fresh(input.as_strided(size, stride, storage_offset))


def detach_copy(input: Tensor) -> Tensor:  # noqa: A002
    return _fresh(input.detach())


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    return _fresh(input.diagonal(offset, dim1, dim2))


def expand_copy(input: Tensor, size: Any, *, implicit: bool = False) -> Tensor:  # noqa: A002
    return _fresh(input.expand(*size))


def permute_copy(input: Tensor, dims: Any) -> Tensor:  # noqa: A002
    return _fresh(input.permute(*dims))


def select_copy(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    return _fresh(input.select(dim, index))


def slice_copy(input: Tensor, dim: int = 0, start: Any = None, end: Any = None, step: int = 1) -> Tensor:  # noqa: A002
    return _fresh(input[_slices(input, dim, start, end, step)])


def split_copy(input: Tensor, split_size: Any, dim: int = 0) -> tuple:  # noqa: A002
    return _fresh(input.split(split_size, dim))


def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:  # noqa: A002
    """``input.split(split_sizes, dim)`` with a list of sizes that must add up to the dim's length."""
    if sum(split_sizes) != input.shape[dim]:
        raise ShapeError(
            f"split_with_sizes: expected split_sizes adding up to {input.shape[dim]} (dim {dim} of shape "
            f"{input.shape}), got {list(split_sizes)} (sum {sum(split_sizes)})"
        )
    return input.split(list(split_sizes), dim)


def split_with_sizes_copy(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:  # noqa: A002
    return _fresh(split_with_sizes(input, split_sizes, dim))


def squeeze_copy(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    return _fresh(input.squeeze() if dim is None else input.squeeze(dim))


def t_copy(input: Tensor) -> Tensor:  # noqa: A002
    return _fresh(input.t())


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    return _fresh(input.transpose(dim0, dim1))


def unbind_copy(input: Tensor, dim: int = 0) -> tuple:  # noqa: A002
    return _fresh(input.unbind(dim))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    return _fresh(input.unfold(dimension, size, step))


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    return _fresh(input.unsqueeze(dim))


def view_as_complex_copy(input: Tensor) -> Tensor:  # noqa: A002
    import glassgrad as gg

    return _fresh(gg.view_as_complex(input))


def view_as_real_copy(input: Tensor) -> Tensor:  # noqa: A002
    import glassgrad as gg

    return _fresh(gg.view_as_real(input))


def view_copy(input: Tensor, size: Any) -> Tensor:  # noqa: A002
    """A copy of ``input.view(size)`` (``size`` a shape, or a dtype to reinterpret as)."""
    return _fresh(input.view(size) if not isinstance(size, list | tuple) else input.view(*size))


def _scatter_into(op: str, input: Tensor, src: Tensor, view: Any) -> Tensor:  # noqa: A002
    out = input.clone()
    target = view(out)
    if tuple(target.shape) != tuple(src.shape):
        raise ShapeError(
            f"{op}: expected src of the shape it replaces, {tuple(target.shape)}, got {tuple(src.shape)}"
        )
    target.copy_(src)
    return out


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: Any = None, end: Any = None,  # noqa: A002
                  step: int = 1) -> Tensor:  # fmt: skip
    """``input`` with ``input[start:end:step]`` along ``dim`` replaced by ``src``. Shape: input's."""
    return _scatter_into("slice_scatter", input, src, lambda o: o[_slices(o, dim, start, end, step)])


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """``input`` with ``input.select(dim, index)`` replaced by ``src``. Shape: input's."""
    return _scatter_into("select_scatter", input, src, lambda o: o.select(dim, index))


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``. Shape: input's."""
    return _scatter_into("diagonal_scatter", input, src, lambda o: o.diagonal(offset, dim1, dim2))


def as_strided_scatter(
    input: Tensor,  # noqa: A002
    src: Tensor,
    size: Any,
    stride: Any,
    storage_offset: Any = None,
) -> Tensor:
    """``input`` with ``input.as_strided(size, stride, storage_offset)`` replaced by ``src``."""
    return _scatter_into(
        "as_strided_scatter", input, src, lambda o: o.as_strided(size, stride, storage_offset)
    )
