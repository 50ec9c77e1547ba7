"""Spectral normalisation (Miyato et al. 2018), PyTorch's original hook-based API:
``spectral_norm(module)`` keeps the raw weight as the parameter ``weight_orig`` and, before every
forward, sets ``module.weight = weight_orig / sigma``, ``sigma`` being the largest singular value
of the weight seen as a matrix ``(size of dim, rest)``.

``sigma`` is estimated by power iteration on two buffers, ``weight_u`` ``(h,)`` and ``weight_v``
``(w,)``: in training mode each forward first runs ``n_power_iterations`` steps
``v = normalize(W^T u)``, ``u = normalize(W v)`` outside the graph, then ``sigma = u . (W v)`` is
differentiated through ``W`` only. The newer ``nn.utils.parametrizations.spectral_norm`` does the
same with a parametrization.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.nn.functional import normalize
from glassgrad.nn.module import Module, Parameter
from glassgrad.tensor import Tensor

__all__ = ["spectral_norm", "remove_spectral_norm", "SpectralNorm"]


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_orig``, ``_u`` and ``_v``."""

    def __init__(
        self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: expected n_power_iterations > 0, got {n_power_iterations}")
        self.name, self.dim, self.n_power_iterations, self.eps = name, dim, n_power_iterations, eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """Shape: weight ``(*)`` with ``h`` at ``dim``; returns ``(h, numel / h)``."""
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)  # (..., h, ...) -> (h, ...)
        return weight.reshape(weight.shape[0], -1)  # (h, ...) -> (h, w)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():  # the estimates are updated in place, outside the graph
                for _ in range(self.n_power_iterations):
                    v.copy_(normalize(weight_mat.mT.mv(u), dim=0, eps=self.eps))
                    u.copy_(normalize(weight_mat.mv(v), dim=0, eps=self.eps))
            # clones: the next in-place update must not touch this forward's graph
            u, v = u.clone(), v.clone()
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"spectral_norm: cannot register two spectral_norm hooks on the same parameter {name}"
                )
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if not isinstance(weight, Parameter):
            got = "a buffer" if name in module._buffers else "none"
            raise ValueError(
                f"spectral_norm: expected {name!r} to be a parameter of {type(module).__name__}, got {got}"
            )
        if not -weight.ndim <= dim < weight.ndim:
            raise IndexError(
                f"spectral_norm: expected dim in [{-weight.ndim}, {weight.ndim - 1}] for {name!r} of "
                f"shape {tuple(weight.shape)}, got {dim}"
            )
        fn.dim = dim % weight.ndim
        with no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        del module._parameters[name]
        module.register_parameter(name + "_orig", weight)
        # a plain attribute until the first forward replaces it (PyTorch's weight.data)
        setattr(module, name, weight.data)
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        for suffix in ("_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))


def output_dim(module: Module) -> int:
    """The weight's output dim, spectral norm's default: 1 for transposed convolutions, else 0."""
    from glassgrad.nn.conv import _ConvTranspose  # the layers import nn.utils: import at call time

    return 1 if isinstance(module, _ConvTranspose) else 0


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Divide ``module.<name>`` by its spectral norm before every forward, as
    ``torch.nn.utils.spectral_norm``; returns the module.

    ``dim`` (the output dim) defaults to 1 for transposed convolutions and 0 otherwise. State-dict
    keys: ``<name>_orig``, ``<name>_u`` ``(h,)``, ``<name>_v`` ``(w,)``.

    >>> import glassgrad.nn as nn
    >>> m = spectral_norm(nn.Linear(20, 40))
    >>> [(k, tuple(v.shape)) for k, v in m.state_dict().items()]
    [('bias', (40,)), ('weight_orig', (40, 20)), ('weight_u', (40,)), ('weight_v', (20,))]
    """
    if dim is None:
        dim = output_dim(module)
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``spectral_norm``: ``<name>`` becomes a plain parameter holding ``weight_orig / sigma``."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            module._forward_pre_hooks_with_kwargs.discard(key)
            return module
    raise ValueError(
        f"remove_spectral_norm: expected a module given to spectral_norm(module, {name!r}); "
        f"spectral_norm of '{name}' not found in {module}"
    )
