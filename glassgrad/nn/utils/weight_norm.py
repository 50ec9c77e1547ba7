"""Weight normalisation (Salimans and Kingma 2016), PyTorch's original hook-based API:
``weight_norm(module)`` replaces ``weight`` by two parameters, a direction ``weight_v`` and a
magnitude ``weight_g``, and recomputes ``weight = g * v / ||v||`` before every forward.

The norm is taken over every dim except ``dim`` (the output channels by default), so each
output unit's weight vector gets its own length ``g``; ``dim=None`` (or -1, as PyTorch) uses one
norm for the whole tensor. The recomputation is a composite of differentiable ops, so ``g`` and
``v`` receive their gradients through autograd.
"""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.parameter import UninitializedParameter
from glassgrad.tensor import Tensor
from glassgrad.torch_aten_more import _weight_norm, norm_except_dim

__all__ = ["weight_norm", "remove_weight_norm", "WeightNorm"]


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module) -> Tensor:
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        # PyTorch deprecates the hook-based API at this entry (weight_norm calls it), every call;
        # Python's once-per-location filter shows it once by default
        warnings.warn(
            "`torch.nn.utils.weight_norm` is deprecated in favor of "
            "`torch.nn.utils.parametrizations.weight_norm` (the same weight_g, weight_v as a parametrization)",
            FutureWarning,
            stacklevel=2,  # (fixed: attributed to glassgrad, as PyTorch attributes it to its module)
        )
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        dim = -1 if dim is None else dim
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):  # its shape is not known yet: PyTorch's words
            raise ValueError(
                "The module passed to `WeightNorm` can't have uninitialized parameters. "
                "Make sure to run the dummy forward before applying weight normalization"
            )
        if not isinstance(weight, Parameter):
            raise ValueError(f"weight_norm: expected {name!r} to be a parameter of {type(module).__name__}")
        if dim != -1 and not -weight.ndim <= dim < weight.ndim:  # -1: one norm for the whole tensor
            raise IndexError(
                f"weight_norm: expected dim in [{-weight.ndim}, {weight.ndim - 1}] (or None) for "
                f"{name!r} of shape {weight.shape}, got {dim}"
            )
        del module._parameters[name]
        with no_grad():
            g = norm_except_dim(weight, 2, dim)
        module.register_parameter(name + "_g", Parameter(g.detach().clone()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrise ``module.<name>`` as ``g * v / ||v||`` (``<name>_g``, ``<name>_v``), as
    ``torch.nn.utils.weight_norm``; returns the module.

    ``g`` has the weight's shape with every dim but ``dim`` of size 1 (a 0-d tensor for ``dim=None``).

    >>> import glassgrad.nn as nn
    >>> m = weight_norm(nn.Linear(3, 4))
    >>> list(m.state_dict()), tuple(m.weight_g.shape)
    (['bias', 'weight_g', 'weight_v'], (4, 1))
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``weight_norm``: ``<name>`` becomes a plain parameter again (holding ``g * v / ||v||``)."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            module._forward_pre_hooks_with_kwargs.discard(key)
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
