"""``RAdam``: Adam whose adaptive step is switched on only once its variance estimate is reliable."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from operator import mul
from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.ops.half_precision import HALF, axpy_half, by_number
from glassgrad.optim.adam import update_moments
from glassgrad.optim.half_steps import half_step_ok, radam_half
from glassgrad.optim.optimizer import (
    Optimizer,
    betas_of,
    check_betas,
)
from glassgrad.optim.optimizer_helpers import differentiable_grads, differentiable_step
from glassgrad.optim.optimizer_internals import _to_scalar
from glassgrad.optim.real_views import decay_array, real_view
from glassgrad.optim.scalars import bump_step, lr_of

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""Rectified Adam (Liu et al., 2020), as ``torch.optim.RAdam``.

    For each parameter θ with gradient g, one ``step()`` does (m, v start at zero)::

        t ← t + 1
        g ← −g                                     if maximize
        if λ ≠ 0:                                  (λ = weight_decay)
            θ ← θ (1 − γ λ)                        if decoupled_weight_decay
            g ← g + λ θ                            otherwise
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        m̂ ← m / (1 − β₁ᵗ)
        ρ∞ ← 2 / (1 − β₂) − 1
        ρₜ ← ρ∞ − 2 t β₂ᵗ / (1 − β₂ᵗ)             length of the SMA that v approximates
        if ρₜ > 5:
            r ← √((ρₜ − 4)(ρₜ − 2) ρ∞ / ((ρ∞ − 4)(ρ∞ − 2) ρₜ))     variance rectification
            θ ← θ − γ m̂ r √(1 − β₂ᵗ) / (√v + ε)
        else:
            θ ← θ − γ m̂                            plain momentum SGD while v is unreliable

    In the first steps v averages too few gradients for 1/√v to have a bounded variance, so
    RAdam takes momentum steps instead (with β₂ = 0.999 that is the first 5 steps), then
    switches to Adam's step scaled by r ∈ (0, 1), which tends to 1. It replaces a warm-up
    schedule. State: ``step`` (a float), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: learning rate γ.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε, added to the denominator.
        weight_decay: λ.
        decoupled_weight_decay: decay the weights directly (as AdamW) instead of adding λθ to g.
        foreach, capturable: accepted for PyTorch compatibility; ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: record the update with autograd (Tensor ops, grad mode on), so a step of
            non-leaf (real) parameters can be differentiated through, as PyTorch's.

    Shape:
        Each gradient has its parameter's shape; state tensors do too.
    """

    _param_shaped_state = ("exp_avg", "exp_avg_sq")
    complex_params = True  # stepped through real views, as PyTorch's view_as_real

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "eps", "weight_decay")
        check_betas("RAdam", group["betas"])

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        if self.defaults["differentiable"]:
            differentiable_step(self)
            return loss
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = (
                lr_of(group["lr"]),
                betas_of(group),
                group["eps"],
                group["weight_decay"],
            )
            rho_inf = 2 / (1 - beta2) - 1
            for p, g in self._grads(group):
                xp = array_module(p._data)
                state = self._state_of(p, "exp_avg", "exp_avg_sq")
                t = bump_step(state)
                if group["maximize"]:
                    g = -g
                # a complex θ steps as its view_as_real pair (PyTorch's): moments per part
                theta, g = real_view(p._data), real_view(g)
                m, v = real_view(state["exp_avg"]._data), real_view(state["exp_avg_sq"]._data)
                # float16: PyTorch's single-tensor ops, each rounded once (half_steps.py)
                if theta.dtype is HALF and half_step_ok(group, theta, g, m, v):
                    if wd and group["decoupled_weight_decay"]:
                        theta[...] = by_number(mul, theta, 1 - float(lr) * wd)
                    g = axpy_half(g, theta, wd) if wd and not group["decoupled_weight_decay"] else g
                    radam_half(theta, g, m, v, beta1, beta2, eps, float(lr), t)
                    continue
                g = decay_array(theta, g, lr, wd, group["decoupled_weight_decay"])
                # m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²
                update_moments(m, v, g, beta1, beta2)
                bc2 = 1 - beta2**t
                m_hat = m / (1 - beta1**t)
                rho_t = rho_inf - 2 * t * beta2**t / bc2
                if rho_t > 5.0:
                    r = math.sqrt(
                        (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                    )
                    theta -= m_hat * float(lr) * (math.sqrt(bc2) / (xp.sqrt(v) + eps)) * r
                else:
                    theta -= m_hat * float(lr)
        return loss

    def _differentiable_step(self, group: dict[str, Any]) -> None:
        """``step()`` of ``differentiable=True``, as PyTorch's ``_single_tensor_radam`` there: Tensor
        ops with grad mode on, the rectified step's factors multiplied in its order."""
        lr, (beta1, beta2), eps = _to_scalar(group["lr"]), betas_of(group), group["eps"]
        rho_inf = 2 / (1 - beta2) - 1
        for p, g in differentiable_grads("RAdam", group):
            state = self._state_of(p, "exp_avg", "exp_avg_sq")
            t = bump_step(state)
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.lerp_(g, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            bc2 = 1 - beta2**t
            update = exp_avg / (1 - beta1**t) * lr
            rho_t = rho_inf - 2 * t * (beta2**t) / bc2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                update = update * ((bc2**0.5) / exp_avg_sq.sqrt().add(eps)) * rect
            p.add_(update, alpha=-1.0)
