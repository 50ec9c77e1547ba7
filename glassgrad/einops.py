"""einops on glassgrad tensors: ``rearrange``, ``repeat``, ``reduce``, ``pack``, ``einsum`` and the
``Rearrange``/``Reduce`` layers, as ``einops.layers.torch`` gives them to PyTorch.

einops picks a backend by the tensor's type and knows NumPy's, PyTorch's and a few others', not
glassgrad's. It finds backends as the subclasses of its ``AbstractBackend`` whose framework is
imported, so defining ``GlassgradBackend`` below registers it (the way einops' author gives for
outside libraries); ``import glassgrad`` imports this module when einops is installed, so
``from einops import rearrange`` works on glassgrad tensors unchanged. Every backend method is one
glassgrad op, so gradients flow through ``rearrange`` as through ``permute`` and ``reshape``.

The layers are PyTorch modules in ``einops.layers.torch``; a ported script imports them from
here instead (``from glassgrad.einops import Rearrange, Reduce``), glassgrad ``Module``s built on
einops' own framework-neutral mixins. einops is optional: this module needs it installed.
"""

from __future__ import annotations

from typing import Any

from einops._backends import AbstractBackend
from einops.layers import RearrangeMixin, ReduceMixin

import glassgrad as gg

__all__ = ["GlassgradBackend", "Rearrange", "Reduce"]


class GlassgradBackend(AbstractBackend):
    """einops' backend for ``glassgrad.Tensor``, method for method as its PyTorch one."""

    framework_name = "glassgrad"

    def is_appropriate_type(self, tensor: Any) -> bool:
        return isinstance(tensor, gg.Tensor)

    def from_numpy(self, x: Any) -> Any:
        t = gg.from_numpy(x)
        return t.requires_grad_() if t.is_floating_point() else t  # (einops' own tests ask for it)

    def to_numpy(self, x: Any) -> Any:
        return x.detach().cpu().numpy()

    def arange(self, start: int, stop: int) -> Any:
        return gg.arange(start, stop, dtype=gg.int64)

    def reduce(self, x: Any, operation: str, reduced_axes: Any) -> Any:
        if operation in ("min", "max"):  # amin/amax take several dims, as PyTorch's backend uses
            return getattr(x, "a" + operation)(dim=tuple(reduced_axes))
        if operation in ("sum", "mean"):
            return getattr(x, operation)(dim=tuple(reduced_axes))
        for axis in sorted(reduced_axes)[::-1]:  # any, all, prod: one dim at a time
            x = getattr(x, operation)(dim=axis)
        return x

    def transpose(self, x: Any, axes: Any) -> Any:
        return x.permute(axes)

    def stack_on_zeroth_dimension(self, tensors: list) -> Any:
        return gg.stack(tensors)

    def add_axes(self, x: Any, n_axes: int, pos2len: dict) -> Any:
        sizes = [-1] * n_axes
        for position, length in pos2len.items():
            x = x.unsqueeze(position)
            sizes[position] = length
        return x.expand(sizes)

    def tile(self, x: Any, repeats: Any) -> Any:
        return x.repeat(repeats)

    def concat(self, tensors: list, axis: int) -> Any:
        return gg.cat(tensors, dim=axis)

    def add_axis(self, x: Any, new_position: int) -> Any:
        return x.unsqueeze(new_position)

    def is_float_type(self, x: Any) -> bool:
        return x.is_floating_point()

    def einsum(self, pattern: str, *x: Any) -> Any:
        return gg.einsum(pattern, *x)


class Rearrange(RearrangeMixin, gg.nn.Module):
    """``einops.layers.torch.Rearrange`` as a glassgrad module: ``Rearrange("b c h w -> b (h w) c")``."""

    def forward(self, x: Any) -> Any:
        return self._apply_recipe(x)


class Reduce(ReduceMixin, gg.nn.Module):
    """``einops.layers.torch.Reduce`` as a glassgrad module: ``Reduce("b c h w -> b c", "mean")``."""

    def forward(self, x: Any) -> Any:
        return self._apply_recipe(x)
