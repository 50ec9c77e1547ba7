"""``NAdam``: Adam with Nesterov momentum, and Dozat's schedule on the momentum coefficient."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.optim.adam import update_moments
from glassgrad.optim.optimizer import (
    Optimizer,
    betas_of,
    check_betas,
)
from glassgrad.optim.optimizer_helpers import differentiable_grads, differentiable_step
from glassgrad.optim.optimizer_internals import _to_scalar
from glassgrad.optim.real_views import decay_array, real_view
from glassgrad.optim.scalars import bump_step, lr_of

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016), as ``torch.optim.NAdam``.

    For each parameter θ with gradient g, one ``step()`` does (m, v start at zero, Π at one)::

        t ← t + 1
        g ← −g                                     if maximize
        if λ ≠ 0:                                  (λ = weight_decay)
            θ ← θ (1 − γ λ)                        if decoupled_weight_decay
            g ← g + λ θ                            otherwise
        μₜ   ← β₁ (1 − ½ · 0.96^(t ψ))             the momentum schedule  (ψ = momentum_decay)
        μₜ₊₁ ← β₁ (1 − ½ · 0.96^((t+1) ψ))
        Π ← Π μₜ                                   product of the μ so far
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        d ← √(v / (1 − β₂ᵗ)) + ε
        θ ← θ − γ (1 − μₜ) / (1 − Π) · g / d − γ μₜ₊₁ / (1 − Π μₜ₊₁) · m / d

    The last line is Nesterov's look-ahead: the step uses next step's momentum coefficient on
    m plus the current gradient, each bias-corrected by its own product of μ. μ starts near
    β₁/2 and warms up toward β₁ as t grows. State: ``step`` (a float), ``mu_product`` (Π, a
    0-d tensor of the default dtype, as in PyTorch), ``exp_avg`` (m),
    ``exp_avg_sq`` (v).

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: learning rate γ.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε, added to the denominator.
        weight_decay: λ.
        momentum_decay: ψ, how fast μ warms up.
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
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "eps", "weight_decay", "momentum_decay")
        check_betas("NAdam", group["betas"])

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
            psi = group["momentum_decay"]
            for p, g in self._grads(group):
                xp = array_module(p._data)
                state = self._state_of(p, "exp_avg", "exp_avg_sq", mu_product=1.0)
                t = bump_step(state)
                if group["maximize"]:
                    g = -g
                # a complex θ steps as its view_as_real pair (PyTorch's): moments per part
                theta, g = real_view(p._data), real_view(g)
                g = decay_array(theta, g, lr, wd, group["decoupled_weight_decay"])
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
                prod_arr = state["mu_product"]._data
                prod_arr *= prod_arr.dtype.type(mu)  # Π ← Π μₜ in Π's own dtype, as PyTorch
                prod = float(prod_arr)
                m, v = real_view(state["exp_avg"]._data), real_view(state["exp_avg_sq"]._data)
                # m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²
                update_moments(m, v, g, beta1, beta2)
                d = xp.sqrt(v / (1 - beta2**t)) + eps
                theta += float(-lr * (1 - mu) / (1 - prod)) * (g / d)
                theta += float(-lr * mu_next / (1 - prod * mu_next)) * (m / d)
        return loss

    def _differentiable_step(self, group: dict[str, Any]) -> None:
        """``step()`` of ``differentiable=True``, as PyTorch's ``_single_tensor_nadam`` there: Tensor
        ops with grad mode on, the two step sizes 0-d tensors made from Π (so rounded in its dtype)."""
        lr, (beta1, beta2), eps = _to_scalar(group["lr"]), betas_of(group), group["eps"]
        psi = group["momentum_decay"]
        for p, g in differentiable_grads("NAdam", group):
            state = self._state_of(p, "exp_avg", "exp_avg_sq", mu_product=1.0)
            t = bump_step(state)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
            mu_product, exp_avg, exp_avg_sq = state["mu_product"], state["exp_avg"], state["exp_avg_sq"]
            mu_product.mul_(mu)
            exp_avg.lerp_(g, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            denom = exp_avg_sq.div(1 - beta2**t).sqrt().add(eps)
            p.addcdiv_(g * (-lr * (1.0 - mu) / (1.0 - mu_product)), denom)
            p.addcdiv_(exp_avg * (-lr * mu_next / (1.0 - mu_product * mu_next)), denom)
