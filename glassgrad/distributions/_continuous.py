"""Helpers shared by the continuous families (Exponential, Gamma, Beta, ...): ``expand``, the checks
of parameters that are properties, and the gamma draws behind Gamma, Chi2, Beta and StudentT."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.distributions.constraints import _t
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["expand_params", "expand_attributes", "check_properties", "standard_gamma", "tiny"]


def expand_params(self: Distribution, cls: type, batch_shape: Any, names: tuple, _instance: Any) -> Any:
    """A copy of ``self`` whose parameters ``names`` are views broadcast to ``batch_shape`` (no checks)."""
    shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
    new = self._get_checked_instance(cls, _instance)
    for name in names:
        setattr(new, name, getattr(self, name).expand(shape))
    Distribution.__init__(new, shape, tuple(self.event_shape), validate_args=False)
    new._validate_args = self._validate_args
    return new


def expand_attributes(
    self: Distribution, batch_shape: Any, _instance: Any = None, keep: tuple = (), cls: type | None = None
) -> Any:
    """A copy of ``self`` with every tensor attribute whose shape starts with the batch shape broadcast
    to ``batch_shape`` (its trailing, event or parameter, dims kept) and every distribution attribute
    expanded alike; the attributes in ``keep`` are shared as they are. For distributions whose
    parameters are stored in several forms (probs and logits, a matrix and its factor). ``cls``: the
    family whose ``expand`` this is (a subclass of it with its own ``__init__`` must expand itself)."""
    shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
    new = self._get_checked_instance(cls or type(self), _instance)
    old = tuple(self.batch_shape)
    for name, value in self.__dict__.items():
        if name not in keep and isinstance(value, Tensor) and tuple(value.shape[: len(old)]) == old:
            value = value.expand(*shape, *value.shape[len(old) :])
        elif name not in keep and isinstance(value, Distribution):
            value = value.expand(shape)
        new.__dict__[name] = value
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
        if not _t(constraint.check(value)).all():
            raise ValueError(
                f"{type(self).__name__}: expected parameter {name} ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to satisfy the constraint {constraint!r}, but found invalid "
                f"values:\n{value}"
            )


def tiny(t: Tensor) -> float:
    """The dtype's smallest normal number (the floor PyTorch puts under gamma draws)."""
    return float(np.finfo(t._data.dtype).tiny)


def standard_gamma(concentration: Tensor, shape: tuple) -> Tensor:
    """Gamma(α, 1) draws of ``shape`` (α broadcast to it), from the global generator; differentiable
    in α where it requires grad (implicit reparameterisation, ``ops/gamma_reparam.py``)."""
    from glassgrad.ops.gamma_reparam import sample_standard_gamma

    shape = tuple(shape)
    alpha = concentration if tuple(concentration.shape) == shape else concentration.expand(shape)
    return sample_standard_gamma(alpha)
