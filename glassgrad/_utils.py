"""``glassgrad._utils``: the helpers of PyTorch's private ``torch._utils`` that published
training code imports (guided-diffusion's fp16 master weights, apex-style gradient buckets,
tensordict's device lookups, detectron2's Caffe2 export asking ``is_compiling``).

>>> import glassgrad as gg
>>> from glassgrad._utils import _flatten_dense_tensors, _unflatten_dense_tensors
>>> a, b = gg.ones(2, 2), gg.zeros(3)
>>> flat = _flatten_dense_tensors([a, b])
>>> flat.shape
glassgrad.Size([7])
>>> [t.shape for t in _unflatten_dense_tensors(flat, [a, b])]
[glassgrad.Size([2, 2]), glassgrad.Size([3])]
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator

import glassgrad
from glassgrad.tensor import Tensor

__all__ = [
    "_element_size",
    "_flatten_dense_tensors",
    "_get_available_device_type",
    "_get_device_module",
    "_take_tensors",
    "_unflatten_dense_tensors",
    "is_compiling",
]


def _flatten_dense_tensors(tensors: Iterable[Tensor]) -> Tensor:
    """One new contiguous 1-D tensor holding every tensor's elements in order (each (*s_i,) ->
    (sum of numel,)); differentiable, like torch's (it is a ``cat`` of the flattened tensors)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("_flatten_dense_tensors: expected a non-empty sequence of tensors")
    if len(tensors) == 1:
        # torch returns a flattened *copy* here too, never the input itself.
        return tensors[0].reshape(-1).clone()
    return glassgrad.cat([t.reshape(-1) for t in tensors], dim=0)


def _unflatten_dense_tensors(flat: Tensor, tensors: Iterable[Tensor]) -> tuple[Tensor, ...]:
    """Views of the 1-D ``flat`` (sum of numel,) shaped like each of ``tensors`` in order, as
    torch's: writing into one writes into ``flat``."""
    out, offset = [], 0
    for t in tensors:
        n = t.numel()
        if offset + n > flat.numel():
            raise ValueError(
                f"_unflatten_dense_tensors: flat has {flat.numel()} elements, fewer than the tensors' total"
            )
        out.append(flat.narrow(0, offset, n).view(t.shape))
        offset += n
    return tuple(out)


def _take_tensors(tensors: Iterable[Tensor], size_limit: int) -> Iterator[list[Tensor]]:
    """Chunks of ``tensors`` (lists), each of one ``tensor.type()`` and at most ``size_limit``
    bytes unless a single tensor is larger, as torch's (MMEngine's bucketed all-reduce): tensors
    keep their order within a type; a sparse tensor counts its indices' and values' bytes."""
    buffers: dict[str, list] = {}
    for tensor in tensors:
        kind = tensor.type()
        if tensor.is_sparse:
            indices, values = tensor._indices(), tensor._values()
            size = indices.numel() * indices.element_size() + values.numel() * values.element_size()
        else:
            size = tensor.numel() * tensor.element_size()
        buf = buffers.setdefault(kind, [[], 0])
        if buf[1] + size > size_limit and buf[1] > 0:
            yield buf[0]
            buf = buffers[kind] = [[], 0]
        buf[0].append(tensor)
        buf[1] += size
    for chunk, _ in buffers.values():
        if chunk:
            yield chunk


def _element_size(dtype: glassgrad.dtype) -> int:
    """``torch._utils._element_size``: bytes per element of ``dtype`` (``dtype.itemsize``; PyTorch's
    own ``test_view_ops`` sizes ``view(dtype)``'s expected shapes with it)."""
    if not isinstance(dtype, glassgrad.dtype):
        raise RuntimeError(f"_element_size: expected a glassgrad.dtype, got {dtype!r}")
    return int(dtype.itemsize)


def _get_available_device_type() -> str | None:
    """The accelerator type PyTorch would pick (``"cuda"``, ``"mps"``, ...), or ``None``: glassgrad
    computes on the CPU only, so always ``None`` (as a CPU-only PyTorch build; tensordict asks it
    before synchronizing devices)."""
    return None


def _get_device_module(device_type: str) -> object:
    """``torch.<device_type>`` (``torch.cuda``, ``torch.mps``, ...), or a ``RuntimeError`` naming
    the device when there is no such module."""
    module = getattr(glassgrad, device_type, None) if isinstance(device_type, str) else None
    if module is None:
        raise RuntimeError(
            f"Device '{device_type}' does not have a corresponding module registered as 'torch.{device_type}'."
        )
    return module


def is_compiling() -> bool:
    """``torch._utils.is_compiling``: ``torch.compiler.is_compiling()`` (always False here: nothing
    is compiled), with PyTorch 2.13's deprecation ``UserWarning`` attributed to the caller."""
    warnings.warn(
        "`torch._utils.is_compiling` is deprecated. Use `torch.compiler.is_compiling` instead.",
        stacklevel=2,
    )
    return glassgrad.compiler.is_compiling()
