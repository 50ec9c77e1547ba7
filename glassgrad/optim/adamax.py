"""``Adamax``: Adam with the second moment replaced by a decaying infinity norm."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.ops.extremes import amax
from glassgrad.ops.half_precision import HALF, axpy_half
from glassgrad.ops.joining import cat
from glassgrad.optim.adam import lerp_
from glassgrad.optim.half_steps import adamax_half, half_step_ok
from glassgrad.optim.optimizer import (
    Optimizer,
    betas_of,
    check_betas,
)
from glassgrad.optim.optimizer_helpers import differentiable_grads, differentiable_step, number_lr
from glassgrad.optim.real_views import decay_array, real_view
from glassgrad.optim.scalars import bump_step, lr_of

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7.1), as ``torch.optim.Adamax``.

    For each parameter θ with gradient g, one ``step()`` does (m and u start at zero)::

        t ← t + 1
        g ← −g                                  if maximize
        g ← g + λ θ                             if λ ≠ 0          (λ = weight_decay)
        m ← β₁ m + (1 − β₁) g                   first moment, as in Adam
        u ← max(β₂ u, |g| + ε)                  a decaying max of |g|: the L∞ norm's running form
        θ ← θ − γ / (1 − β₁ᵗ) · m / u

    u needs no bias correction: a max is not pulled toward its zero start the way a mean is.
    (ε sits inside the max, as in PyTorch, so u ≥ ε and the division is safe.)
    State: ``step`` (a float), ``exp_avg`` (m), ``exp_inf`` (u).

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: learning rate γ.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε, the floor of u.
        weight_decay: λ, the L2 penalty coefficient.
        foreach, capturable: accepted for PyTorch compatibility; ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: record the update with autograd (Tensor ops, grad mode on), so a step of
            non-leaf (real) parameters can be differentiated through, as PyTorch's.

    Shape:
        Each gradient has its parameter's shape; state tensors do too.
    """

    _param_shaped_state = ("exp_avg", "exp_inf")
    complex_params = True  # stepped through real views, as PyTorch's view_as_real

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "eps", "weight_decay")
        check_betas("Adamax", group["betas"])

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
            for p, g in self._grads(group):
                xp = array_module(p._data)
                state = self._state_of(p, "exp_avg", "exp_inf")
                t = bump_step(state)
                if group["maximize"]:
                    g = -g
                # a complex θ steps as its view_as_real pair (PyTorch's): moments per part
                theta, g = real_view(p._data), real_view(g)
                m, u = real_view(state["exp_avg"]._data), real_view(state["exp_inf"]._data)
                # float16: PyTorch's single-tensor ops, each rounded once (half_steps.py)
                if theta.dtype is HALF and half_step_ok(group, theta, g, m, u):
                    g = axpy_half(g, theta, wd) if wd else g
                    adamax_half(theta, g, m, u, beta1, beta2, eps, float(lr / (1 - beta1**t)))
                    continue
                g = decay_array(theta, g, lr, wd, False)  # g ← g + λ θ
                lerp_(m, g, 1 - beta1, xp.empty_like(m))  # m ← β₁ m + (1 − β₁) g, as PyTorch's lerp
                u *= beta2
                xp.maximum(u, xp.abs(g) + eps, out=u)
                theta -= float(lr / (1 - beta1**t)) * (m / u)
        return loss

    def _differentiable_step(self, group: dict[str, Any]) -> None:
        """``step()`` of ``differentiable=True``, as PyTorch's ``_single_tensor_adamax`` there: Tensor
        ops with grad mode on, u the ``amax`` of the stacked β₂ u and |g| + ε (a tie splits its
        gradient evenly, as there)."""
        lr, (beta1, beta2), eps = number_lr(group["lr"], "addcdiv_", "'value'"), betas_of(group), group["eps"]
        for p, g in differentiable_grads("Adamax", group):
            state = self._state_of(p, "exp_avg", "exp_inf")
            t = bump_step(state)
            exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
            exp_avg.lerp_(g, 1 - beta1)
            norm_buf = cat([exp_inf.mul_(beta2).unsqueeze(0), g.abs().add_(eps).unsqueeze_(0)], 0)
            exp_inf.copy_(amax(norm_buf, 0, keepdim=False))
            p.addcdiv_(exp_avg, exp_inf, value=-float(lr / (1 - beta1**t)))
