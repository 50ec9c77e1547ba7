"""Helpers shared by the continuous families (Exponential, Gamma, Beta, ...): ``expand``, the checks
of parameters that are properties, and the gamma draws behind Gamma, Chi2, Beta and StudentT."""

from __future__ import annotations

from typing import Any

import numpy as np

import glassgrad as gg
from glassgrad.distributions.distribution import Distribution
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = ["expand_params", "check_properties", "standard_gamma", "refuse_concentration_grad", "tiny"]


def expand_params(self: Distribution, cls: type, batch_shape: Any, names: tuple, _instance: Any) -> Any:
    """A copy of ``self`` whose parameters ``names`` are views broadcast to ``batch_shape`` (no checks)."""
    shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
    new = _instance if _instance is not None else cls.__new__(cls)
    for name in names:
        setattr(new, name, getattr(self, name).expand(shape))
    Distribution.__init__(new, shape, tuple(self.event_shape), validate_args=False)
    new._validate_args = self._validate_args
    return new


def check_properties(self: Distribution, names: tuple) -> None:
    """Check parameters that are computed properties (the base checks only stored ones), as PyTorch
    checks every entry of ``arg_constraints``."""
    if not self._validate_args:
        return
    for name in names:
        value, constraint = getattr(self, name), self.arg_constraints[name]
        if not np.all(constraint.check(value)):
            raise ValueError(
                f"{type(self).__name__}: expected parameter {name} ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to satisfy the constraint {constraint!r}, but found invalid "
                f"values:\n{value}"
            )


def tiny(t: Tensor) -> float:
    """The dtype's smallest normal number (the floor PyTorch puts under gamma draws)."""
    return float(np.finfo(t._data.dtype).tiny)


def standard_gamma(concentration: Tensor, shape: tuple) -> Tensor:
    """Gamma(α, 1) draws of ``shape`` (α broadcast to it), from the global generator; no graph."""
    alpha = np.broadcast_to(concentration.detach().numpy(), tuple(shape))
    draws = get_generator().standard_gamma(alpha).astype(alpha.dtype, copy=False)
    return gg.tensor(np.maximum(draws, np.finfo(alpha.dtype).tiny))


def refuse_concentration_grad(op: str, *params: Tensor) -> None:
    """Raise where a gradient would have to flow through gamma draws' shape parameter.

    PyTorch differentiates a gamma draw with respect to its concentration implicitly (through the
    CDF, with its own numerical approximation); glassgrad has no such gradient, and refuses rather
    than return a wrong one.
    """
    if gg.is_grad_enabled() and any(p.requires_grad for p in params):
        raise NotImplementedError(
            f"{op}: the gradient of gamma draws with respect to their concentration (implicit "
            f"reparameterisation) is not implemented; detach that parameter or use sample()"
        )
