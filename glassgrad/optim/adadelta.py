"""``Adadelta``: step sizes from the ratio of running RMS of past updates to running RMS of gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.ops.half_precision import HALF, axpy_half
from glassgrad.optim.half_steps import adadelta_half, half_step_ok
from glassgrad.optim.optimizer import Optimizer
from glassgrad.optim.optimizer_helpers import differentiable_grads, differentiable_step, number_lr
from glassgrad.optim.real_views import decay_array, real_view
from glassgrad.optim.scalars import bump_step

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    For each parameter θ with gradient g, one ``step()`` does (v and u start at zero)::

        g ← −g                                  if maximize
        g ← g + λ θ                             if λ ≠ 0          (λ = weight_decay)
        v ← ρ v + (1 − ρ) g²                    running mean of g²
        Δ ← √(u + ε) / √(v + ε) · g             the update, in the units of θ
        u ← ρ u + (1 − ρ) Δ²                    running mean of Δ²
        θ ← θ − γ Δ

    The ratio √(u + ε) / √(v + ε) is a per-coordinate step size that needs no tuning: it carries
    the units of θ (Zeiler's motivation), so γ = 1 (the default) is the paper's method and other
    values scale it. State: ``step`` (a float), ``square_avg`` (v), ``acc_delta`` (u).

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: γ, a factor on the update.
        rho: ρ, the decay rate of both running means, in [0, 1].
        eps: ε, inside both square roots; it also sets the size of the first steps.
        weight_decay: λ, the L2 penalty coefficient.
        foreach, capturable: accepted for PyTorch compatibility; ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: record the update with autograd (Tensor ops, grad mode on), so a step of
            non-leaf (real) parameters can be differentiated through, as PyTorch's.

    Shape:
        Each gradient has its parameter's shape; state tensors do too.
    """

    _param_shaped_state = ("square_avg", "acc_delta")
    complex_params = True  # stepped through real views, as PyTorch's view_as_real

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
            foreach=foreach,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "eps", "weight_decay")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Adadelta: expected 0 <= rho <= 1, got {group['rho']!r}")

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        if self.defaults["differentiable"]:
            differentiable_step(self)
            return loss
        for group in self.param_groups:
            lr, rho, eps, wd = float(group["lr"]), group["rho"], group["eps"], group["weight_decay"]
            for p, g in self._grads(group):
                xp = array_module(p._data)
                state = self._state_of(p, "square_avg", "acc_delta")
                bump_step(state)
                if group["maximize"]:
                    g = -g
                # a complex θ steps as its view_as_real pair (PyTorch's): moments per part
                theta, g = real_view(p._data), real_view(g)
                v, u = real_view(state["square_avg"]._data), real_view(state["acc_delta"]._data)
                # float16: PyTorch's single-tensor ops, each rounded once (half_steps.py)
                if theta.dtype is HALF and half_step_ok(group, theta, g, v, u):
                    adadelta_half(theta, axpy_half(g, theta, wd) if wd else g, v, u, rho, eps, lr)
                    continue
                g = decay_array(theta, g, lr, wd, False)  # g ← g + λ θ
                v *= rho
                v += (1 - rho) * g * g
                delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
                u *= rho
                u += (1 - rho) * delta * delta
                theta -= lr * delta
        return loss

    def _differentiable_step(self, group: dict[str, Any]) -> None:
        """``step()`` of ``differentiable=True``, as PyTorch's ``_single_tensor_adadelta`` there: Tensor
        ops with grad mode on (the update Δ a clone of √(u + ε), so ``acc_delta`` is not saved)."""
        lr, rho, eps = float(number_lr(group["lr"], "add_", "'alpha'")), group["rho"], group["eps"]
        for p, g in differentiable_grads("Adadelta", group):
            state = self._state_of(p, "square_avg", "acc_delta")
            bump_step(state)
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            square_avg.mul_(rho).addcmul_(g, g, value=1 - rho)
            std = square_avg.add(eps).sqrt_()
            delta = acc_delta.add(eps).sqrt_().clone()
            delta.div_(std).mul_(g)
            acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
            p.add_(delta, alpha=-lr)
