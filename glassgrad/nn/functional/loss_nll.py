"""The likelihood losses, ``poisson_nll_loss`` and ``gaussian_nll_loss``: PyTorch's formulas, as
composites broadcasting input and target as PyTorch does."""

from __future__ import annotations

import math

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.nn.functional.loss import as_target, check_reduction, legacy_reduction
from glassgrad.nn.functional.loss import reduce as _reduce
from glassgrad.nn.functional.loss_more import _broadcast
from glassgrad.ops import elementwise as _E
from glassgrad.tensor import Tensor

__all__ = ["poisson_nll_loss", "gaussian_nll_loss"]

_LOG_2PI = math.log(2 * math.pi)


def poisson_nll_loss(
    input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,  # noqa: A002
    size_average: bool | None = None, eps: float = 1e-8, reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """Poisson negative log-likelihood: exp(x) - y x (``log_input``) or x - y log(x + eps).

    ``full`` adds Stirling's y log y - y + log(2 pi y) / 2, only where y > 1 (0 elsewhere; a
    target's gradient is nan at y <= 0, as PyTorch's).

    Shape:
        input, target: broadcastable (*); returns () or the broadcast shape for 'none'.
    """
    op = "poisson_nll_loss"
    reduction = check_reduction(op, legacy_reduction(op, size_average, reduce, reduction), legacy=False)
    target = as_target(op, input, target, same_shape=False)
    _broadcast(op, input=input, target=target, first="target")
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        # of the target itself, as PyTorch's masked_fill(target <= 1, 0): the value is 0 there, but
        # a target that requires grad gets 0 * log(0) = nan at 0 (nan below), as there
        stirling = target * target.log() - target + 0.5 * (target * (2 * math.pi)).log()
        loss = loss + _E.where(target._data > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def _var_shape(op: str, input: Tensor, var: Tensor) -> Tensor:  # noqa: A002
    """PyTorch's rules: var of the input's shape, or of it without the last dim (unsqueezed), or
    of the input's ndim with exactly one size-1 dim where the input's differs."""
    if var.shape == input.shape:
        return var
    if var.shape == input.shape[:-1] and input.ndim > 0:
        return var.unsqueeze(-1)
    if var.ndim == input.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1:
        return var
    want = f"{input.shape}, {input.shape[:-1]} or one dim 1"
    # with PyTorch's words, which programs and tests match on
    raise ShapeError(f"{op}: expected var of shape {want}, got {var.shape} (var is of incorrect size)")


def gaussian_nll_loss(
    input: Tensor, target: Tensor, var: Tensor | float, full: bool = False, eps: float = 1e-6,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """Gaussian negative log-likelihood: (log(max(var, eps)) + (x - y)^2 / max(var, eps)) / 2.

    The ``eps`` floor is applied outside the graph, as PyTorch's in-place ``clamp_`` under
    ``no_grad``: the gradient reaches ``var`` as if it were unfloored. ``full`` adds log(2 pi) / 2.

    Shape:
        input: (*); target: broadcastable; var: a float, (*), (*) without the last dim, or (*) with
        one dim of size 1; returns () or (*) for 'none'.
    """
    op = "gaussian_nll_loss"
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: expected var >= 0, got {var} (var has negative entry/entries)")
        var = Tensor(array_module(input._data).full(input.shape, var, dtype=input._data.dtype), _wrap=True)
    elif not isinstance(var, Tensor):
        raise DTypeError(f"{op}: expected var to be a Tensor or a float, got {type(var).__name__}")
    elif var._data.size and (var._data < 0).any():
        raise ValueError(
            f"{op}: expected var >= 0 everywhere, got a negative entry ({var._data.min()}) "
            "(var has negative entry/entries)"
        )
    var = _var_shape(op, input, as_target(op, input, var, same_shape=False))
    reduction = check_reduction(op, reduction, legacy=False)
    target = as_target(op, input, target, same_shape=False)
    _broadcast(op, input=input, target=target, var=var)
    # value max(var, eps), gradient straight through (not clip(var) - var: inf - inf at var = inf)
    floor = eps._data if isinstance(eps, Tensor) else eps  # PyTorch's clamp_(min=eps) takes a tensor too
    var = var + Tensor((floor - var._data).clip(min=0), _wrap=True)
    diff = input - target
    loss = 0.5 * (var.log() + diff * diff / var)
    if full:
        loss = loss + 0.5 * _LOG_2PI
    return _reduce(loss, reduction)
