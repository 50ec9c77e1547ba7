"""Helpers the optimizer families share: option checks, weight decay and state tensors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from glassgrad.autograd.grad_mode import enable_grad
from glassgrad.optim.optimizer_internals import _get_capturable_supported_devices
from glassgrad.optim.scalars import lr_of
from glassgrad.tensor import Tensor

__all__ = [
    "differentiable_step",
    "differentiable_grads",
    "capturable_error",
    "number_lr",
    "check_betas",
    "betas_of",
    "apply_weight_decay",
    "state_like",
]


def capturable_error() -> AssertionError:
    """PyTorch's refusal of ``capturable=True`` at a step's first parameter with a gradient (its
    ``_single_tensor_*`` device check: CUDA-graph capture, and there is no device but the CPU here)."""
    return AssertionError(  # PyTorch's class and words
        f"If capturable=True, params and state_steps must be on supported devices: {_get_capturable_supported_devices()}."
    )


def differentiable_step(opt: Any) -> None:
    """``step()`` of ``differentiable=True``: ``opt._differentiable_step(group)`` for each group with
    grad mode on, as PyTorch's ``_use_grad_for_differentiable`` sets it whatever the caller's (a
    step under ``no_grad`` is recorded too)."""
    with enable_grad():
        for group in opt.param_groups:
            opt._differentiable_step(group)


def differentiable_grads(
    name: str, group: dict, *, complex_ok: bool = False, foreach_ok: bool = False
) -> Iterator[tuple[Tensor, Tensor]]:
    """``(p, g)`` for each parameter of ``group`` with a ``.grad``, as PyTorch's ``_single_tensor_*``
    steps begin under ``differentiable=True``: g is ``−p.grad`` with ``maximize``, then ``g + λ p``
    (a recorded Tensor op), or ``p`` is first scaled in place by ``1 − γ λ`` with
    ``decoupled_weight_decay`` (λ the group's ``weight_decay``, if it has one; a one-element tensor
    that requires grad is recorded too, as PyTorch's ``addcmul`` with it). Complex parameters
    are refused unless ``complex_ok`` (steps linear in p and g are right for them as written), and so
    is ``foreach=True`` unless ``foreach_ok``, with PyTorch's AssertionError from its list kernels."""
    wd = group.get("weight_decay", 0)
    if isinstance(wd, Tensor) and not wd.requires_grad:
        wd = float(wd)  # a constant: PyTorch's alpha= takes its value
    for p in group["params"]:
        if p.grad is None:
            continue
        if group.get("capturable"):
            raise capturable_error()
        if group.get("foreach") and not foreach_ok:
            raise AssertionError("_foreach ops don't support autograd")  # PyTorch's class and words
        if not complex_ok and p.is_complex():
            raise NotImplementedError(f"{name}: differentiable=True with complex parameters")
        g = -p.grad if group["maximize"] else p.grad
        if wd != 0:
            if group.get("decoupled_weight_decay"):
                p.mul_(1 - group["lr"] * wd)
            elif isinstance(wd, Tensor):  # learned: g + λ θ with a path to λ (and to θ, as PyTorch's)
                g = g.addcmul(p.clone(), wd)
            else:
                g = g.add(p, alpha=wd)
        yield p, g


def number_lr(lr: Any, op: str, arg: str) -> Any:
    """``lr`` for a differentiable step that passes it to ``op`` as its Number argument ``arg`` (quoted
    as PyTorch's message names it), as
    PyTorch's Adagrad, Adadelta, Adamax and Rprop do: a tensor lr that requires grad is refused with
    PyTorch's TypeError there (its argument parser takes a 0-d tensor for a Number only without grad)."""
    if isinstance(lr, Tensor) and lr.requires_grad:
        raise TypeError(f"{op}(): argument {arg} must be Number, not Tensor")
    return lr_of(lr)


def check_betas(name: str, betas: Any) -> None:
    """Raise unless ``betas`` is a pair ``(β₁, β₂)`` of numbers in [0, 1)."""
    if not isinstance(betas, tuple | list) or len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"{name}: expected betas (b1, b2) with 0 <= b < 1, got {betas!r}")


def betas_of(group: dict) -> tuple[float, float]:
    """A group's ``(β₁, β₂)`` as numbers: PyTorch also takes one-element tensors there (kept in the
    group as given), which the NumPy updates would otherwise mix in as tensors."""
    return tuple(float(b) for b in group["betas"])  # type: ignore[return-value]


def apply_weight_decay(p: Tensor, g: Any, lr: float, wd: float, decoupled: bool = False) -> Any:
    """Weight decay λ = ``wd`` on ``p``: ``θ ← θ (1 − γ λ)`` in place if ``decoupled``, else the new
    gradient ``g + λ θ`` (a new array: the given one may be shared); see ``real_views.decay_array``."""
    from glassgrad.optim.real_views import decay_array

    return decay_array(p._data, g, lr, wd, decoupled)


def state_like(p: Tensor, arr: Any) -> Tensor:
    """A state tensor over ``arr`` (shaped like ``p``) laid out as ``p``: a plain Tensor, or for a
    DTensor parameter a DTensor with its mesh and placements, as PyTorch's ``zeros_like(p)`` is."""
    make = getattr(type(p), "_state_like", None)
    return make(p, arr) if make is not None else Tensor(arr, _wrap=True)
