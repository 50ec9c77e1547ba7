"""Pruning (``torch.nn.utils.prune``): zero a share of a module's weights through a mask, locally
(per tensor) or globally (across tensors), at random or by magnitude, entry by entry or whole
channels at a time.

``prune.l1_unstructured(module, "weight", amount=0.3)`` keeps the trained values in the Parameter
``weight_orig``, the 0/1 mask in the buffer ``weight_mask``, and recomputes
``module.weight = weight_mask * weight_orig`` before every forward (a forward pre-hook), so the
pruned entries stay zero while training and get gradient 0. ``prune.remove(module, "weight")``
makes it permanent: ``weight`` becomes a Parameter again holding the pruned values. The machinery
is in ``prune_base.py``, the methods in ``prune_methods.py``.

>>> import glassgrad as gg
>>> import glassgrad.nn as nn
>>> m = nn.Linear(4, 2)
>>> with gg.no_grad():
...     _ = m.weight.copy_(gg.tensor([[4.0, 1.0, -3.0, 0.5], [2.0, 6.0, 0.25, -5.0]]))
>>> _ = l1_unstructured(m, "weight", amount=0.5)
>>> m.weight.tolist()
[[4.0, 0.0, -3.0, 0.0], [0.0, 6.0, 0.0, -5.0]]
>>> sorted(m.state_dict())
['bias', 'weight_mask', 'weight_orig']
>>> _ = remove(m, "weight")
>>> sorted(m.state_dict()), is_pruned(m)
(['bias', 'weight'], False)
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from glassgrad.backend import array_module
from glassgrad.nn.module import Module
from glassgrad.nn.utils.prune_base import BasePruningMethod, PruningContainer, validate_amount_init
from glassgrad.nn.utils.prune_methods import (
    CustomFromMask,
    Identity,
    L1Unstructured,
    LnStructured,
    RandomStructured,
    RandomUnstructured,
)
from glassgrad.tensor import Tensor

__all__ = [
    "BasePruningMethod",
    "PruningContainer",
    "Identity",
    "RandomUnstructured",
    "L1Unstructured",
    "RandomStructured",
    "LnStructured",
    "CustomFromMask",
    "identity",
    "random_unstructured",
    "l1_unstructured",
    "random_structured",
    "ln_structured",
    "global_unstructured",
    "custom_from_mask",
    "remove",
    "is_pruned",
]


# The classes live in prune_base.py / prune_methods.py; they print and pickle under this module,
# PyTorch's place for them (`<torch.nn.utils.prune.L1Unstructured object at ...>`).
for _cls in (BasePruningMethod, PruningContainer, Identity, RandomUnstructured, L1Unstructured):
    _cls.__module__ = __name__
for _cls in (RandomStructured, LnStructured, CustomFromMask):
    _cls.__module__ = __name__


def identity(module: Module, name: str) -> Module:
    """Reparametrize ``module.<name>`` as ``<name>_mask * <name>_orig`` with a mask of ones."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount: float | int) -> Module:
    """Zero ``amount`` entries of ``module.<name>`` chosen at random (a fraction or a count)."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(
    module: Module, name: str, amount: float | int, importance_scores: Tensor | None = None
) -> Module:
    """Zero the ``amount`` entries of ``module.<name>`` of least ``|importance_scores|`` (the
    weights themselves by default)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount: float | int, dim: int) -> Module:
    """Zero ``amount`` slices of ``module.<name>`` along ``dim``, chosen at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(
    module: Module,
    name: str,
    amount: float | int,
    n: float | int | str,
    dim: int,
    importance_scores: Tensor | None = None,
) -> Module:
    """Zero the ``amount`` slices of ``module.<name>`` along ``dim`` of least ``n``-norm (``dim=0``
    of a Conv2d weight ``(C_out, C_in, kH, kW)``: whole output channels)."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    """Zero ``module.<name>`` where ``mask`` (of its shape) is 0."""
    CustomFromMask.apply(module, name, mask=mask)
    return module


def global_unstructured(
    parameters: Iterable[tuple[Module, str]],
    pruning_method: type[BasePruningMethod],
    importance_scores: dict[tuple[Module, str], Tensor] | None = None,
    **kwargs: Any,
) -> None:
    """Prune several tensors as one: ``pruning_method(**kwargs)`` (an ``"unstructured"`` method,
    e.g. ``L1Unstructured`` with ``amount=0.2``) ranks all their entries together, so each tensor
    loses a different share. ``importance_scores`` maps ``(module, name)`` to scores of that
    tensor's shape (the tensor itself where absent).

    Shape:
        every listed tensor is flattened and the pieces concatenated, ``(sum of numel,)``.
    """
    if not isinstance(parameters, Iterable):
        raise TypeError(
            f"global_unstructured: expected an iterable of (module, name), got {type(parameters).__name__}"
        )
    params = [(m, name) for m, name in parameters]  # tuples: the keys of importance_scores
    importance_scores = {} if importance_scores is None else importance_scores
    if not isinstance(importance_scores, dict):
        raise TypeError(
            f"global_unstructured: expected importance_scores to be a dict, got {type(importance_scores).__name__}"
        )
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(
            f"global_unstructured: expected an 'unstructured' pruning method, got {type(method).__name__} "
            f"of type {method.PRUNING_TYPE!r}"
        )
    tensors = [getattr(m, name) for m, name in params]
    if not tensors:
        return
    xp = array_module(tensors[0]._data)
    scores = xp.concatenate(
        [importance_scores.get(key, t)._data.reshape(-1) for key, t in zip(params, tensors)]
    )
    default = xp.concatenate(
        [
            getattr(m, name + "_mask")._data.reshape(-1)
            if hasattr(m, name + "_mask")
            else xp.ones(t.numel(), t._data.dtype)
            for (m, name), t in zip(params, tensors)
        ]
    )  # (sum of numel,)
    method._tensor_name = "temp"
    container = PruningContainer(method)
    final = container.compute_mask(Tensor(scores, _wrap=True), Tensor(default, _wrap=True))._data
    pointer = 0
    for (m, name), t in zip(params, tensors):
        piece = final[pointer : pointer + t.numel()].reshape(t.shape)  # (numel,) -> t.shape
        custom_from_mask(m, name, mask=Tensor(piece, _wrap=True))
        pointer += t.numel()


def remove(module: Module, name: str) -> Module:
    """Make the pruning of ``module.<name>`` permanent: ``<name>`` is a Parameter again holding the
    pruned values, and ``<name>_orig``, ``<name>_mask`` and the hook are gone."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"remove: expected {name!r} of {module} to be pruned, but it is not")


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or any of its submodules carries a pruning hook."""
    return any(
        isinstance(hook, BasePruningMethod)
        for _, sub in module.named_modules()
        for hook in sub._forward_pre_hooks.values()
    )


# PyTorch's private helpers under its names: a custom pruning method (a BasePruningMethod
# subclass, as in PyTorch's pruning tutorial) validates its amount and counts units with them.
def _validate_pruning_amount_init(amount: Any) -> None:
    """Refuse an amount that is neither a fraction in [0, 1] (float) nor a count >= 0 (int)."""
    validate_amount_init(amount)


def _validate_pruning_amount(amount: float | int, tensor_size: int) -> None:
    """Refuse a count (int) larger than the ``tensor_size`` units there are; a fraction passes."""
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(
            f"amount={amount} should be smaller than the number of parameters to prune={tensor_size}"
        )


def _compute_nparams_toprune(amount: float | int, tensor_size: int) -> int:
    """The number of units ``amount`` names: a count as it is, a fraction of ``tensor_size``
    rounded half to even (Python's ``round``, as PyTorch's)."""
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return round(amount * tensor_size)
