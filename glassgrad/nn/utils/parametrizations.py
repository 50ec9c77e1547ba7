"""Ready-made parametrizations (``torch.nn.utils.parametrizations``): ``weight_norm``,
``spectral_norm`` and ``orthogonal`` (in ``orthogonal.py``), registered with
:func:`glassgrad.nn.utils.parametrize.register_parametrization`.

Unlike the hook-based ``nn.utils.weight_norm``/``spectral_norm``, these keep the module's own
attribute name: ``module.weight`` is recomputed on each access from
``module.parametrizations.weight.original`` (spectral norm) or ``original0`` (``g``) and
``original1`` (``v``) (weight norm), as PyTorch's. Assigning ``module.weight = w`` stores the
tensor(s) that give ``w`` back.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.nn.functional import normalize
from glassgrad.nn.module import Module
from glassgrad.nn.utils import parametrize
from glassgrad.nn.utils.orthogonal import orthogonal
from glassgrad.nn.utils.spectral_norm import output_dim
from glassgrad.nn.utils.weight_norm import _weight_norm, norm_except_dim
from glassgrad.tensor import Tensor

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


class _WeightNorm(Module):
    """``w = g * v / ||v||``, the norm over every dim but ``dim`` (all dims for -1); its inverse
    splits ``w`` into ``(g, v) = (||w||, w)``."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Parametrize ``module.<name>`` as ``g * v / ||v||`` (``torch.nn.utils.parametrizations.weight_norm``).

    ``g`` is ``parametrizations.<name>.original0``, of the weight's shape with every dim but
    ``dim`` of size 1 (0-d for ``dim=None``); ``v`` is ``original1``, of the weight's shape. A
    state dict saved with the hook-based ``nn.utils.weight_norm`` (``<name>_g``, ``<name>_v``)
    loads into it. Returns ``module``.

    >>> import glassgrad.nn as nn
    >>> m = weight_norm(nn.Linear(3, 4))
    >>> [(k, tuple(v.shape)) for k, v in m.state_dict().items()][1:]
    [('parametrizations.weight.original0', (4, 1)), ('parametrizations.weight.original1', (4, 3))]
    """
    weight = getattr(module, name, None)
    if isinstance(weight, Tensor) and dim is not None and dim != -1 and not -weight.ndim <= dim < weight.ndim:
        raise IndexError(
            f"weight_norm: expected dim in [{-weight.ndim}, {weight.ndim - 1}] (or None) for "
            f"'{name}' of shape {tuple(weight.shape)}, got {dim}"
        )
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def load_hook_based_keys(state_dict: dict, prefix: str, *args: Any) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(load_hook_based_keys)  # old weight_g/weight_v checkpoints
    return module


class _SpectralNorm(Module):
    """``W / sigma(W)``, with the largest singular value ``sigma`` estimated by power iteration.

    The weight is seen as a matrix ``(size of dim, product of the other sizes)``. Buffers ``_u``
    ``(h,)`` and ``_v`` ``(w,)`` hold the singular-vector estimates; in training mode each forward
    runs ``n_power_iterations`` steps ``u = normalize(W v)``, ``v = normalize(W^H u)`` on them
    (outside the graph), then ``sigma = u^H (W v)`` is differentiated through ``W`` only. A 1-D
    weight is just divided by its norm. The conjugates matter for a complex weight: with ``W^T`` and
    ``u^T`` sigma comes out complex and is not the largest singular value (PyTorch's ``.H``/``vdot``;
    the hook-based ``nn.utils.spectral_norm`` keeps PyTorch's ``t()``/``dot``).
    """

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < ndim:
            raise IndexError(
                f"spectral_norm: expected dim in [{-ndim}, {ndim - 1}] for a weight of shape "
                f"{tuple(weight.shape)}, got {dim}"
            )
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: expected n_power_iterations > 0, got {n_power_iterations}")
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            with no_grad():
                u = weight_mat.new_empty(h).normal_(0, 1)
                v = weight_mat.new_empty(w).normal_(0, 1)
                self.register_buffer("_u", normalize(u, dim=0, eps=self.eps))
                self.register_buffer("_v", normalize(v, dim=0, eps=self.eps))
            # start near the top singular vectors, so the first forwards already see a good sigma
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)  # (..., h, ...) -> (h, ...)
        return weight.flatten(1)  # (h, ...) -> (h, w)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():  # u and v are estimates kept in place, never differentiated
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(weight_mat.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(normalize(weight_mat.mH.mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        """Shape: weight ``(*)``; returns ``(*)``."""
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # clones: a later in-place update of the buffers must not touch this graph
        u, v = self._u.clone(), self._v.clone()
        sigma = u.vdot(weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value  # any W / sigma(W) is a fine preimage: we store W itself


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Parametrize ``module.<name>`` as ``W / sigma(W)`` (``torch.nn.utils.parametrizations.spectral_norm``).

    ``sigma`` is the largest singular value of the weight as a matrix ``(size of dim, rest)``;
    ``dim`` defaults to 1 for transposed convolutions (their output channels) and 0 otherwise.
    State-dict keys: ``parametrizations.<name>.original``, ``parametrizations.<name>.0._u`` ``(h,)``
    and ``parametrizations.<name>.0._v`` ``(w,)``. Returns ``module``.

    >>> import glassgrad.nn as nn
    >>> m = spectral_norm(nn.Linear(20, 40))
    >>> [(k, tuple(v.shape)) for k, v in m.state_dict().items()][2:]
    [('parametrizations.weight.0._u', (40,)), ('parametrizations.weight.0._v', (20,))]
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(
            f"spectral_norm: expected a parameter or buffer named '{name}' in {type(module).__name__}, got "
            f"{'none' if weight is None else type(weight).__name__}"
        )
    if dim is None:
        dim = output_dim(module)
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
