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
from glassgrad.errors import IndexOutOfRangeError
from glassgrad.nn.functional import normalize
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.parameter import UninitializedParameter
from glassgrad.tensor import Tensor

__all__ = [
    "spectral_norm",
    "remove_spectral_norm",
    "SpectralNorm",
    "SpectralNormStateDictHook",
    "SpectralNormLoadStateDictPreHook",
]


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_orig``, ``_u`` and ``_v``.

    ``_version`` 1 (PyTorch's): the state dict keeps ``_v`` and not ``<name>``; a version-0 dict
    (``<name>`` saved, no ``_v``) is converted on load (``SpectralNormLoadStateDictPreHook``)."""

    _version: int = 1

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

    def _solve_v_and_rescale(self, weight_mat: Tensor, u: Tensor, target_sigma: Tensor) -> Tensor:
        """A ``v`` with ``u = normalize(W v)`` and ``u . (W v) = sigma``: ``v = (W^T W)^+ W^T u``,
        rescaled (a pseudo-inverse, as ``W^T W`` may be singular)."""
        from glassgrad.linalg import multi_dot

        v = multi_dot([weight_mat.t().mm(weight_mat).pinverse(), weight_mat.t(), u.unsqueeze(1)]).squeeze(1)
        return v.mul_(target_sigma / u.dot(weight_mat.mv(v)))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"spectral_norm: cannot register two spectral_norm hooks on the same parameter {name}"
                )
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if isinstance(weight, UninitializedParameter):  # its shape is not known yet: PyTorch's words
            raise ValueError(
                "The module passed to `SpectralNorm` can't have uninitialized parameters. "
                "Make sure to run the dummy forward before applying spectral normalization"
            )
        if not isinstance(weight, Parameter):
            got = "a buffer" if name in module._buffers else "none"
            raise ValueError(
                f"spectral_norm: expected {name!r} to be a parameter of {type(module).__name__}, got {got}"
            )
        if not -weight.ndim <= dim < weight.ndim:
            # PyTorch's permute raises RuntimeError here (and its parametrization IndexError): both
            raise IndexOutOfRangeError(
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
        module._register_state_dict_hook(SpectralNormStateDictHook(fn))
        module._register_load_state_dict_pre_hook(SpectralNormLoadStateDictPreHook(fn))
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


class SpectralNormLoadStateDictPreHook:
    """Load pre-hook: a state dict of version None or 0 (``weight``, ``weight_orig`` and
    ``weight_u`` saved, no ``weight_v``) gets ``weight_v`` solved from them (``sigma`` is the mean
    of ``weight_orig / weight``) and loses ``weight``, as PyTorch converts it; a dict with
    ``_orig``, ``_u``, ``_v`` and no metadata is taken as current."""

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version", None)
        if version is not None and version >= 1:
            return
        weight_key = prefix + fn.name
        if (
            version is None
            and all(weight_key + s in state_dict for s in ("_orig", "_u", "_v"))
            and weight_key not in state_dict
        ):
            return
        has_missing_keys = False
        for suffix in ("_orig", "", "_u"):
            if weight_key + suffix not in state_dict:
                has_missing_keys = True
                if strict:
                    missing_keys.append(weight_key + suffix)
        if has_missing_keys:
            return
        with no_grad():
            weight_orig = state_dict[weight_key + "_orig"]
            weight = state_dict.pop(weight_key)
            sigma = (weight_orig / weight).mean()
            weight_mat = fn.reshape_weight_to_matrix(weight_orig)
            u = state_dict[weight_key + "_u"]
            state_dict[weight_key + "_v"] = fn._solve_v_and_rescale(weight_mat, u, sigma)


class SpectralNormStateDictHook:
    """State-dict hook: records ``metadata["spectral_norm"]["<name>.version"] = 1`` in the module's
    entry of ``state_dict._metadata``, as PyTorch."""

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, module: Module, state_dict: dict, prefix: str, local_metadata: dict) -> None:
        if "spectral_norm" not in local_metadata:
            local_metadata["spectral_norm"] = {}
        key = self.fn.name + ".version"
        if key in local_metadata["spectral_norm"]:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        local_metadata["spectral_norm"][key] = self.fn._version


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
            # the hooks go too; PyTorch's own test misses the wrapped load pre-hook, which stays
            for k, h in list(module._state_dict_hooks.items()):
                if isinstance(h, SpectralNormStateDictHook) and h.fn.name == name:
                    del module._state_dict_hooks[k]
                    break
            for k, h in list(module._load_state_dict_pre_hooks.items()):
                if isinstance(h, SpectralNormLoadStateDictPreHook) and h.fn.name == name:
                    del module._load_state_dict_pre_hooks[k]
                    break
            return module
    raise ValueError(
        f"remove_spectral_norm: expected a module given to spectral_norm(module, {name!r}); "
        f"spectral_norm of '{name}' not found in {module}"
    )
