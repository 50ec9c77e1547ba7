"""``torch.ops.aten``: the few ATen operators that published programs call by that name.

PyTorch exposes its internal operator library as ``torch.ops.aten.<name>``; programs reach for it
where the Python API lacks a form (``aten.slice`` takes the dim as an argument, which ``x[...]``
does not), or name them as keys when they match traced graphs (curvlinops matches ``view``,
``_unsafe_view``, ``t``, ``mm``, ``addmm``, ``add`` and ``convolution``; torchao's NF4 tensor
registers its ``__torch_dispatch__`` handlers under ``clone``'s key). Each operator here is also reachable as ``<name>.Tensor`` / ``<name>.default``, the
overload spellings PyTorch accepts. Any other name raises an error that names the missing operator
rather than guessing at an ATen signature that may differ from the Python function of that name.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import glassgrad as gg
from glassgrad.autograd.function import named
from glassgrad.errors import ArgumentError, ShapeError
from glassgrad.ops.indexing import GetItem, normalize_dim
from glassgrad.tensor import Tensor

__all__ = ["_unsafe_view", "add", "addmm", "clone", "convolution", "mm", "slice", "t", "view"]


def slice(  # noqa: A001 - ATen's name for the op
    input: Tensor,  # noqa: A002
    dim: int = 0,
    start: Any = None,
    end: Any = None,
    step: int = 1,
) -> Tensor:
    """``input[..., start:end:step, ...]`` along ``dim`` (a view), with Python's clamping of
    out-of-range bounds and negative bounds counted from the end.

    Shape:
        input ``(*A, n, *B)`` -> ``(*A, m, *B)`` with m the length of ``range(n)[start:end:step]``.
    """
    if input.ndim == 0:
        raise ShapeError("aten.slice: expected a tensor with at least 1 dim, got shape ()")
    d = normalize_dim(dim, input.ndim, "aten.slice", input.shape)
    step = int(step)
    if step <= 0:
        raise ArgumentError(
            f"aten.slice: expected a positive step, got {step} (shape {input.shape}, dim {dim})"
        )
    bounds = [None if b is None else int(b) for b in (start, end)]
    key = (builtins.slice(None),) * d + (builtins.slice(bounds[0], bounds[1], step),)
    return named(GetItem.apply(input, key=key, advanced=False), "SliceBackward0")


def view(input: Tensor, size: Sequence[int]) -> Tensor:  # noqa: A002
    """``aten::view(Tensor self, SymInt[] size)``: ``input.view(size)``."""
    return input.view(tuple(size))


def _unsafe_view(input: Tensor, size: Sequence[int]) -> Tensor:  # noqa: A002
    """``aten::_unsafe_view(Tensor self, SymInt[] size)``: ``input.reshape(size)``."""
    return input.reshape(tuple(size))


def t(input: Tensor) -> Tensor:  # noqa: A002
    """``aten::t(Tensor self)``: the transpose of a matrix (a 0-d or 1-d input unchanged)."""
    return input.t()


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """``aten::mm(Tensor self, Tensor mat2)``: ``input @ mat2`` for matrices."""
    return gg.mm(input, mat2)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:  # noqa: A002
    """``aten::addmm(self, mat1, mat2, *, beta=1, alpha=1)``: ``beta*input + alpha*(mat1@mat2)``."""
    return gg.addmm(input, mat1, mat2, beta=beta, alpha=alpha)


def add(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    """``aten::add.Tensor(self, other, *, alpha=1)``: ``input + alpha*other``."""
    return gg.add(input, other, alpha=alpha)


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:  # noqa: A002
    """``aten::clone(Tensor self, *, MemoryFormat? memory_format=None)``: ``input.clone()``."""
    if memory_format is None:
        return input.clone()
    return input.clone(memory_format=memory_format)


def convolution(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None,
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    transposed: bool,
    output_padding: Sequence[int],
    groups: int,
) -> Tensor:
    """``aten::convolution(input, weight, bias, stride, padding, dilation, transposed,
    output_padding, groups)``: ``torch.convolution`` with every argument given."""
    return gg.convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)


for _op in (slice, view, _unsafe_view, t, mm, addmm, add, clone, convolution):
    _op.default = _op  # type: ignore[attr-defined]
    _op.Tensor = _op  # type: ignore[attr-defined]
del _op


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    # point to a public function only where there is one (aten's unfold_backward has none)
    hint = (
        f"call the public function glassgrad.{name} or the Tensor method instead"
        if hasattr(gg, name) or hasattr(gg.Tensor, name)
        else "it has no public glassgrad counterpart"
    )
    raise AttributeError(f"glassgrad.ops.aten has no operator {name!r} (only {', '.join(__all__)}); {hint}")
